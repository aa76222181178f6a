package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// writeDB makes a database with rpm's two tables, package 1's blob being
// blob and its file 0 having base name base.
func writeDB(t *testing.T, file, blob, base string) {
	t.Helper()
	db, err := sql.Open("sqlite3", file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)",
		"CREATE TABLE Basenames (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL)",
	} {
		must(t, exec(db, q))
	}
	must(t, exec(db, "INSERT INTO Packages (hnum, blob) VALUES (1, ?)", []byte(blob)))
	must(t, exec(db, "INSERT INTO Basenames VALUES (?, 1, 0)", base))
}

func exec(db *sql.DB, q string, args ...any) error {
	_, err := db.Exec(q, args...)
	return err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadsTheDescriptor: SQLite reads the file fsroot opened, not a file
// by its name. After the open the file is deleted and a decoy is put where
// /proc/self/fd/N now points in text ("... (deleted)"): SQLite's default
// VFS reads that link as a path and would open the decoy.
func TestReadsTheDescriptor(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "rpmdb.sqlite")
	writeDB(t, file, "opened", "x")
	r := fsroot.New(root)
	defer r.Close()
	f, err := r.OpenFile("/rpmdb.sqlite")
	must(t, err)
	defer f.Close()
	must(t, os.Remove(file))
	writeDB(t, file+" (deleted)", "decoy", "x")
	db, err := Open(f.Descriptor())
	must(t, err)
	defer db.Close()
	var got []string
	must(t, db.Each(context.Background(), func(num uint32, blob []byte, err error) error {
		got = append(got, string(blob))
		return err
	}))
	if len(got) != 1 || got[0] != "opened" {
		t.Errorf("read %q", got)
	}
	if refs, err := db.Basename(context.Background(), "x"); err != nil || len(refs) != 1 || refs[0] != (Ref{1, 0}) {
		t.Errorf("Basenames: %v %v", refs, err)
	}
	// no other name is opened through the descriptor VFS
	other, err := sql.Open("sqlite3", "file:"+file+"?vfs=pkgpersist-fd&mode=ro")
	must(t, err)
	defer other.Close()
	if err := other.Ping(); err == nil {
		t.Error("the descriptor VFS opened a database by name")
	}
}
