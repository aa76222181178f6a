package zypprepo

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/lines"
)

func parseString(s string) ([]Repo, error) {
	repos, _, err := Parse(lines.New(strings.NewReader(s), nil))
	return repos, err
}

// show renders repos as alias(enabled):key=scheme:path@line,...
func show(repos []Repo) string {
	var out []string
	for _, r := range repos {
		var us []string
		for _, u := range r.URLs {
			us = append(us, fmt.Sprintf("%s=%s:%s@%d", u.Key, u.Scheme, u.Path, u.Line))
		}
		out = append(out, fmt.Sprintf("%s(%v)@%d[%s]", r.Alias, r.Enabled, r.Line, strings.Join(us, ",")))
	}
	return strings.Join(out, " ")
}

// TestParse: the cases Debian's zypper 1.14.42 settled (a probe of
// `zypper ref` in the oracle's overlay, zypp.expected.md) and libzypp's
// source for the rest.
func TestParse(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// continuation lines are more baseurls; a garbage line after a
		// new header still belongs to the last URL key (oracle: pcarry ran)
		{"[r5]\nbaseurl=dir:///x\n plugin:pcont\n", "r5(true)@1[baseurl=dir:/x@2,baseurl=plugin:pcont@3]"},
		{"[r7]\nbaseurl=dir:///x\n[r8]\nplugin:pcarry\n", "r7(true)@1[baseurl=dir:/x@2] r8(true)@3[baseurl=plugin:pcarry@4]"},
		// enabled= empty is false; absent is true; last wins
		{"[a]\nenabled=\nbaseurl=plugin:x\n[b]\nbaseurl=plugin:y\n[c]\nenabled=0\nenabled=yes\n", "a(false)@1[baseurl=plugin:x@3] b(true)@4[baseurl=plugin:y@5] c(true)@6[]"},
		{"[a]\nenabled=0x10\n[b]\nenabled=  \n[c]\nenabled=On\n[d]\nenabled=-0\n", "a(true)@1[] b(false)@3[] c(true)@5[] d(false)@7[]"},
		// blanks (with commas) split, a comma alone does not
		{"[a]\nbaseurl=plugin:x , plugin:y,plugin:z\n", "a(true)@1[baseurl=plugin:x@2,baseurl=plugin:y,plugin:z@2]"},
		// sections come sorted; the path is decoded and cut at ; ? #
		{"[z]\n[a]\nbaseurl=PLUGIN:%2e%2e/commit/x;p?q#f\n", "a(true)@2[baseurl=plugin:../commit/x@3] z(true)@1[]"},
		{"[a]\nbaseurl=plugin://host/sub/deep\nmirrorlist=plugin:m\n", "a(true)@1[baseurl=plugin:/sub/deep@2,mirrorlist=plugin:m@3]"},
		// URL keys alone do not make a section a repository
		{"baseurl=plugin:x\n[a]\n", "a(true)@2[]"},
		{"name=x\nbaseurl=plugin:x\n", "(true)@1[baseurl=plugin:x@2]"},
		// comments and blank lines keep the continuation going
		{"[a]\nbaseurl=plugin:x\n# c\n\n plugin:y\nname=n\n", "a(true)@1[baseurl=plugin:x@2,baseurl=plugin:y@5]"},
		{"[a]\r\nenabled=1\r\n", "a(true)@1[]"}, // text after the last ] goes
		{"[]\nbaseurl=plugin:e\n", "(true)@1[baseurl=plugin:e@2]"},
		{"[a]b]\n", "a]b(true)@1[]"},
	} {
		repos, err := parseString(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := show(repos); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

// TestParseErrors: what throws in libzypp, which stops zypper (oracle:
// "Invalid path name component" for a CR at the end of a baseurl).
func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		line int
		msg  string
	}{
		{"[a]\nbaseurl=plugin:x\r\n", 2, "Invalid path name component"},
		{"[a]\nname\n", 2, "garbage"},
		{"[a\n", 1, "garbage"},
		{"[a]\nhttp://x=y\n", 2, "garbage"},
		{"[a]\nbaseurl=foo/bar\n", 2, "scheme is a required"},
		{"[a]\nbaseurl=1x:y\n", 2, "Invalid Url scheme"},
		{"[a]\nbaseurl=plugin:a\n c|d\n", 3, "scheme is a required"},
	} {
		_, err := parseString(c.in)
		var e *Error
		if !errors.As(err, &e) || e.Line != c.line || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%q: %v, want line %d %q", c.in, err, c.line, c.msg)
		}
	}
}

func TestPathNUL(t *testing.T) {
	repos, err := parseString("[a]\nbaseurl=plugin:x%00y\n")
	if err != nil || len(repos) != 1 || repos[0].URLs[0].PathErr == "" {
		t.Fatalf("%v %+v", err, repos)
	}
}

func TestParseServices(t *testing.T) {
	repos, err := ParseServices(lines.New(strings.NewReader("[s]\nurl=plugin:a\nurl=plugin:svc\nenabled=0\n[t]\nurl=\n"), nil))
	if got := show(repos); err != nil || got != "s(false)@1[url=plugin:svc@3] t(true)@5[]" {
		t.Fatalf("%v %s", err, got)
	}
	if _, err := ParseServices(lines.New(strings.NewReader("[s]\nbaseurl=plugin:a\n plugin:b\n"), nil)); err == nil {
		t.Fatal("a continuation line in a service file: want garbage")
	}
}

// FuzzParse: any input parses or fails with a line inside the input;
// repositories come sorted and unique, URLs carry a lower-case scheme
// and a line of their own.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"[a]\nbaseurl=plugin:x , plugin:y\n plugin:z\n", "[r]\nenabled=0\nbaseurl=plugin:%2e%2e/c;p?q#f\n", "x=1\n[a]b]\nmirrorlist=plugin://h/p\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, services := range []bool{false, true} {
			repos, _, err := parse(lines.New(strings.NewReader(s), nil), services)
			nlines := strings.Count(s, "\n") + 1
			var e *Error
			if err != nil {
				if !errors.As(err, &e) || e.Line < 1 || e.Line > nlines {
					t.Fatalf("error %v outside %d lines", err, nlines)
				}
				continue
			}
			if !sort.SliceIsSorted(repos, func(i, j int) bool { return repos[i].Alias < repos[j].Alias }) {
				t.Fatal("not sorted")
			}
			for i, r := range repos {
				if i > 0 && repos[i-1].Alias == r.Alias {
					t.Fatalf("alias %q twice", r.Alias)
				}
				for _, u := range r.URLs {
					if u.Scheme != strings.ToLower(u.Scheme) || u.Scheme == "" || u.Line < 1 || u.Line > nlines {
						t.Fatalf("url %+v", u)
					}
				}
			}
		}
	})
}
