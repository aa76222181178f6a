package cli

import (
	"encoding/csv"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt/hunttest"
	"github.com/pkgpersist/pkgpersist/queries"
)

// copyRoot copies a fixture root to a temporary directory the test may
// change.
func copyRoot(t *testing.T, src string) string {
	t.Helper()
	root := t.TempDir()
	if out, err := exec.Command("cp", "-a", src+"/.", root).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return root
}

// TestTouchedAccessTimesAreNotChanges: setting the access time of every
// file of a root between two hunts (touch -a: the status-change time
// moves too) changes nothing in diff. The same hunts with the query's
// volatile header removed do show changes: the times did change.
func TestTouchedAccessTimesAreNotChanges(t *testing.T) {
	if n := touchedDiff(t, ""); n != 0 {
		t.Fatalf("diff after touching access times: %d rows", n)
	}
	data, err := fs.ReadFile(queries.FS, "elastic-pm-files.sql")
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if !strings.HasPrefix(l, "-- volatile:") {
			kept = append(kept, l)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "elastic-pm-files.sql"), []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := touchedDiff(t, dir); n == 0 {
		t.Fatal("without volatile columns touching access times changed nothing: the test proves nothing")
	}
}

// touchedDiff hunts a copy of the planted root (with the query files of
// dir, "" for the built-in ones), sets every file's access time, hunts
// again and returns the number of rows diff lists for the second run.
func touchedDiff(t *testing.T, dir string) int {
	t.Helper()
	root := copyRoot(t, planted)
	db := filepath.Join(t.TempDir(), "p.db")
	hunt := []string{"hunt", "--db", db, "--root", root, "--format", "json"}
	if dir != "" {
		hunt = append(hunt, "--queries", dir)
	}
	code, _, errs := runCLI(hunt...)
	hunttest.WantClean(t, code, errs)
	atime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	touched := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		touched++
		return os.Chtimes(p, atime, info.ModTime())
	})
	if err != nil || touched < 20 {
		t.Fatalf("touched %d files: %v", touched, err)
	}
	code, _, errs = runCLI(hunt...)
	hunttest.WantClean(t, code, errs)
	code, out, errs := runCLI("diff", "--db", db, "--run", "2", "--format", "csv")
	if code != 0 {
		t.Fatalf("diff: exit %d: %s", code, errs)
	}
	r, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(r) == 0 {
		t.Fatalf("diff csv %q: %v", out, err)
	}
	return len(r) - 1 // the header
}
