package alpmhooks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// TestBadFiles: a FIFO where libalpm reads a hook (pacman would block on
// it), a symlink loop (libalpm's stat fails) and a file the table may not
// read are rows with their reasons and problems of the root, and each
// stops every other hook, as a load error does in libalpm.
func TestBadFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc/pacman.d/hooks")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "10-ok.hook"), []byte("[Trigger]\nOperation = Install\nType = Package\nTarget = *\n[Action]\nWhen = PostTransaction\nExec = /bin/true\n"), 0o644))
	must(t, syscall.Mkfifo(filepath.Join(dir, "20-fifo.hook"), 0o644))
	must(t, os.Symlink("30-loop.hook", filepath.Join(dir, "30-loop.hook")))
	for _, c := range []struct{ file, reason, cause string }{
		{"20-fifo.hook", "invalid: pacman would block on it", fsroot.CauseSpecial},
		{"30-loop.hook", "invalid: could not stat", fsroot.CauseLoop},
	} {
		problems := &fsroot.Problems{}
		rows, err := Rows(fsroot.WithProblems(context.Background(), problems), root)
		must(t, err)
		byName := map[string]map[string]string{}
		for _, r := range rows {
			byName[r["name"]] = r
		}
		if r := byName[c.file]; r == nil || !strings.HasPrefix(r["reason"], c.reason) || r["effective"] != "0" {
			t.Errorf("%s: row %v", c.file, r)
		}
		if r := byName["10-ok.hook"]; r["effective"] != "0" || !strings.Contains(r["reason"], "aborts every transaction") {
			t.Errorf("10-ok.hook with %s beside it: %v", c.file, r)
		}
		found := false
		for _, p := range problems.List() {
			found = found || p.Path == "/etc/pacman.d/hooks/"+c.file && p.Cause == c.cause
		}
		if !found {
			t.Errorf("%s: no %s problem in %v", c.file, c.cause, problems.List())
		}
		must(t, os.Remove(filepath.Join(dir, c.file)))
	}
}

// TestUnreadableAsProblem: a hook file the table cannot read (run as
// nobody) is a row that says so and a permission problem, never a missing
// row.
func TestUnreadableAsProblem(t *testing.T) {
	if os.Getenv("PKGPERSIST_ALPM_CHILD") != "" {
		problems := &fsroot.Problems{}
		rows, err := Rows(fsroot.WithProblems(context.Background(), problems), os.Getenv("PKGPERSIST_ALPM_CHILD"))
		must(t, err)
		for _, r := range rows {
			if r["name"] == "secret.hook" && strings.Contains(r["reason"], "permission denied") {
				for _, p := range problems.List() {
					if p.Path == "/etc/pacman.d/hooks/secret.hook" && p.Cause == fsroot.CausePermission {
						return
					}
				}
			}
		}
		t.Fatalf("rows %v problems %v", rows, problems.List())
	}
	if os.Geteuid() != 0 {
		need.Missing(t, "switching to nobody needs root")
	}
	need.Program(t, "setpriv")
	root, err := os.MkdirTemp("", "alpmhooks")
	must(t, err)
	defer os.RemoveAll(root)
	must(t, os.Chmod(root, 0o755))
	dir := filepath.Join(root, "etc/pacman.d/hooks")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "secret.hook"), []byte("[Trigger]\n"), 0o600))
	cmd := execAsNobody(os.Args[0], "-test.run=^TestUnreadableAsProblem$")
	cmd.Env = append(os.Environ(), "PKGPERSIST_ALPM_CHILD="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

func execAsNobody(args ...string) *exec.Cmd {
	return exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups"}, args...)...)
}
