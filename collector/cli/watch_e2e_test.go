package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/debtest"
	"github.com/pkgpersist/pkgpersist/test/gate"
	"github.com/pkgpersist/pkgpersist/test/need"
	"github.com/pkgpersist/pkgpersist/test/pyparent"
	"github.com/pkgpersist/pkgpersist/test/rpmtest"
)

// buildCLI builds the pkgpersist binary into a temporary directory.
func buildCLI(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pkgpersist")
	if out, err := exec.Command("go", "build", "-tags", "sqlite_vtable", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestWatchNewTermsAndStacks: with pkgpersist watch running (the built
// binary), a python3 started before it runs rpm -i into a throwaway root
// (its %post in a shell of that root) and dpkg -i of a package whose
// postinst runs a program of this test's own. After SIGINT, report
// new-terms on the store alerts on both installs with python3 as the
// parent, each once, and report stacks lists what each package manager
// started.
func TestWatchNewTermsAndStacks(t *testing.T) {
	if os.Geteuid() != 0 {
		need.Missing(t, "the process connector needs root")
	}
	rpmPath, dpkgPath := need.Program(t, "rpm"), need.Program(t, "dpkg")
	// rpm runs scriptlets chrooted into --root: a static shell there
	busybox := need.Program(t, "busybox")
	cat := need.Program(t, "cat")
	bin := buildCLI(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "watch.db")

	rpmRoot := filepath.Join(dir, "rpmroot")
	rootSh := filepath.Join(rpmRoot, "bin", "sh")
	copyFile(t, busybox, rootSh)
	// each install waits in its scriptlet until watch has stored its
	// rows: a process gone before its exec is read has no argv, which on
	// a loaded machine may happen to a quick one
	rpmGate, debGate := gate.New(t, filepath.Join(rpmRoot, "gate")), gate.New(t, filepath.Join(dir, "debgate"))
	rpmFile := rpmtest.Build(t, dir, rpmtest.Spec{Name: "watchevt", Version: "1", Release: "1",
		Body: "Summary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%post\nread x < /gate\n%files\n"})
	postinstProg := filepath.Join(dir, "watch-postinst-cat")
	copyFile(t, cat, postinstProg)
	deb := debtest.Build(t, dir, debtest.Pkg{Name: "watchevt", Version: "1", Arch: "all",
		Control: map[string]string{"postinst": "#!/bin/sh\n" + postinstProg + " " + debGate.Path + " >/dev/null\n"}})
	debRoot := debtest.NewRoot(t)
	rpmArgv := []string{rpmPath, "--root", rpmRoot, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", rpmFile}
	dpkgArgv := append(append([]string{dpkgPath}, debtest.DpkgOptions(debRoot)...), "-i", deb)

	// python3 first, waiting; then the watch
	py := pyparent.Start(t, rpmtest.Env(t, dir), rpmArgv, dpkgArgv)
	pyPID := py.PID()

	w := exec.Command(bin, "watch", "--db", db, "--interval", "500ms")
	werr, err := w.StderrPipe()
	mustNil(t, err)
	mustNil(t, w.Start())
	t.Cleanup(func() { _ = w.Process.Kill() })
	errs := bufio.NewReader(werr)
	if line, err := errs.ReadString('\n'); err != nil || !strings.Contains(line, "watch: capturing") {
		t.Fatalf("watch: %q %v", line, err)
	}
	py.Go(t)
	for _, g := range []struct {
		gate       *gate.Gate
		exe, child string
	}{{rpmGate, rpmPath, rootSh}, {debGate, dpkgPath, postinstProg}} {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
			_, alerts, _ := runCLI("report", "new-terms", "--db", db, "--format", "ndjson")
			_, stacks, _ := runCLI("report", "stacks", "--db", db, "--format", "ndjson")
			if len(newTerms(t, alerts, pyPID)[g.exe]) > 0 && children(t, stacks)[g.child] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("watch stored no install by %s with its child %s:\n%s\n%s", g.exe, g.child, alerts, stacks)
			}
		}
		g.gate.Open()
	}
	py.Wait(t)
	// the last events are stored at the stop, not by a run before it
	mustNil(t, w.Process.Signal(syscall.SIGINT))
	rest, _ := io.ReadAll(errs)
	if err := w.Wait(); err != nil {
		t.Fatalf("watch: %v\n%s", err, rest)
	}
	if !strings.Contains(string(rest), "watch: stopped:") {
		t.Errorf("watch's last line: %q", rest)
	}

	// new-terms: both installs, python3 the parent, each once
	code, out, stderr := runCLI("report", "new-terms", "--db", db, "--format", "ndjson")
	if code != 0 {
		t.Fatalf("new-terms: exit %d: %s", code, stderr)
	}
	pyParent := regexp.MustCompile(`^/usr/bin/python3\.\d+$`)
	got := newTerms(t, out, pyPID)
	for exe, rows := range got {
		want := rpmArgv
		if exe == dpkgPath {
			want = dpkgArgv
		}
		for _, r := range rows {
			if !pyParent.MatchString(r["parent_path"]) {
				t.Errorf("alert's parent %q, want /usr/bin/python3.N: %v", r["parent_path"], r)
			}
			if r["argv"] != pyparent.List(want) {
				t.Errorf("alert's argv %s, want %s", r["argv"], pyparent.List(want))
			}
		}
	}
	if len(got[rpmPath]) != 1 || len(got[dpkgPath]) != 1 || len(got) != 2 {
		t.Errorf("new-terms alerts from python3 (pid %s): %v, want rpm and dpkg once each\n%s", pyPID, got, out)
	}

	// stacks: what rpm and dpkg started, under them
	code, out, stderr = runCLI("report", "stacks", "--db", db, "--format", "ndjson")
	if code != 0 {
		t.Fatalf("stacks: exit %d: %s", code, stderr)
	}
	for _, want := range []string{rootSh, postinstProg} {
		if !children(t, out)[want] {
			t.Errorf("stacks has no child %s:\n%s", want, out)
		}
	}
}

// newTerms are the rows of report new-terms' ndjson whose parent is pid,
// by executable.
func newTerms(t *testing.T, ndjson, pid string) map[string][]map[string]string {
	t.Helper()
	got := map[string][]map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(ndjson), "\n") {
		var a struct {
			Row map[string]string `json:"row"`
		}
		if line == "" {
			continue
		}
		mustNil(t, json.Unmarshal([]byte(line), &a))
		if a.Row["parent_pid"] == pid {
			got[a.Row["path"]] = append(got[a.Row["path"]], a.Row)
		}
	}
	return got
}

// children are the executables report stacks' ndjson lists as children
// of package managers.
func children(t *testing.T, ndjson string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(ndjson), "\n") {
		var s map[string]string
		if line == "" {
			continue
		}
		mustNil(t, json.Unmarshal([]byte(line), &s))
		if s["stack"] == "children" {
			out[s["executable"]] = true
		}
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	mustNil(t, err)
	mustNil(t, os.MkdirAll(filepath.Dir(to), 0o755))
	mustNil(t, os.WriteFile(to, b, 0o755))
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
