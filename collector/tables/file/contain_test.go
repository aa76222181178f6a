package file

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/extension/fsroot/fsroottest"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// contained is a root beside a sibling directory outside it.
func contained(t *testing.T) (root string, rootIno string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	for _, d := range []string{"root/etc/apt", "outside-sibling"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)
}

func rows(t *testing.T, root, sql string) [][]string {
	t.Helper()
	e, err := engine.New([]*table.Table{Table()}, root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.Rows
}

// TestDotDotStaysInTheRoot: ".." at the top of the root is the root, as
// "/.." is "/" to osquery on a host: the row keeps the path asked for (so
// that it matches the constraint) and describes the root itself. Nothing
// outside the root is ever described or listed.
func TestDotDotStaysInTheRoot(t *testing.T) {
	root, rootIno := contained(t)
	for _, p := range []string{"/..", "..", "/etc/../..", "/../..", "/etc/apt/../../.."} {
		got := rows(t, root, "SELECT path, inode, type FROM file WHERE path = '"+p+"'")
		if len(got) != 1 || got[0][0] != p || got[0][1] != rootIno || got[0][2] != "directory" {
			t.Errorf("path = %q: %q, want the root (inode %s)", p, got, rootIno)
		}
	}
	for _, where := range []string{
		"directory = '/..'", "directory = '..'", "directory = '/etc/../..'",
		"path LIKE '/../%'", "path LIKE '/etc/../../%'", "path LIKE '/../%%'",
		"directory LIKE '/../%'", "path LIKE '/%/../../%'",
	} {
		for _, r := range rows(t, root, "SELECT path FROM file WHERE "+where) {
			if filepath.Base(r[0]) == "outside-sibling" || filepath.Base(filepath.Clean(r[0])) == "root" {
				t.Errorf("%s: %q is outside the root", where, r[0])
			}
		}
	}
	got := rows(t, root, "SELECT path FROM file WHERE directory = '/..'")
	if len(got) != 1 || got[0][0] != "/etc/" && got[0][0] != "/etc" {
		t.Errorf("directory = '/..': %q, want the root's /etc", got)
	}
}

// TestSwapRace: while /d flips between a directory of the root and a
// symlink out of it, no row the table returns through /d describes the
// outside.
func TestSwapRace(t *testing.T) {
	s := fsroottest.NewSwap(t)
	e, err := engine.New([]*table.Table{Table()}, s.Root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var seen int
	fsroottest.Loop(t, func(i int) {
		res, err := e.Query(context.Background(), "SELECT path, inode, size, type FROM file WHERE path IN ('/d/f', '/d', '/d/sub/..') OR directory = '/d' OR path LIKE '/d/%'")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			ino, _ := strconv.ParseUint(r[1], 10, 64)
			if s.EscapedIno(ino) || filepath.Base(r[0]) == fsroottest.DecoyName || r[0] == "/d/f" && r[2] != strconv.Itoa(len(fsroottest.Inside)) {
				t.Fatalf("iteration %d: %q describes the outside", i, r)
			}
			if r[0] == "/d/f" {
				seen++
			}
		}
	})
	if seen == 0 {
		t.Fatal("the race never let /d/f through: the test proves nothing")
	}
	t.Logf("/d/f described %d times, always inside", seen)
}
