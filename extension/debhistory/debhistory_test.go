package debhistory

import (
	"reflect"
	"strings"
	"testing"
)

const history = `
Start-Date: 2024-05-01  10:00:01
Commandline: apt-get install -y hello ./local_1.0_all.deb
Requested-By: alice (1000)
Install: hello:amd64 (2.10-3), libfoo:amd64 (1.2, automatic), local:amd64 (1.0)
Upgrade: bash:amd64 (5.2.15-2, 5.2.15-2+b2)
End-Date: 2024-05-01  10:00:05

Start-Date: 2024-05-02  11:00:00
Commandline: apt-get remove hello
Remove: hello:amd64 (2.10-3)
End-Date: 2024-05-02  11:00:01
`

func TestParseAptHistory(t *testing.T) {
	var runs []AptRun
	if err := ParseAptHistory(strings.NewReader(history), nil, func(r AptRun) { runs = append(runs, r) }); err != nil {
		t.Fatal(err)
	}
	want := []AptChange{{"install", "hello", "amd64", "2.10-3"}, {"install", "libfoo", "amd64", "1.2"},
		{"install", "local", "amd64", "1.0"}, {"upgrade", "bash", "amd64", "5.2.15-2+b2"}}
	if len(runs) != 2 || !reflect.DeepEqual(runs[0].Changes, want) || runs[0].RequestedBy != "alice (1000)" ||
		runs[0].Commandline != "apt-get install -y hello ./local_1.0_all.deb" || runs[1].Changes != nil {
		t.Errorf("got %+v", runs)
	}
}

func TestParseDpkgLog(t *testing.T) {
	in := "2024-05-01 10:00:02 startup archives unpack\n2024-05-01 10:00:02 install panix:all <none> 1.0\n" +
		"2024-05-01 10:00:02 status unpacked panix:all 1.0\n2024-05-01 10:00:03 upgrade bash:amd64 5.2.15-2 5.2.15-2+b2\n"
	var got []DpkgAction
	if err := ParseDpkgLog(strings.NewReader(in), nil, func(a DpkgAction) { got = append(got, a) }); err != nil {
		t.Fatal(err)
	}
	want := []DpkgAction{{"2024-05-01 10:00:02", "install", "panix", "all", "<none>", "1.0", 2},
		{"2024-05-01 10:00:03", "upgrade", "bash", "amd64", "5.2.15-2", "5.2.15-2+b2", 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

func FuzzParseAptHistory(f *testing.F) {
	f.Add(history)
	f.Add("Install: a:b (1), (x\nUpgrade: c (1, 2, automatic)\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = ParseAptHistory(strings.NewReader(in), nil, func(r AptRun) {
			for _, c := range r.Changes {
				if c.Package == "" || r.Line < 1 {
					t.Fatalf("bad change %+v in %+v", c, r)
				}
			}
		})
	})
}

func FuzzParseDpkgLog(f *testing.F) {
	f.Add("2024-05-01 10:00:02 install panix:all <none> 1.0\n")
	f.Add("a b upgrade c d e\n\x00 install : x y\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = ParseDpkgLog(strings.NewReader(in), nil, func(a DpkgAction) {
			if a.Line < 1 || (a.Action != "install" && a.Action != "upgrade") {
				t.Fatalf("bad action %+v", a)
			}
		})
	})
}
