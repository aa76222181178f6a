package alpmdb

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/treefiles"
)

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// openDB opens root's local database, its problems recorded.
func openDB(t *testing.T, root string) (*DB, *fsroot.Problems) {
	t.Helper()
	problems := &fsroot.Problems{}
	fs, err := fsroot.OpenContext(fsroot.WithProblems(context.Background(), problems), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return New(fs, ""), problems
}

// TestLookup: a local database as be_local.c writes it (desc's %NAME%,
// files' %FILES% with directories ending in '/', a gzip'ed mtree), under
// pacman.conf's DBPath. Unreadable or malformed parts are problems of the
// root, and what they would have said is not claimed.
func TestLookup(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	root := t.TempDir()
	treefiles.Write(t, root, map[string]string{
		"etc/pacman.conf":                  "[options]\nDBPath = /db/\n",
		"db/local/ALPM_DB_VERSION":         "9\n",
		"db/local/foo-bar-1.0-1/desc":      "%NAME%\nfoo-bar\n\n%VERSION%\n1.0-1\n",
		"db/local/foo-bar-1.0-1/files":     "%FILES%\nusr/\nusr/bin/\nusr/bin/tool\nusr/bin/other\n\n%BACKUP%\netc/x\tabc\n",
		"db/local/foo-bar-1.0-1/mtree":     gz("#mtree\n/set type=file\n./usr/bin/tool sha256digest=" + sum + "\n./usr/bin/other md5digest=" + strings.Repeat("0", 32) + "\n"),
		"db/local/nodesc-2-1/files":        "%FILES%\nopt/nodesc\n",
		"db/local/badtree-1-1/desc":        "%NAME%\nbadtree\n",
		"db/local/badtree-1-1/files":       "%FILES%\nopt/bad\n",
		"db/local/badtree-1-1/mtree":       "./opt/bad type=file sha256digest=" + sum + "\n/bogus\n",
		"db/local/long-1-1/files":          "%FILES%\nopt/before\n" + strings.Repeat("x", maxListLine+1) + "\nopt/after\n",
		"var/lib/pacman/local/x-1-1/files": "%FILES%\nopt/elsewhere\n",
	})
	db, problems := openDB(t, root)
	for _, c := range []struct {
		path, sum, want string
	}{
		{"/usr/bin/tool", sum, "{foo-bar false}"},
		{"/usr/bin/tool", strings.ToUpper(sum), "{foo-bar false}"},
		{"/usr/bin/tool", strings.Repeat("cd", 32), "{foo-bar true}"},
		{"/usr/bin/tool", "", "{foo-bar false}"},
		{"/usr/bin", sum, "{foo-bar false}"},
		{"/usr/bin/other", strings.Repeat("1", 32), "{foo-bar true}"},
		{"/opt/nodesc", sum, "{nodesc false}"},
		{"/opt/bad", strings.Repeat("cd", 32), "{badtree false}"},
		{"/opt/before", "", "{long false}"},
		{"/opt/after", "", "{ false}"},
		{"/opt/elsewhere", "", "{ false}"},
	} {
		got := fmt.Sprint(db.Lookup(c.path, func(alg string) string {
			if alg == "md5" && c.sum != "" {
				return c.sum[:32]
			}
			return c.sum
		}))
		if got != c.want {
			t.Errorf("%s with %q: %s, want %s", c.path, c.sum, got, c.want)
		}
	}
	want := "[{/db/local/long-1-1/files limit pacman database over pkgpersist's bounds: a line over 65536 bytes} " +
		"{/db/local/nodesc-2-1/mtree unverifiable pacman database: nodesc has no mtree: its files' checksums cannot be checked (pacman -Qkk: no mtree file)} " +
		"{/db/local/badtree-1-1/mtree io pacman database: mtree format error: can't parse line 2} " +
		"{/db/local/long-1-1/mtree unverifiable pacman database: long has no mtree: its files' checksums cannot be checked (pacman -Qkk: no mtree file)}]"
	if got := fmt.Sprint(problems.List()); got != want {
		t.Errorf("problems\n got %s\nwant %s", got, want)
	}
}

// TestLookupTypes: pacman -Qkk (src/pacman/check.c check_pkg_full)
// reports a file whose type on disk (lstat) is not its mtree type
// (check_file_type, "File type mismatch") and a symlink whose target is
// not the mtree's link= (check_file_link, "Symlink path mismatch"; the
// value's escapes decoded as libarchive's parse_escapes does).
func TestLookupTypes(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	mtree := "#mtree\n/set type=file\n" +
		"./usr/bin/tool sha256digest=" + sum + "\n" +
		"./usr/bin/same type=link link=tool\n" +
		"./usr/bin/repointed type=link link=tool\n" +
		"./usr/bin/spaced type=link link=a\\040b\n" +
		"./usr/bin/was-link type=link link=tool\n" +
		"./usr/bin/now-link sha256digest=" + sum + "\n" +
		"./usr/bin/now-dir sha256digest=" + sum + "\n" +
		"./usr/lib type=dir\n" +
		"./usr/share type=dir\n"
	root := t.TempDir()
	treefiles.Write(t, root, map[string]string{
		"var/lib/pacman/local/p-1-1/desc":  "%NAME%\np\n",
		"var/lib/pacman/local/p-1-1/files": "%FILES%\nusr/\nusr/bin/\nusr/bin/tool\nusr/bin/same\nusr/bin/repointed\nusr/bin/spaced\nusr/bin/was-link\nusr/bin/now-link\nusr/bin/now-dir\nusr/lib/\nusr/share/\n",
		"var/lib/pacman/local/p-1-1/mtree": gz(mtree),
		"usr/bin/tool":                     "x",
		"usr/bin/other":                    "x",
		"usr/bin/was-link":                 "x",
		"usr/bin/now-dir/f":                "x",
		"usr/lib/f":                        "x",
		"usr/share":                        "x",
	})
	for name, target := range map[string]string{"same": "tool", "repointed": "other", "spaced": "a b", "now-link": "tool"} {
		if err := os.Symlink(target, filepath.Join(root, "usr/bin", name)); err != nil {
			t.Fatal(err)
		}
	}
	db, problems := openDB(t, root)
	for p, want := range map[string]bool{
		"/usr/bin/tool": false, "/usr/bin/same": false, "/usr/bin/spaced": false, "/usr/lib": false,
		"/usr/bin/repointed": true, "/usr/bin/was-link": true, "/usr/bin/now-link": true, "/usr/bin/now-dir": true, "/usr/share": true,
	} {
		// the digest of what the path leads to: a symlink's target
		if got := db.Lookup(p, func(string) string { return sum }); got != (Owner{"p", want}) {
			t.Errorf("%s: %v, want modified %v", p, got, want)
		}
	}
	if ps := problems.List(); len(ps) > 0 {
		t.Errorf("problems %v", ps)
	}
}

// TestNoMtree: pacman -Qkk says "<pkg>: no mtree file" and checks
// nothing of a package without one (check_pkg_full); its files cannot be
// verified, which is recorded once per package, when a lookup needs the
// digests, and not claimed modified.
func TestNoMtree(t *testing.T) {
	files := map[string]string{
		"var/lib/pacman/local/bare-1-1/desc":   "%NAME%\nbare\n",
		"var/lib/pacman/local/bare-1-1/files":  "%FILES%\nusr/bin/a\nusr/bin/b\n",
		"var/lib/pacman/local/quiet-1-1/files": "%FILES%\nusr/bin/q\n",
	}
	for _, f := range []string{"a", "b", "q"} {
		files["usr/bin/"+f] = f
	}
	root := t.TempDir()
	treefiles.Write(t, root, files)
	db, problems := openDB(t, root)
	sum := func(string) string { return strings.Repeat("ab", 32) }
	for _, c := range []struct {
		path string
		sum  func(string) string
		want Owner
	}{
		{"/usr/bin/a", sum, Owner{"bare", false}},
		{"/usr/bin/b", sum, Owner{"bare", false}},
		{"/usr/bin/q", nil, Owner{"quiet", false}},
	} {
		if got := db.Lookup(c.path, c.sum); got != c.want {
			t.Errorf("%s: %v, want %v", c.path, got, c.want)
		}
	}
	want := "[{/var/lib/pacman/local/bare-1-1/mtree unverifiable pacman database: bare has no mtree: its files' checksums cannot be checked (pacman -Qkk: no mtree file)}]"
	if got := fmt.Sprint(problems.List()); got != want {
		t.Errorf("problems\n got %s\nwant %s", got, want)
	}
}
