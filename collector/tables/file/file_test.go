package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// tree makes a small root:
//
//	/etc/apt/apt.conf.d/{10a.conf, 20b.conf, .hidden.conf}
//	/etc/apt/sources.list
//	/etc/apt/deep/one/two/three.txt
//	/etc/apt/link-to-deep -> deep (a symlink to a directory)
//	/etc/apt/dangling -> nowhere
//	/usr/lib/python3.11/site-packages/dnf-plugins/p.py
//	/usr/lib/python3.12/site-packages/dnf-plugins/q.py
func tree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range []string{
		"etc/apt/apt.conf.d/10a.conf", "etc/apt/apt.conf.d/20b.conf", "etc/apt/apt.conf.d/.hidden.conf",
		"etc/apt/sources.list", "etc/apt/deep/one/two/three.txt",
		"usr/lib/python3.11/site-packages/dnf-plugins/p.py", "usr/lib/python3.12/site-packages/dnf-plugins/q.py",
	} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("deep", filepath.Join(root, "etc/apt/link-to-deep")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(root, "etc/apt/dangling")); err != nil {
		t.Fatal(err)
	}
	return root
}

func query(t *testing.T, root, where string) []string {
	t.Helper()
	e, err := engine.New([]*table.Table{Table()}, root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Query(context.Background(), "SELECT path FROM file WHERE "+where)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var out []string
	for _, r := range res.Rows {
		out = append(out, r[0])
	}
	sort.Strings(out)
	return out
}

// TestPatterns follows osquery's documented pattern rules (docs/wiki
// deployment/file-integrity-monitoring.md, "Matching wildcard rules": '%'
// matches all files and folders at one level, '%%' all files and folders
// recursively, and only at the end) and its implementation
// (filesystem.cpp: '%' -> glob '*', GLOB_MARK for directories; glob does
// not match dotfiles with '*').
func TestPatterns(t *testing.T) {
	root := tree(t)
	cases := []struct {
		where string
		want  []string
	}{
		{"path = '/etc/apt/sources.list'", []string{"/etc/apt/sources.list"}},
		{"path = '/etc/apt/missing'", nil},
		{"path LIKE '/etc/apt/apt.conf.d/%'", []string{"/etc/apt/apt.conf.d/10a.conf", "/etc/apt/apt.conf.d/20b.conf"}},
		{"path LIKE '/etc/apt/apt.conf.d/%.conf'", []string{"/etc/apt/apt.conf.d/10a.conf", "/etc/apt/apt.conf.d/20b.conf"}},
		{"path LIKE '/etc/apt/apt.conf.d/.%'", []string{"/etc/apt/apt.conf.d/.hidden.conf"}},
		{"path LIKE '/etc/apt/%'", []string{"/etc/apt/apt.conf.d/", "/etc/apt/dangling", "/etc/apt/deep/", "/etc/apt/link-to-deep/", "/etc/apt/sources.list"}},
		{"path LIKE '/etc/apt/deep/%%'", []string{"/etc/apt/deep/one/", "/etc/apt/deep/one/two/", "/etc/apt/deep/one/two/three.txt"}},
		{"path LIKE '/usr/lib/python%/site-packages/dnf-plugins/%'", []string{"/usr/lib/python3.11/site-packages/dnf-plugins/p.py", "/usr/lib/python3.12/site-packages/dnf-plugins/q.py"}},
		{"path LIKE '/etc/apt/apt.conf.d/1%' OR path LIKE '/usr/lib/python3.12/%%'", []string{"/etc/apt/apt.conf.d/10a.conf", "/usr/lib/python3.12/site-packages/", "/usr/lib/python3.12/site-packages/dnf-plugins/", "/usr/lib/python3.12/site-packages/dnf-plugins/q.py"}},
		// LIKE is case-insensitive in SQLite, the expansion is not
		{"path LIKE '/ETC/apt/sources.list'", nil},
		{"directory = '/etc/apt/apt.conf.d'", []string{"/etc/apt/apt.conf.d/10a.conf", "/etc/apt/apt.conf.d/20b.conf"}},
		{"directory LIKE '/etc/apt/deep/%'", []string{"/etc/apt/deep/one/two/"}},
	}
	for _, c := range cases {
		if got := query(t, root, c.where); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", c.where, got, c.want)
		}
	}
}

func TestColumns(t *testing.T) {
	root := tree(t)
	e, err := engine.New([]*table.Table{Table()}, root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Query(context.Background(), "SELECT path, filename, directory, type, symlink, size FROM file WHERE path IN ('/etc/apt/link-to-deep', '/etc/apt/dangling', '/etc/apt/sources.list', '/etc/apt/deep/')")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res.Rows {
		got[r[0]] = strings.Join(r[1:], "|")
	}
	want := map[string]string{
		"/etc/apt/link-to-deep": "link-to-deep|/etc/apt|directory|1|4096",
		"/etc/apt/dangling":     "dangling|/etc/apt|symlink|1|7",
		"/etc/apt/sources.list": "sources.list|/etc/apt|regular|0|1",
		"/etc/apt/deep/":        ".|/etc/apt/deep|directory|0|4096",
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
}

func TestRequiredConstraint(t *testing.T) {
	e, err := engine.New([]*table.Table{Table()}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Query(context.Background(), "SELECT * FROM file"); err == nil || !strings.Contains(err.Error(), "file: a constraint on path or directory is required") {
		t.Fatalf("err = %v", err)
	}
}

// TestHugeDirectory: a directory of 100,000 entries is listed whole.
func TestHugeDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "big")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100_000; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%06d", i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if got := query(t, root, "path LIKE '/big/%'"); len(got) != 100_000 {
		t.Fatalf("%d paths", len(got))
	}
}
