package rpmdb

import (
	"context"
	"database/sql"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// header encodes an rpm header blob (the layout ParseHeader reads): a
// package name owning the files dir+base.
func header(name, dir string, bases ...string) []byte {
	type ent struct{ tag, typ, off, count int32 }
	var store []byte
	var ents []ent
	str := func(tag, typ int32, ss ...string) {
		ents = append(ents, ent{tag, typ, int32(len(store)), int32(len(ss))})
		for _, s := range ss {
			store = append(append(store, s...), 0)
		}
	}
	str(TagName, 6, name)
	str(TagBaseNames, 8, bases...)
	str(TagDirNames, 8, dir)
	for len(store)%4 != 0 {
		store = append(store, 0)
	}
	ents = append(ents, ent{TagDirIndexes, 4, int32(len(store)), int32(len(bases))})
	store = append(store, make([]byte, 4*len(bases))...)
	out := binary.BigEndian.AppendUint32(nil, uint32(len(ents)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(store)))
	for _, e := range ents {
		for _, v := range []int32{e.tag, e.typ, e.off, e.count} {
			out = binary.BigEndian.AppendUint32(out, uint32(v))
		}
	}
	return append(out, store...)
}

// writeDB makes an rpm sqlite database (rpm's schema for the two tables
// read here) in which pkg owns dir+base.
func writeDB(t *testing.T, file, pkg, dir, base string) {
	t.Helper()
	// built under a plain name, then renamed: file may hold URI syntax
	tmp := filepath.Join(t.TempDir(), "db.sqlite")
	defer func() { must(t, os.Rename(tmp, file)) }()
	db, err := sql.Open("sqlite3", tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)",
		"CREATE TABLE Basenames (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("INSERT INTO Packages (hnum, blob) VALUES (1, ?)", header(pkg, dir, base)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO Basenames VALUES (?, 1, 0)", base); err != nil {
		t.Fatal(err)
	}
}

// outsideFiles lists every file under base except those under root.
func outsideFiles(t *testing.T, base, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if p == root && d != nil && d.IsDir() {
			return filepath.SkipDir
		}
		out[p] = true
		return nil
	})
	return out
}

// hostileRoot is a root whose rpmdb.sqlite is a symlink to a name holding
// URI syntax, a file of the root by that literal name, and beside the
// root a decoy database that says "evil" owns /etc/x. It returns the root
// and the files outside it.
func hostileRoot(t *testing.T, target string, inside func(file string)) (root string, outside func() map[string]bool) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	must(t, os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "etc/x"), []byte("x"), 0o644))
	writeDB(t, filepath.Join(base, "decoy.sqlite"), "evil", "/etc/", "x")
	inside(filepath.Join(root, strings.TrimPrefix(target, "/")))
	must(t, os.Symlink(target, filepath.Join(root, "var/lib/rpm/rpmdb.sqlite")))
	return root, func() map[string]bool { return outsideFiles(t, base, root) }
}

// hostileTargets: %2f decodes to "/" in an SQLite URI (root/../decoy), '#'
// ends the URI and so drops "mode=ro" (read-write-create), a second '?'
// adds parameters.
var hostileTargets = []string{
	"/..%2fdecoy.sqlite",
	"/..%2fcreated.sqlite#",
	"/..%2fcreated.sqlite?mode=rwc&x=",
	"/..%2fdecoy.sqlite?immutable=0#",
}

// TestHostileDatabaseName: an image's rpmdb.sqlite that links to such a
// name is read as the file of the root by that name, never as the decoy
// outside, and nothing is created anywhere.
func TestHostileDatabaseName(t *testing.T) {
	for i, target := range hostileTargets {
		// the test's own directory must not hold URI syntax
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			root, outside := hostileRoot(t, target, func(file string) { writeDB(t, file, "inside-root", "/etc/", "x") })
			before := outside()
			problems := &fsroot.Problems{}
			db := New(context.Background(), withProblems(t, root, problems))
			o := db.Lookup("/etc/x", func(int32) string { return "x" })
			db.Close()
			if o.Package != "inside-root" {
				t.Errorf("owner %q, want the root's own database's inside-root", o.Package)
			}
			for p := range outside() {
				if !before[p] {
					t.Errorf("created %s outside the root", p)
				}
			}
			if ps := problems.List(); len(ps) != 0 {
				t.Errorf("problems %+v", ps)
			}
		})
	}
}

// TestUnreadableDatabase: a database that cannot be read is a problem with
// the reason, and no package is claimed.
func TestUnreadableDatabase(t *testing.T) {
	root, outside := hostileRoot(t, hostileTargets[1], func(file string) {
		must(t, os.WriteFile(file, []byte("not a database, and inside the root"), 0o644))
	})
	before := outside()
	problems := &fsroot.Problems{}
	db := New(context.Background(), withProblems(t, root, problems))
	defer db.Close()
	if o := db.Lookup("/etc/x", func(int32) string { return "x" }); o != (Owner{}) {
		t.Errorf("owner %+v", o)
	}
	ps := problems.List()
	if len(ps) != 1 || ps[0].Path != "/var/lib/rpm/rpmdb.sqlite" || ps[0].Cause != fsroot.CauseIO || !strings.Contains(ps[0].Detail, "not a database") {
		t.Errorf("problems %+v, want the unreadable database with its reason", ps)
	}
	for p := range outside() {
		if !before[p] {
			t.Errorf("created %s outside the root", p)
		}
	}
}

// withProblems opens root, recording its problems in ps, until the test
// ends.
func withProblems(t *testing.T, root string, ps *fsroot.Problems) *fsroot.Root {
	t.Helper()
	r, err := fsroot.OpenContext(fsroot.WithProblems(context.Background(), ps), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestUnreadLog: a write-ahead log with transactions the immutable read
// does not see is a problem; rpm's empty one is not.
func TestUnreadLog(t *testing.T) {
	for _, size := range []int{0, 4096} {
		root := t.TempDir()
		must(t, os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755))
		writeDB(t, filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"), "pkg", "/etc/", "x")
		must(t, os.WriteFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite-wal"), make([]byte, size), 0o644))
		problems := &fsroot.Problems{}
		db := New(context.Background(), withProblems(t, root, problems))
		if o := db.Lookup("/etc/x", func(int32) string { return "" }); o.Package != "pkg" {
			t.Errorf("owner %+v", o)
		}
		db.Close()
		ps := problems.List()
		if size == 0 && len(ps) != 0 || size > 0 && (len(ps) != 1 || !strings.Contains(ps[0].Detail, "write-ahead log (4096 bytes)")) {
			t.Errorf("log of %d bytes: problems %+v", size, ps)
		}
	}
}
