package rpmmacro

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzAll: any input parses without panic, every accepted definition is
// one rpm accepts (a valid name, not a built-in, a body), lines only grow,
// and the values carry no NUL (rpm's C strings end there).
func FuzzAll(f *testing.F) {
	f.Add([]byte("%a b\n%c(o:) \\\n d\n%e %{f\n}\n%g %(h\n)\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		defs, err := All(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		prev := 0
		for _, d := range defs {
			if d.Line <= prev || d.EndLine < d.Line {
				t.Fatalf("lines go back: %+v after %d", d, prev)
			}
			prev = d.EndLine
			if d.Err != "" {
				continue
			}
			if !validName(d.Name) || Builtins[d.Name] || d.Body == "" {
				t.Fatalf("accepted what rpm rejects: %+v", d)
			}
			if strings.ContainsRune(d.Body, 0) || strings.ContainsRune(d.Opts, 0) {
				t.Fatalf("NUL in a value: %+v", d)
			}
		}
		if n := bytes.Count(data, []byte("\n")) + 1; prev > n+len(data)/(BufSize-1) {
			t.Fatalf("line %d past the %d lines of the input", prev, n)
		}
	})
}
