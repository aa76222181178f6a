package dpkgdb

import (
	"strings"
	"testing"
)

// FuzzParseTriggers: any file ends without a panic; every directive read
// is a known kind with a legal name, on a line that exists.
func FuzzParseTriggers(f *testing.F) {
	for _, c := range triggerCases {
		f.Add(c.file)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ds, perr, err := ParseTriggers(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		n := strings.Count(in, "\n") + 1
		for _, d := range ds {
			if !directives[d.Kind] || illegalTrigger([]byte(d.Name)) != "" || d.Line < 1 || d.Line > n {
				t.Fatalf("bad directive %+v", d)
			}
		}
		if perr != nil && (perr.Line < 1 || perr.Line > n) {
			t.Fatalf("error on line %d of %d", perr.Line, n)
		}
	})
}

// FuzzParseStatus: any status file ends without a panic, and every
// package has a name and the line of its stanza.
func FuzzParseStatus(f *testing.F) {
	f.Add("Package: a\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nVersion: 1\nConffiles:\n /etc/a 0123\n\nPackage: b\nStatus: deinstall ok config-files\n")
	f.Add("Package:\n\nPackage: x\r\nStatus: a b\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = ParseStatus(strings.NewReader(in), nil, func(p Package) {
			if p.Name == "" || p.Line < 1 {
				t.Fatalf("bad package %+v", p)
			}
			if (p.State == "") != (p.Want == "") {
				t.Fatalf("half a status: %+v", p)
			}
		})
	})
}
