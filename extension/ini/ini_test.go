package ini

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/pkgpersist/pkgpersist/test/dnforacle"
)

var cases = []string{
	"[main]\nenabled=1\n",
	"[main]\nenabled = \"1\"\nx = 'a'\ny=\"a\" b\nz = \"a\n w = 1\n  cont\n[two] # c\nk=v ; not comment\n",
	"k=v\n",
	"[a]\n[a]\nk=1\n[b]\nk=2\n[a]\nk=3\n",
	"[main]\n =x\n",
	"[main]\n=x\n",
	"[main]\nnoequals\n",
	"[main\n",
	"[]\n",
	"[main] junk\n",
	"[main] ; comment\n",
	"\xef\xbb\xbf[main]\nk=v\n",
	"[main]\r\nk = v \r\nk2=\r\n",
	"# comment\n; comment\n[main]\n  # indented is a continuation\n",
	"[main]\nk=v\n\n  continued after blank\n",
	"[main]\nk=\"\"\nq='\nr=\"'\n",
	"[main]\nk\t=\tv\t\n",
	"[ main ]\nk=v\n",
	"[main]\nk=v=w\n",
	"",
	"\n\n",
	"[main]\nk=v",
}

var (
	oracleOnce sync.Once
	oracle     *dnforacle.INI
)

func libdnf(t testing.TB) *dnforacle.INI {
	oracleOnce.Do(func() { oracle = dnforacle.StartINI(t) })
	if oracle == nil {
		t.Skip("no libdnf")
	}
	return oracle
}

// compare parses data here and with libdnf and fails on any difference.
func compare(t testing.TB, data []byte) {
	t.Helper()
	want, wantErr := libdnf(t).Parse(data)
	got, err := Parse(data)
	var pe *dnforacle.ParseError
	if wantErr != nil && !errors.As(wantErr, &pe) {
		t.Fatal(wantErr)
	}
	if (wantErr != nil) != (err != nil) {
		t.Fatalf("%q: libdnf error %v, ours %v", data, wantErr, err)
	}
	if err != nil {
		// libdnf says "... at line N": the same line
		if !strings.Contains(wantErr.Error(), fmt.Sprintf("at line %d", err.(*Error).Line)) {
			t.Fatalf("%q: libdnf %v, ours %v", data, wantErr, err)
		}
		return
	}
	var mine []dnforacle.Section
	for _, s := range got.Sections {
		sec := dnforacle.Section{Name: s.Name}
		for _, k := range s.Keys {
			sec.Keys = append(sec.Keys, [2]string{k.Name, k.Value})
		}
		mine = append(mine, sec)
	}
	norm := func(s []dnforacle.Section) []dnforacle.Section {
		for i := range s {
			if s[i].Keys == nil {
				s[i].Keys = [][2]string{}
			}
		}
		if s == nil {
			return []dnforacle.Section{}
		}
		return s
	}
	if !reflect.DeepEqual(norm(mine), norm(want)) {
		t.Fatalf("%q:\nlibdnf: %v\nours:   %v", data, want, mine)
	}
}

func TestAgainstLibdnf(t *testing.T) {
	for _, c := range cases {
		compare(t, []byte(c))
	}
}

func FuzzAgainstLibdnf(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// the Python bindings cannot hand back keys that are not UTF-8;
		// the parser works on bytes, so nothing is lost by passing them
		if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
			t.Skip()
		}
		compare(t, data)
	})
}

func TestBoolAndList(t *testing.T) {
	for v, want := range map[string][2]bool{"1": {true, true}, "Yes": {true, true}, "ON": {true, true}, "off": {false, true}, "False": {false, true}, "2": {false, false}, "": {false, false}, "enable": {false, false}} {
		b, ok := Bool(v)
		if b != want[0] || ok != want[1] {
			t.Errorf("Bool(%q) = %v %v", v, b, ok)
		}
	}
	for v, want := range map[string][]string{"a b": {"a", "b"}, "a,b": {"a", "b"}, "a , b": {"a", "b"}, " a,,b ": {"a", "", "b"}, "a\nb": {"a", "b"}, "a\tb": {"a\tb"}, "": nil} {
		if got := List(v); !reflect.DeepEqual(got, want) {
			t.Errorf("List(%q) = %q, want %q", v, got, want)
		}
	}
}
