package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNewDatabaseIsPrivate: a new database and its -wal and -shm files
// are 0600 whatever the umask, since they hold every result and the node
// key hashes.
func TestNewDatabaseIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run(t, s, host("a", rows("x")))
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), m)
		}
	}
	if w := s.Warnings(); len(w) != 0 {
		t.Errorf("warnings on a new database: %q", w)
	}
}

// TestLooseDatabaseKeptAndWarned: an existing database others can read
// keeps its mode (the operator's choice) and Open says so.
func TestLooseDatabaseKeptAndWarned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.BeginRun(context.Background(), Run{}, nil); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %04o", fi.Mode().Perm())
	}
	if w := s.Warnings(); len(w) != 1 || !strings.Contains(w[0], "0640") || !strings.Contains(w[0], "chmod 600") {
		t.Errorf("warnings: %q", w)
	}
}
