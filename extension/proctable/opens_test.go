package proctable

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fanotify"
	"github.com/pkgpersist/pkgpersist/test/need"
)

func ex(path string, k fanotify.Kind) fanotify.Exec {
	return fanotify.Exec{PID: 43, Path: path, Kind: k}
}

var (
	dash = ex("/usr/bin/dash", fanotify.Dynamic)
	ld   = ex("/usr/lib/ld-linux-x86-64.so.2", fanotify.Static)
	tru  = ex("/usr/bin/true", fanotify.Dynamic)
	bb   = ex("/usr/bin/busybox", fanotify.Static)
	dnf  = ex("/usr/bin/dnf", fanotify.Script)
	py   = ex("/usr/bin/python3.13", fanotify.Dynamic)
)

// TestNextChain: the executable and script of an exec from its opens, and
// what is left for the next exec of the same process.
func TestNextChain(t *testing.T) {
	for _, c := range []struct {
		name  string
		opens []fanotify.Exec
		want  Chain
		rest  []fanotify.Exec
	}{
		{"dynamic program", []fanotify.Exec{tru, ld}, Chain{Path: tru.Path}, nil},
		{"static program", []fanotify.Exec{bb}, Chain{Path: bb.Path}, nil},
		{"the ELF interpreter run as a program", []fanotify.Exec{ld}, Chain{Path: ld.Path}, nil},
		{"script", []fanotify.Exec{dnf, py, ld}, Chain{Path: py.Path, Script: dnf.Path}, nil},
		{"script run by a script", []fanotify.Exec{dnf, ex("/opt/interp", fanotify.Script), py, ld}, Chain{Path: py.Path, Script: dnf.Path}, nil},
		{"binfmt_misc file", []fanotify.Exec{ex("/srv/a.jar", fanotify.Other), ex("/usr/bin/java", fanotify.Dynamic), ld}, Chain{Path: "/usr/bin/java", Script: "/srv/a.jar"}, nil},
		{"two execs read together", []fanotify.Exec{dash, ld, tru, ld}, Chain{Path: dash.Path}, []fanotify.Exec{tru, ld}},
		// the second ld merged into the first by the kernel's queue
		{"an interpreter's open merged", []fanotify.Exec{dash, ld, tru}, Chain{Path: dash.Path}, []fanotify.Exec{tru}},
		{"a static program after a dynamic one", []fanotify.Exec{dash, ld, bb}, Chain{Path: dash.Path}, []fanotify.Exec{bb}},
		{"a script whose interpreter did not open", []fanotify.Exec{dnf}, Chain{Script: dnf.Path}, nil},
		{"nothing", nil, Chain{}, nil},
	} {
		got, rest := NextChain(c.opens)
		if got != c.want || len(rest) != len(c.rest) || (len(rest) > 0 && !reflect.DeepEqual(rest, c.rest)) {
			t.Errorf("%s: %+v, rest %v; want %+v, rest %v", c.name, got, rest, c.want, c.rest)
		}
	}
}

// TestExecOfAGoneProcess: pid 43 is not in /proc; its exec's path and
// script come from its opens, its parent from its fork. Pid 42 is: its
// exec's path is /proc's, and its opens' script is taken only when their
// executable is /proc's.
func TestExecOfAGoneProcess(t *testing.T) {
	tb := New(fakeProc(t))
	tb.Fork(7, 43, 0)
	for _, e := range []fanotify.Exec{dnf, py, ld} {
		tb.Opened(e)
	}
	p := tb.Exec(43, time.Second, tb.Snap(43))
	if p.Path != py.Path || p.Script != dnf.Path || p.PPID != 7 || p.Argv != nil {
		t.Fatalf("exec of the gone 43: %+v", p)
	}
	if p := tb.Exec(43, 2*time.Second, tb.Snap(43)); p.Path != "" || p.Script != "" {
		t.Fatalf("a second exec took the first's opens: %+v", p)
	}
	for _, c := range []struct {
		opens  []fanotify.Exec
		script string
	}{
		{[]fanotify.Exec{{PID: 42, Path: "/opt/s", Kind: fanotify.Script}, {PID: 42, Path: "/bin/x", Kind: fanotify.Static}}, "/opt/s"},
		{[]fanotify.Exec{{PID: 42, Path: "/opt/s", Kind: fanotify.Script}, {PID: 42, Path: "/bin/y", Kind: fanotify.Static}}, ""},
	} {
		for _, e := range c.opens {
			tb.Opened(e)
		}
		if p := tb.Exec(42, 6*time.Second, tb.Snap(42)); p.Path != "/bin/x" || p.Script != c.script {
			t.Errorf("exec of 42 after %v: %+v, want script %q", c.opens, p, c.script)
		}
	}
	// an exec that failed after its open (no ELF interpreter there) is
	// passed over when /proc names the executable
	for _, e := range []fanotify.Exec{{PID: 42, Path: "/opt/foreign", Kind: fanotify.Dynamic}, {PID: 42, Path: "/opt/s", Kind: fanotify.Script}, {PID: 42, Path: "/bin/x", Kind: fanotify.Static}} {
		tb.Opened(e)
	}
	if p := tb.Exec(42, 6*time.Second, tb.Snap(42)); p.Path != "/bin/x" || p.Script != "/opt/s" {
		t.Errorf("exec of 42 after a failed one: %+v", p)
	}
	if l := tb.opens.cur[42]; len(l) != 0 {
		t.Errorf("opens left after the exec: %v", l)
	}
	// a complete chain is the exec's even when /proc shows a later
	// program: the process exec'd again, and the later exec's chain
	// stays for its own event
	for _, e := range []fanotify.Exec{{PID: 42, Path: "/opt/s", Kind: fanotify.Script}, {PID: 42, Path: "/bin/z", Kind: fanotify.Static}, {PID: 42, Path: "/bin/x", Kind: fanotify.Static}} {
		tb.Opened(e)
	}
	if p := tb.Exec(42, 6*time.Second, tb.Snap(42)); p.Path != "/bin/x" || p.Script != "" {
		t.Errorf("exec of 42 before another: %+v", p)
	}
	if l := tb.opens.cur[42]; len(l) != 1 || l[0].Path != "/bin/x" {
		t.Errorf("opens left for the next exec: %v", l)
	}
	// a fork runs its parent's program, script and all
	if c := tb.Fork(43, 44, 0); c.Path != "" {
		t.Fatalf("fork: %+v", c)
	}
}

// TestOpensBounded: a process that opens and never execs keeps its last
// opens only, and processes whose exec and exit were both lost are
// forgotten.
func TestOpensBounded(t *testing.T) {
	tb := New(fakeProc(t))
	for i := 0; i < 100; i++ {
		tb.Opened(fanotify.Exec{PID: 9, Path: fmt.Sprint(i), Kind: fanotify.Other})
	}
	if l := tb.opens.cur[9]; len(l) != maxOpensPerPID || l[len(l)-1].Path != "99" {
		t.Fatalf("opens of 9: %d, last %v", len(l), l[len(l)-1])
	}
	for pid := 1000; pid < 1000+5*maxOpenPIDs; pid++ {
		tb.Opened(fanotify.Exec{PID: pid, Path: "/x", Kind: fanotify.Static})
	}
	if n := len(tb.opens.cur) + len(tb.opens.old); n > 2*maxOpenPIDs {
		t.Fatalf("%d processes' opens kept", n)
	}
	tb.Exit(1000 + 5*maxOpenPIDs - 1)
	if _, ok := tb.opens.cur[1000+5*maxOpenPIDs-1]; ok {
		t.Fatal("an exit keeps the opens")
	}
}

// TestChainMatchesProc: on live processes (a dynamic program, a static
// busybox, a `#!` script run directly) the executable NextChain finds in
// what fanotify reported is /proc/PID/exe, and the script is the file run.
func TestChainMatchesProc(t *testing.T) {
	if os.Geteuid() != 0 {
		need.Missing(t, "fanotify needs root")
	}
	busybox := "/bin/busybox"
	if _, err := os.Stat(busybox); err != nil {
		need.Missing(t, "busybox-static is not installed")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		need.Missing(t, "no /usr/bin/python3")
	}
	x, err := fanotify.OpenExecs()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	script := filepath.Join(t.TempDir(), "s.py")
	if err := os.WriteFile(script, []byte("#!/usr/bin/python3\nimport sys\nprint('ready', flush=True)\nsys.stdin.readline()\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		argv   []string
		script string
	}{
		{[]string{"/bin/sh", "-c", "echo ready; read line"}, ""},
		{[]string{busybox, "sh", "-c", "echo ready; read line"}, ""},
		{[]string{script}, script},
	} {
		cmd := exec.Command(c.argv[0], c.argv[1:]...)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("%s: %q %v", c.argv[0], line, err)
		}
		pid := cmd.Process.Pid
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			t.Fatal(err)
		}
		opens, _, err := x.Read(nil)
		if err != nil {
			t.Fatal(err)
		}
		var mine []fanotify.Exec
		for _, o := range opens {
			if o.PID == pid {
				mine = append(mine, o)
			}
		}
		got, _ := NextChain(mine)
		if got.Path != exe || got.Script != c.script {
			t.Errorf("%s: chain %+v from %v; /proc/%d/exe is %s, script %q", strings.Join(c.argv, " "), got, mine, pid, exe, c.script)
		}
		stdin.Close()
		_ = cmd.Wait()
	}
}
