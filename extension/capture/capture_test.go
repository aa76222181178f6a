package capture

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/debtest"
	"github.com/pkgpersist/pkgpersist/test/gate"
	"github.com/pkgpersist/pkgpersist/test/need"
	"github.com/pkgpersist/pkgpersist/test/pyparent"
	"github.com/pkgpersist/pkgpersist/test/rpmtest"
)

// start runs a capture, or skips without root (fails in CI).
func start(t *testing.T, max int) *Capture {
	t.Helper()
	if os.Geteuid() != 0 {
		need.Missing(t, "the process connector needs root")
	}
	c := Start(Options{Limits: events.Limits{Max: max}})
	t.Cleanup(c.Stop)
	if s := c.Sources.Process.Status(); !s.Running {
		t.Fatalf("capture does not run: %s", s.Error)
	}
	return c
}

// waitFor polls the process ring until a row matches.
func waitFor(t *testing.T, r *events.Ring, what string, match func(table.Row) bool) table.Row {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, row := range r.Select(table.QueryContext{}) {
			if match(row) {
				return row
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no row for %s", what)
	return nil
}

func decode(t *testing.T, s string) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// TestInstallsFromAPythonStartedBefore: python3, started before the
// capture, runs rpm -i into a throwaway root and dpkg -i into another;
// the exec rows name rpm and dpkg with their exact argv, python3 as the
// parent, and the whole ancestry: python3, this test, ..., pid 1. Each
// install waits in its scriptlet until its exec row is there: a process
// gone before its exec is read has no argv (counted incomplete), which
// on a loaded machine may happen to a quick install.
func TestInstallsFromAPythonStartedBefore(t *testing.T) {
	if os.Geteuid() != 0 {
		need.Missing(t, "the process connector needs root")
	}
	rpmPath := need.Program(t, "rpm")
	dpkgPath := need.Program(t, "dpkg")
	dir := t.TempDir()
	rpmRoot, debRoot := filepath.Join(dir, "rpmroot"), debtest.NewRoot(t)
	// rpm runs scriptlets chrooted into its root: a static shell there
	busybox, err := os.ReadFile(need.Program(t, "busybox"))
	if err == nil {
		err = os.MkdirAll(filepath.Join(rpmRoot, "bin"), 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(rpmRoot, "bin", "sh"), busybox, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	rpmGate, debGate := gate.New(t, filepath.Join(rpmRoot, "gate")), gate.New(t, filepath.Join(dir, "debgate"))
	rpmFile := rpmtest.Build(t, dir, rpmtest.Spec{Name: "evt", Version: "1", Release: "1",
		Body: "Summary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%post\nread x < /gate\n%files\n"})
	deb := debtest.Build(t, dir, debtest.Pkg{Name: "evtdeb", Version: "1", Arch: "all",
		Control: map[string]string{"postinst": "#!/bin/sh\nread x < " + debGate.Path + "\n"}})
	rpmArgv := []string{rpmPath, "--root", rpmRoot, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", rpmFile}
	dpkgArgv := append(append([]string{dpkgPath}, debtest.DpkgOptions(debRoot)...), "-i", deb)
	py := pyparent.Start(t, rpmtest.Env(t, dir), rpmArgv, dpkgArgv)
	// python3 runs before the capture starts: it is known from /proc only
	c := start(t, 0)
	py.Go(t)
	pyPID := py.PID()
	ring := c.Sources.Process
	for _, g := range []struct {
		gate *gate.Gate
		exe  string
	}{{rpmGate, rpmPath}, {debGate, dpkgPath}} {
		waitFor(t, ring, g.exe, func(r table.Row) bool {
			return r["event"] == "exec" && r["ppid"] == pyPID && r["path"] == g.exe
		})
		g.gate.Open()
	}
	py.Wait(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	above := ancestors(t, os.Getpid())
	for _, argv := range [][]string{rpmArgv, dpkgArgv} {
		r := waitFor(t, ring, argv[0], func(r table.Row) bool {
			return r["event"] == "exec" && r["ppid"] == pyPID && r["path"] == argv[0]
		})
		if got := decode(t, r["argv"]); !reflect.DeepEqual(got, argv) {
			t.Errorf("%s argv %q, want %q", argv[0], got, argv)
		}
		if r["cmdline"] != strings.Join(argv, " ") {
			t.Errorf("%s cmdline %q", argv[0], r["cmdline"])
		}
		if !regexp.MustCompile(`^/usr/bin/python3\.[0-9]+$`).MatchString(r["parent_path"]) {
			t.Errorf("%s parent_path %q, want /usr/bin/python3.N", argv[0], r["parent_path"])
		}
		if !strings.Contains(r["parent_cmdline"], "subprocess.run") {
			t.Errorf("%s parent_cmdline %q", argv[0], r["parent_cmdline"])
		}
		anc := decode(t, r["ancestry"])
		if want := append([]string{r["parent_path"]}, above...); !reflect.DeepEqual(anc, want) || above[0] != self {
			t.Errorf("%s ancestry %q, want %q (this test is %s)", argv[0], anc, want, self)
		}
		if r["uid"] != "0" || r["seeded"] != "0" || r["cwd"] == "" {
			t.Errorf("%s: %v", argv[0], r)
		}
	}
	// and python3's own facts came from /proc, not from an exec
	exit := waitFor(t, ring, "python3's exit", func(r table.Row) bool { return r["event"] == "exit" && r["pid"] == pyPID })
	if exit["seeded"] != "1" || exit["exit_code"] != "0" || !strings.HasPrefix(exit["path"], "/usr/bin/python3.") {
		t.Errorf("python3's exit row: %v", exit)
	}
}

// ancestors walks /proc from pid up to pid 1: the executables, empty where
// the kernel will not show one (a process that is not dumpable, as pid 1
// of some sandboxes).
func ancestors(t *testing.T, pid int) []string {
	t.Helper()
	var out []string
	for pid > 0 {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		out = append(out, exe)
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^PPid:\s*(\d+)`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no PPid in /proc/%d/status", pid)
		}
		pid, _ = strconv.Atoi(string(m[1]))
	}
	return out
}

// TestExecStorm: every exec of a storm of short processes is a row or
// counted as lost (PKGPERSIST_LOAD=1 runs 200,000 of them). The test
// reads the ring as osqueryd does, the rows after the last eid it saw, as
// they arrive: the ring holds every process's events, and other work on
// the machine (other tests) must not push the storm's rows out before
// they are read.
func TestExecStorm(t *testing.T) {
	n := 2000
	if os.Getenv("PKGPERSIST_LOAD") != "" {
		n = 200000
	}
	c := start(t, 50000)
	ring := c.Sources.Process
	sh := exec.Command("/bin/sh", "-c", `i=0; while [ $i -lt `+strconv.Itoa(n)+` ]; do /bin/true; i=$((i+1)); done`)
	began := time.Now()
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	shPID := strconv.Itoa(sh.Process.Pid)
	// an exec is the storm's when the shell forked its pid last, or when
	// the row names the shell as parent (its fork lost)
	truePath := real(t, "/bin/true")
	rows, pathless, wrong, argless, misattributed, unread := 0, 0, 0, 0, 0, int64(0)
	forked := map[string]bool{}
	var last int64
	shellDone := false
	done := make(chan error, 1)
	go func() { done <- sh.Wait() }()
	var elapsed time.Duration
	deadline := time.Now().Add(20 * time.Minute)
	for !shellDone && time.Now().Before(deadline) {
		if elapsed == 0 {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				elapsed = time.Since(began)
			default:
			}
		}
		q := table.QueryContext{Constraints: map[string][]table.Constraint{"eid": {{Op: table.GreaterThan, Expr: strconv.FormatInt(last, 10)}}}}
		for _, r := range ring.Select(q) {
			eid, _ := strconv.ParseInt(r["eid"], 10, 64)
			if eid != last+1 {
				unread += eid - last - 1 // evicted before this reader came back
			}
			last = eid
			switch {
			case r["event"] == "fork" && r["ppid"] == shPID:
				forked[r["pid"]] = true
			case r["event"] == "exec" && (forked[r["pid"]] || r["ppid"] == shPID):
				rows++
				if r["path"] == "" {
					pathless++
				}
				if r["path"] != truePath || r["script"] != "" {
					wrong++
					if wrong <= 5 {
						t.Logf("a storm exec row not naming %s: %v", truePath, r)
					}
				}
				if r["argv"] == "[]" {
					argless++
				}
				if r["ppid"] != shPID {
					misattributed++
					if misattributed <= 5 {
						t.Logf("a storm exec row naming another parent: %v", r)
					}
				}
				delete(forked, r["pid"])
			case r["event"] == "exit" && r["pid"] == shPID:
				// the shell's exit follows every exec of its children
				shellDone = true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !shellDone {
		t.Fatal("no exit row for the storm's shell")
	}
	s := ring.Status()
	t.Logf("%d execs in %v: %d rows (%d without argv: gone before /proc was read; %d without a path, %d not naming %s; %d naming another parent), %d lost in the kernel, %d incomplete, %d rows evicted before the test read them",
		n, elapsed, rows, argless, pathless, wrong, truePath, misattributed, s.LostKernel, s.Incomplete, unread)
	if unread != 0 {
		t.Fatalf("the reader fell behind: %d rows evicted unread (ring of %d)", unread, s.Max)
	}
	// lost counts every process's events, not only the storm's
	if rows > n || int64(rows)+s.LostKernel < int64(n) {
		t.Fatalf("%d started, %d rows + %d lost", n, rows, s.LostKernel)
	}
	// the opens for exec name every storm process's program, gone or
	// not: a row that does not name it is one whose open was lost, and
	// counted
	if int64(wrong) > s.LostKernel {
		t.Fatalf("%d exec rows do not name %s (%d without a path), %d counted lost", wrong, truePath, pathless, s.LostKernel)
	}
	// incomplete counts every process's rows without argv or path, the
	// storm's among them
	if int64(max(argless, pathless)) > s.Incomplete {
		t.Fatalf("%d exec rows without argv, %d without a path, %d counted incomplete", argless, pathless, s.Incomplete)
	}
	if s.LostKernel == 0 && rows != n {
		t.Fatalf("%d started, %d rows and nothing counted lost", n, rows)
	}
}

// TestStopReadsWhatIsQueued: the events of processes that ran before Stop
// are rows (or counted lost) once Stop returns, however far the reader
// was behind: here it reads nothing until Stop.
func TestStopReadsWhatIsQueued(t *testing.T) {
	const n = 400
	if os.Geteuid() != 0 {
		need.Missing(t, "the process connector needs root")
	}
	hold := make(chan struct{})
	c := Start(Options{Limits: events.Limits{Max: 50000}, hold: hold})
	t.Cleanup(c.Stop)
	sh := exec.Command("/bin/sh", "-c", `i=0; while [ $i -lt `+strconv.Itoa(n)+` ]; do /bin/true; i=$((i+1)); done`)
	if err := sh.Run(); err != nil {
		t.Fatal(err)
	}
	c.cancel()
	close(hold)
	c.Stop()
	shPID := strconv.Itoa(sh.Process.Pid)
	execs := 0
	for _, r := range c.Sources.Process.Select(table.QueryContext{}) {
		if r["event"] == "exec" && r["ppid"] == shPID {
			execs++
		}
	}
	if s := c.Sources.Process.Status(); int64(execs)+s.LostKernel < n {
		t.Fatalf("%d execs before Stop: %d rows, %d lost", n, execs, s.LostKernel)
	}
}

// nsEnv names, in the test's own re-run, the test that runs there and
// the mount namespace it was started from.
const nsEnv = "PKGPERSIST_TEST_MOUNT_NS"

// inPrivateMountNS re-runs the test in a private mount namespace and
// returns false (the re-run's failure is this test's); in the re-run it
// returns true, after checking that the namespace is not the host's, so
// that what the test mounts and writes never reaches the real /etc.
func inPrivateMountNS(t *testing.T) bool {
	t.Helper()
	ns, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	if name, from, ok := strings.Cut(os.Getenv(nsEnv), " "); ok && name == t.Name() {
		if ns == from {
			t.Fatalf("not in a mount namespace of its own: %s", ns)
		}
		return true
	}
	if os.Geteuid() != 0 {
		need.Missing(t, "fanotify, the process connector and mount namespaces need root")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), nsEnv+"="+t.Name()+" "+ns)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS} // and / private
	out, err := cmd.CombinedOutput()
	t.Logf("in a private mount namespace:\n%s", out)
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the test in its mount namespace: %v", err)
	}
	return false
}

// bind mounts a scratch directory over dir (in this namespace only).
func bind(t *testing.T, dir string) string {
	t.Helper()
	scratch := t.TempDir()
	if err := unix.Mount(scratch, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind mount over %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return scratch
}

// linger starts a writer that waits for its stdin to close once it has
// written, and returns what closes it: alive, its exec is read before it
// is gone (a process gone before /proc is read has no path, the exec
// row's known limit).
func linger(t *testing.T, name string, args ...string) func() {
	t.Helper()
	cmd := exec.Command(name, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s %q: %v", name, args, err)
		}
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func real(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFileEvents: in a private mount namespace, scratch directories over
// /etc/apt/apt.conf.d and /etc/dpkg; the capture watches the built-in
// paths. A python3 started by sh that writes a file is captured with its
// path, cmdline and ancestry (sh, this test, ...); a dpkg postinst's write
// names dpkg in its ancestry; a file written beside the watched paths and
// moved into one is MOVED_TO; a removal is DELETED; writes beside the
// watched paths make no rows.
func TestFileEvents(t *testing.T) {
	if !inPrivateMountNS(t) {
		return
	}
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		need.Missing(t, "no "+python)
	}
	need.Program(t, "dpkg")
	dir := t.TempDir()
	// every writer waits for the gate, opened once its exec row is in the
	// ring: a write made while its process's exec is still unread is
	// attributed to no program (the row is incomplete), by design
	gate := filepath.Join(dir, "gate")
	wait := `import os, sys, time; any(os.path.exists("` + gate + `") or time.sleep(0.01) for _ in iter(int, 1)); `
	deb := debtest.Build(t, dir, debtest.Pkg{Name: "evtfile", Version: "1", Arch: "all", Control: map[string]string{
		"postinst": "#!/bin/sh\nwhile [ ! -e " + gate + " ]; do sleep 0.01; done\nprintf 'APT::Evt \"1\";\\n' > /etc/apt/apt.conf.d/99pkgpersist-b\nread _ || :\n",
	}})
	debRoot := debtest.NewRoot(t)
	bind(t, "/etc/apt/apt.conf.d")
	bind(t, "/etc/dpkg")
	for _, d := range []string{"/etc/dpkg/dpkg.cfg.d", "/etc/dpkg/stage"} {
		debtest.Must(t, os.Mkdir(d, 0o755))
	}

	c := Start(Options{Limits: events.Limits{Max: 10000}})
	t.Cleanup(c.Stop)
	if s := c.Sources.File.Status(); !s.Running || s.Error != "" {
		t.Fatalf("file source: running %v, %q", s.Running, s.Error)
	}
	ring := c.Sources.File
	self := real(t, "/proc/self/exe")
	sh := real(t, "/bin/sh")
	open := func(program, writer string) {
		t.Helper()
		waitFor(t, c.Sources.Process, writer, func(r table.Row) bool {
			return r["event"] == "exec" && strings.HasPrefix(r["cmdline"], program) && strings.Contains(r["cmdline"], writer)
		})
		debtest.Must(t, os.WriteFile(gate, nil, 0o644))
	}
	shut := func() { debtest.Must(t, os.Remove(gate)) }

	// (a) python3, child of sh (`; :` keeps sh from exec'ing it)
	done := linger(t, "/bin/sh", "-c", python+" -c '"+wait+`open("/etc/apt/apt.conf.d/99pkgpersist-a", "w").write("a"); sys.stdin.read()'; :`)
	open(python, "99pkgpersist-a")
	a := waitFor(t, ring, "python3's write", func(r table.Row) bool {
		return r["action"] == "UPDATED" && r["target_path"] == "/etc/apt/apt.conf.d/99pkgpersist-a"
	})
	if !regexp.MustCompile(`^/usr/bin/python3\.[0-9]+$`).MatchString(a["path"]) || !strings.Contains(a["cmdline"], "99pkgpersist-a") || a["sha256"] != sum("a") {
		t.Errorf("python3's write: %v", a)
	}
	if anc := decode(t, a["ancestry"]); len(anc) < 2 || anc[0] != sh || anc[1] != self {
		t.Errorf("python3's write: ancestry %q, want %s, %s, ...", anc, sh, self)
	}
	waitFor(t, ring, "python3's create", func(r table.Row) bool {
		return r["action"] == "CREATED" && r["target_path"] == a["target_path"] && r["pid"] == a["pid"]
	})
	done()
	shut()
	pythonPath := regexp.MustCompile(`^/usr/bin/python3\.[0-9]+$`)

	// (f) sh writes, then at once becomes python3: the write is never
	// python3's. It is sh's, or this test's (which forked sh) when sh's
	// exec came before the file queue was last seen empty, or unknown
	// when an exec came between then and the read: never a program the
	// process had not yet run
	done = linger(t, "/bin/sh", "-c", "printf f > /etc/apt/apt.conf.d/99pkgpersist-f; exec "+python+` -c "import sys; sys.stdin.read()"`)
	f := waitFor(t, ring, "the write before an exec", func(r table.Row) bool {
		return r["action"] == "UPDATED" && r["target_path"] == "/etc/apt/apt.conf.d/99pkgpersist-f"
	})
	done()
	if f["path"] != sh && f["path"] != self && f["path"] != "" {
		t.Errorf("the write before an exec is %s's (%q), want %s's, %s's or unknown", f["path"], f["cmdline"], sh, self)
	}

	// (b) dpkg's postinst
	dpkg := real(t, need.Program(t, "dpkg"))
	// the postinst waits on dpkg's stdin, as linger's writers do
	done = linger(t, "dpkg", append(debtest.DpkgOptions(debRoot), "-i", deb)...)
	open("/bin/sh", "evtfile.postinst")
	b := waitFor(t, ring, "the postinst's write", func(r table.Row) bool {
		return r["action"] == "UPDATED" && r["target_path"] == "/etc/apt/apt.conf.d/99pkgpersist-b"
	})
	if anc := decode(t, b["ancestry"]); !slices.Contains(anc, dpkg) || b["path"] != sh || b["sha256"] != sum("APT::Evt \"1\";\n") {
		t.Errorf("the postinst's write: %v, want dpkg (%s) in its ancestry, written by %s", b, dpkg, sh)
	}
	done()
	shut()

	// (c) written beside, moved into place; (e) the write beside makes
	// no row
	debtest.Must(t, os.WriteFile("/etc/dpkg/stage/c.cfg", []byte("c"), 0o644))
	done = linger(t, python, "-c", wait+"os.rename('/etc/dpkg/stage/c.cfg', '/etc/dpkg/dpkg.cfg.d/c.cfg'); sys.stdin.read()")
	open(python, "dpkg.cfg.d/c.cfg")
	cr := waitFor(t, ring, "the move", func(r table.Row) bool {
		return r["action"] == "MOVED_TO" && r["target_path"] == "/etc/dpkg/dpkg.cfg.d/c.cfg"
	})
	done()
	shut()
	if !pythonPath.MatchString(cr["path"]) || cr["sha256"] != sum("c") || cr["package"] != "" || cr["manager"] != "" {
		t.Errorf("the move: %v", cr)
	}
	// (d)
	done = linger(t, python, "-c", wait+"os.remove('/etc/apt/apt.conf.d/99pkgpersist-a'); sys.stdin.read()")
	open(python, "os.remove")
	d := waitFor(t, ring, "the removal", func(r table.Row) bool {
		return r["action"] == "DELETED" && r["target_path"] == "/etc/apt/apt.conf.d/99pkgpersist-a"
	})
	done()
	if !pythonPath.MatchString(d["path"]) || d["sha256"] != "" {
		t.Errorf("the removal: %v", d)
	}
	// (e) a last write beside, then a marker: rows come in order, so
	// every row of the first is in the ring once the marker's is
	debtest.Must(t, os.WriteFile("/etc/dpkg/dpkg.cfg.dx", []byte("x"), 0o644))
	debtest.Must(t, os.WriteFile("/etc/dpkg/stage/late", []byte("x"), 0o644))
	debtest.Must(t, os.WriteFile("/etc/dpkg/dpkg.cfg", []byte("end"), 0o644))
	waitFor(t, ring, "the marker", func(r table.Row) bool {
		return r["action"] == "UPDATED" && r["target_path"] == "/etc/dpkg/dpkg.cfg" && r["pid"] != ""
	})
	for _, r := range ring.Select(table.QueryContext{}) {
		if p := r["target_path"]; strings.HasPrefix(p, "/etc/dpkg/stage") || p == "/etc/dpkg/dpkg.cfg.dx" {
			t.Errorf("a row for a path not watched: %v", r)
		}
	}
	if s := ring.Status(); s.LostKernel != 0 || s.Error != "" {
		t.Errorf("file source status: %+v", s)
	}
}

// TestScriptExec: a Python script with a `#!/usr/bin/python3` line, run
// directly, makes an exec row whose script is the file and whose path is
// python's executable, and the process it starts has the script beside
// python in its ancestry. Both are short: the script's facts come from
// the opens for exec when /proc is gone already.
func TestScriptExec(t *testing.T) {
	c := start(t, 0)
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		need.Missing(t, "no "+python)
	}
	if s := c.Sources.Process.Status(); s.Error != "" {
		t.Fatalf("process source: %s", s.Error)
	}
	pyExe := real(t, python)
	truePath := real(t, "/bin/true")
	script := filepath.Join(t.TempDir(), "pm-script")
	if err := os.WriteFile(script, []byte("#!"+python+"\nimport subprocess\nsubprocess.run(['/bin/true', 'from-script'])\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	ring := c.Sources.Process
	r := waitFor(t, ring, "the script's exec", func(r table.Row) bool { return r["event"] == "exec" && r["pid"] == pid })
	if r["script"] != script || r["path"] != pyExe {
		t.Errorf("the script's exec row: script %q path %q, want %s run by %s: %v", r["script"], r["path"], script, pyExe, r)
	}
	child := waitFor(t, ring, "the script's child", func(r table.Row) bool {
		return r["event"] == "exec" && r["ppid"] == pid && r["path"] == truePath
	})
	anc, scripts := decode(t, child["ancestry"]), decode(t, child["ancestry_scripts"])
	if len(anc) < 2 || len(scripts) != len(anc) || anc[0] != pyExe || scripts[0] != script || scripts[1] != "" {
		t.Errorf("the child's ancestry %q, scripts %q: want %s running %s first", anc, scripts, pyExe, script)
	}
	if child["script"] != "" {
		t.Errorf("the child runs a program, not a script: %v", child)
	}
}

// TestExecOnANewMount: in a private mount namespace, a tmpfs mounted
// after the capture started is marked when the mount table changes: a
// script run from it is named in its exec row.
func TestExecOnANewMount(t *testing.T) {
	if !inPrivateMountNS(t) {
		return
	}
	c := start(t, 0)
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mounting a tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	script := filepath.Join(dir, "s")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// the reader marks the mount once it sees the table change: run the
	// script until a run is named, or give up
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		cmd := exec.Command(script)
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		pid := strconv.Itoa(cmd.Process.Pid)
		r := waitFor(t, c.Sources.Process, "the script's exec", func(r table.Row) bool { return r["event"] == "exec" && r["pid"] == pid })
		if r["script"] == script {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no exec row names %s, run from a filesystem mounted after the capture started (process source: %q)", script, c.Sources.Process.Status().Error)
}
