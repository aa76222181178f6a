package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestLogRowsAreSeen: rows committed to the write-ahead log and not yet
// checkpointed into the database (DNF leaves history.sqlite-wal so) are
// read with OpenWithLog, and only with it; neither file is changed.
func TestLogRowsAreSeen(t *testing.T) {
	src, root := t.TempDir(), t.TempDir()
	w, err := sql.Open("sqlite3", filepath.Join(src, "h.sqlite")+"?_journal_mode=WAL")
	must(t, err)
	defer w.Close()
	w.SetMaxOpenConns(1)
	must(t, exec(w, "PRAGMA wal_autocheckpoint=0"))
	must(t, exec(w, "CREATE TABLE t (v TEXT)"))
	must(t, exec(w, "PRAGMA wal_checkpoint(TRUNCATE)"))
	for i := 0; i < 300; i++ {
		must(t, exec(w, "INSERT INTO t VALUES (?)", fmt.Sprint("row ", i)))
	}
	// the files as a writer leaves them, the log not checkpointed
	for _, n := range []string{"h.sqlite", "h.sqlite-wal"} {
		b, err := os.ReadFile(filepath.Join(src, n))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(root, n), b, 0o444))
	}
	before := digests(t, root)
	r := fsroot.New(root)
	defer r.Close()
	f, err := r.OpenFile("/h.sqlite")
	must(t, err)
	defer f.Close()
	wal, err := r.OpenFile("/h.sqlite-wal")
	must(t, err)
	defer wal.Close()

	count := func(db *sql.DB) (n int) {
		t.Helper()
		must(t, db.QueryRow("SELECT count(*) FROM t").Scan(&n))
		return n
	}
	db, err := OpenWithLog(f.Descriptor(), wal.Descriptor())
	must(t, err)
	if n := count(db); n != 300 {
		t.Errorf("with the log: %d rows, want 300", n)
	}
	must(t, db.Close())
	db, err = OpenFile(f.Descriptor())
	must(t, err)
	if n := count(db); n != 0 {
		t.Errorf("without the log: %d rows, want 0 (the test's log must hold the rows)", n)
	}
	must(t, db.Close())
	if after := digests(t, root); after != before {
		t.Errorf("the root changed: %s, was %s", after, before)
	}
}

// digests lists dir's files with their sizes and contents' hashes.
func digests(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		must(t, err)
		out = append(out, fmt.Sprintf("%s %x", e.Name(), sha256.Sum256(b)))
	}
	return strings.Join(out, ", ")
}
