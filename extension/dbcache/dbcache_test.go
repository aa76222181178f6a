package dbcache_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/dbcache/dbcachetest"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// statement opens root for one statement of a run with cache c.
func statement(t *testing.T, c *dbcache.Cache, root string) (context.Context, *fsroot.Root, *fsroot.Problems) {
	return dbcachetest.Statement(t, c, root)
}

// TestKeptUntilChanged: a reading is kept for the next statement while
// its files are unchanged, read again once one changes, appears or goes;
// not kept while a file it read was just written (a write in the same
// clock tick would leave the same times); and read every time without a
// cache.
func TestKeptUntilChanged(t *testing.T) {
	root := t.TempDir()
	db := filepath.Join(root, "db")
	if err := os.WriteFile(db, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := dbcache.New()
	reads := 0
	get := func(ctx context.Context, fs *fsroot.Root) string {
		return dbcache.Get(ctx, fs, "db", func(r *dbcache.Reader) (string, bool) {
			reads++
			f, err := r.OpenFile("/db")
			if err != nil {
				return "", true
			}
			defer f.Close()
			b := make([]byte, 16)
			n, _ := f.Read(b)
			return string(b[:n]), true
		})
	}
	twice := func(want int) {
		t.Helper()
		for range 2 {
			ctx, fs, _ := statement(t, c, root)
			if got := get(ctx, fs); got != "one" {
				t.Fatalf("got %q", got)
			}
		}
		if reads != want {
			t.Errorf("%d readings, want %d", reads, want)
		}
	}
	twice(2) // just written: not kept
	time.Sleep(150 * time.Millisecond)
	twice(3)
	if err := os.WriteFile(db, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ctx, fs, _ := statement(t, c, root); get(ctx, fs) != "two" {
		t.Error("a changed file answered stale")
	}
	os.Remove(db)
	if ctx, fs, _ := statement(t, c, root); get(ctx, fs) != "" {
		t.Error("a removed file answered stale")
	}
	if err := os.WriteFile(db, []byte("three"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ctx, fs, _ := statement(t, c, root); get(ctx, fs) != "three" {
		t.Error("a file that appeared is not seen")
	}
	reads = 0
	for range 2 {
		ctx, fs, _ := statement(t, nil, root)
		get(ctx, fs)
	}
	if reads != 2 {
		t.Errorf("without a cache: %d readings for 2 statements", reads)
	}
}

// TestProblemsNotKept: a reading that met a problem is not kept, and
// each statement that reads it has the problem, as without a cache.
func TestProblemsNotKept(t *testing.T) {
	root := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(root, "db"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := dbcache.New()
	reads := 0
	for i := range 2 {
		ctx, fs, ps := statement(t, c, root)
		dbcache.Get(ctx, fs, "db", func(r *dbcache.Reader) (bool, bool) {
			reads++
			_, err := r.OpenFile("/db")
			return err == nil, true
		})
		if l := ps.List(); len(l) != 1 || l[0].Cause != fsroot.CauseSpecial {
			t.Errorf("statement %d: problems %+v", i, l)
		}
	}
	if reads != 2 {
		t.Errorf("%d readings of a file that could not be read, want 2", reads)
	}
}
