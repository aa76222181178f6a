package deb822

import (
	"strings"
	"testing"
)

// FuzzEach: any input ends without a panic, every stanza has a line, and
// no value outgrows MaxValue.
func FuzzEach(f *testing.F) {
	f.Add("Package: a\nVersion: 1\n\nPackage: b\nConffiles:\n /etc/x 1\n")
	f.Add("Status: install ok installed\r\n\r\n \n\t\nx:\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = Each(strings.NewReader(in), []string{"Package", "Version", "Conffiles", "Status"}, nil, func(s Stanza) {
			if s.Line <= 0 {
				t.Fatalf("stanza without a line: %+v", s)
			}
			for k, v := range s.Fields {
				if len(v) > MaxValue {
					t.Fatalf("%s: %d bytes", k, len(v))
				}
			}
		})
	})
}
