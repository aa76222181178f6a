package fimpaths

import (
	"strings"
	"testing"
)

func TestFromSQL(t *testing.T) {
	sqls := []string{
		"SELECT * FROM file WHERE path LIKE '/a/b/%' OR path = '/c/d.conf' OR path LIKE '/x/y%z/%%'",
		"SELECT * FROM file_events WHERE path LIKE '/not/watched/%'",
		"SELECT f.path FROM users u JOIN file f ON f.path LIKE '/a/b/%'",
	}
	if got, want := strings.Join(FromSQL(sqls), " "), "/a/b/%% /c/d.conf /x/y%z/%%"; got != want {
		t.Errorf("FromSQL = %q, want %q", got, want)
	}
}

func TestMatch(t *testing.T) {
	set, err := NewSet([]string{"/etc/apt/apt.conf.d/%%", "/usr/lib/python%/site-packages/dnf-plugins/%%", "/etc/dpkg/dpkg.cfg", "/x/a%b%c"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"/etc/apt/apt.conf.d":                                             true, // the directory itself
		"/etc/apt/apt.conf.d/99x":                                         true,
		"/etc/apt/apt.conf.d/sub/deeper/x":                                true,
		"/etc/apt/apt.conf.dx/99x":                                        false,
		"/etc/apt/apt.conf":                                               false,
		"/etc/apt":                                                        false,
		"/usr/lib/python3.13/site-packages/dnf-plugins/x.py":              true,
		"/usr/lib/python/site-packages/dnf-plugins/x.py":                  true,  // % matches the empty run, as osquery's glob *
		"/usr/lib/python3/x/site-packages/dnf-plugins/x.py":               false, // % stays in one component
		"/usr/lib/python3.13/site-packages/other/x.py":                    false,
		"/usr/lib/python3.13/site-packages/dnf-plugins/__pycache__/x.pyc": true,
		"/etc/dpkg/dpkg.cfg":                                              true,
		"/etc/dpkg/dpkg.cfg.d/x":                                          false,
		"/etc/dpkg/dpkg.cfg/x":                                            false,
		"/x/abc":                                                          true,
		"/x/a--b--c":                                                      true,
		"/x/acb":                                                          false,
		"/x/abcd":                                                         false,
	} {
		if got := set.Match(name); got != want {
			t.Errorf("Match(%q) = %v, want %v", name, got, want)
		}
	}
	for dir, want := range map[string]bool{
		"/": true, "/etc": true, "/etc/apt": true, "/etc/apt/apt.conf.d/sub": true, "/etc/dpkg": true,
		"/usr/lib/python3.13": true, "/usr/lib/python3.13/site-packages": true, "/var": false,
		"/usr/lib/x86_64-linux-gnu": false, "/etc/dpkg/dpkg.cfg": false, "/etc/ssh": false,
	} {
		if got := set.Prefix(dir); got != want {
			t.Errorf("Prefix(%q) = %v, want %v", dir, got, want)
		}
	}
	if got := set[1].Fixed(); got != "/usr/lib" {
		t.Errorf("Fixed = %q", got)
	}
}

func TestBuiltin(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(ps)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/etc/apt/apt.conf.d/99x", "/etc/dpkg/dpkg.cfg", "/usr/lib/python3.13/site-packages/dnf-plugins/x.py"} {
		if !set.Match(name) {
			t.Errorf("built-in paths %q miss %s", ps, name)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, p := range []string{"etc/x", "/a/%%/b"} {
		if _, err := Parse(p); err == nil {
			t.Errorf("Parse(%q) accepted", p)
		}
	}
}
