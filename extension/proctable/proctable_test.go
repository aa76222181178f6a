package proctable

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fanotify"
	"github.com/pkgpersist/pkgpersist/test/liveproc"
)

// fakeProc writes /proc/42 of a process forked 5 s after boot whose name
// holds a space and a parenthesis, child of 7.
func fakeProc(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "42")
	files := map[string]string{
		"status":  "Name:\tx\nPPid:\t7\nUid:\t1\t2\t2\t2\nGid:\t3\t4\t4\t4\n",
		"stat":    "42 (a b) c) S 7 42 42 0 -1 4194304 1 0 0 0 0 0 0 0 20 0 1 0 500 1000 100 0\n",
		"cmdline": "/bin/x\x00-y\x00\x00",
	}
	err := os.MkdirAll(p, 0o755)
	for name, text := range files {
		if err == nil {
			err = os.WriteFile(filepath.Join(p, name), []byte(text), 0o644)
		}
	}
	if err == nil {
		err = os.Symlink("/bin/x", filepath.Join(p, "exe"))
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestExecOfAReusedPid: /proc's process 42 was forked at 5 s; an exec
// event of pid 42 at 4 s was another process's, gone since: its facts are
// not taken from the new one.
func TestExecOfAReusedPid(t *testing.T) {
	tb := New(fakeProc(t))
	tb.Fork(7, 42, 3*time.Second)
	if p := tb.Exec(42, 4*time.Second, tb.Snap(42)); p.Path != "" || p.PPID != 7 {
		t.Fatalf("exec at 4s took the later process's facts: %+v", p)
	}
	p := tb.Exec(42, 6*time.Second, tb.Snap(42))
	if p.Path != "/bin/x" || p.PPID != 7 || p.Start != 5*time.Second || p.Cmdline() != "/bin/x -y " || p.UID != 1 || p.EUID != 2 || p.GID != 3 || p.EGID != 4 {
		t.Fatalf("exec at 6s: %+v", p)
	}
}

// TestForkReplacesAStaleEntry: a pid forked again while the table still
// holds a live entry that started before (its exit was lost) is the new
// process, with the new parent and start.
func TestForkReplacesAStaleEntry(t *testing.T) {
	tb := New(fakeProc(t))
	tb.Fork(42, 100, 10*time.Second)
	p := tb.Fork(7, 100, 20*time.Second)
	if p.PPID != 7 || p.Start != 20*time.Second || p.Path != "" {
		t.Fatalf("a reused pid kept the old process: %+v", p)
	}
	// the same fork read twice (seeded after it) keeps the entry
	if q := tb.Fork(7, 100, 20*time.Second); q != p {
		t.Fatalf("the same fork replaced its entry: %+v", q)
	}
}

// TestExecKeepsTheForkingParent: /proc says 42's parent is 7 (it was
// reparented), but the table saw 50 fork it and 50 has not exited: the
// exec's parent is 50. Once 50's exit came before an exec, /proc's parent
// is the one.
func TestExecKeepsTheForkingParent(t *testing.T) {
	tb := New(fakeProc(t))
	tb.procs[50] = &Proc{PID: 50, PPID: 1, Path: "/usr/bin/python3", Start: time.Second}
	tb.Fork(50, 42, 4*time.Second)
	if p := tb.Exec(42, 6*time.Second, tb.Snap(42)); p.PPID != 50 || p.Path != "/bin/x" {
		t.Fatalf("exec after the parent's fork: %+v", p)
	}
	tb.Exit(50)
	if p := tb.Exec(42, 7*time.Second, tb.Snap(42)); p.PPID != 7 {
		t.Fatalf("exec after the parent's exit: parent %d, want /proc's 7", p.PPID)
	}
}

// TestAtIsTheImageBeforeLaterExecs: a process forked by python3 that
// exec'd /bin/x at 6 s ran python3 until then: an event between 4 s and
// 5 s is python3's, one between 7 s and 8 s /bin/x's, one between 5 s and
// 7 s either's. Images kept are bounded.
func TestAtIsTheImageBeforeLaterExecs(t *testing.T) {
	tb := New(fakeProc(t))
	tb.procs[50] = &Proc{PID: 50, PPID: 1, Path: "/usr/bin/python3", Start: time.Second}
	tb.Fork(50, 42, 4*time.Second)
	p := tb.Exec(42, 6*time.Second, tb.Snap(42))
	for _, c := range []struct {
		after, by time.Duration
		path      string
		sure      bool
	}{
		{4 * time.Second, 5 * time.Second, "/usr/bin/python3", true},
		{7 * time.Second, 8 * time.Second, "/bin/x", true},
		{5 * time.Second, 7 * time.Second, "/bin/x", false},
	} {
		img, sure := p.At(c.after, c.by)
		if img.Path != c.path || sure != c.sure {
			t.Errorf("between %v and %v: %s (sure %v), want %s (sure %v)", c.after, c.by, img.Path, sure, c.path, c.sure)
		}
	}
	for i := 0; i < 10; i++ {
		p = tb.Exec(42, time.Duration(8+i)*time.Second, tb.Snap(42))
	}
	n := 0
	for q := p; q != nil; q = q.Before {
		n++
	}
	if n > maxBefore {
		t.Errorf("%d images kept, bound %d", n, maxBefore)
	}
}

// TestExitedStayBounded: an exited process is still known (with its
// ancestry) after its exit, until the grace period or MaxExited later
// exits push it out; exits whose events were lost are found by Sweep and
// go the same way, so the table does not grow without limit.
func TestExitedStayBounded(t *testing.T) {
	tb := New(fakeProc(t))
	now := time.Unix(1000, 0)
	tb.Now = func() time.Time { return now }
	tb.MaxExited = 10
	tb.Get(42)
	for pid := 100; pid < 150; pid++ {
		tb.Fork(42, pid, 10*time.Second)
	}
	tb.Exit(100)
	if p := tb.Get(100); p == nil || !p.Exited || p.Path != "/bin/x" {
		t.Fatalf("exited 100 is gone at once: %+v", p)
	}
	if got, _ := tb.Ancestry(100); len(got) != 2 || got[1] != "/bin/x" {
		t.Fatalf("ancestry of the exited 100: %q", got)
	}
	// the pid reused by a new fork is the new process
	if p := tb.Fork(42, 100, 11*time.Second); p.Exited {
		t.Fatalf("a fork of a reused pid is the exited process: %+v", p)
	}
	for pid := 101; pid < 130; pid++ {
		tb.Exit(pid)
	}
	// 42 + 100 (again) + 20 live (130..149) + at most 10 exited
	if got, want := tb.Len(), 1+1+20+10; got != want {
		t.Fatalf("%d processes known after 29 exits with MaxExited 10, want %d", got, want)
	}
	if tb.Get(119) != nil {
		t.Fatal("119 stays past MaxExited")
	}
	if tb.Get(129) == nil {
		t.Fatal("129, the last to exit, is gone")
	}
	now = now.Add(tb.Grace + time.Second)
	tb.Exit(999) // unknown: nothing kept, but the old ones go
	if tb.Get(129) != nil {
		t.Fatal("129 stays past the grace period")
	}
	// their exits lost: 100 and 130..149 are not in /proc, 42 is
	if n := tb.Sweep(); n != 21 {
		t.Fatalf("Sweep found %d gone, want 21", n)
	}
	now = now.Add(tb.Grace + time.Second)
	tb.Sweep()
	if tb.Len() != 1 || tb.Get(42) == nil {
		t.Fatalf("after the sweeps' grace: %d known", tb.Len())
	}
}

// TestReadsALongCmdline: arguments over several pages (the kernel copies
// cmdline in page-sized steps) are read whole, from the real /proc.
func TestReadsALongCmdline(t *testing.T) {
	long := strings.Repeat("x", 3*4096+17)
	cmd := liveproc.Start(t, "pkgpersist", long)
	p, err := New("").Read(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/bin/sh", "-c", "read line", "pkgpersist", long}
	if !slices.Equal(p.Argv, want) || p.PPID != os.Getpid() || p.UID != int64(os.Getuid()) {
		t.Fatalf("read %d args (last %d bytes), ppid %d, uid %d", len(p.Argv), len(p.Argv[len(p.Argv)-1]), p.PPID, p.UID)
	}
}

// TestExecIgnoresAReusedParent: 50 forked 42 and exited; its pid now
// belongs to a later process. 42's exec takes /proc's parent (7), not the
// process that happens to hold pid 50.
func TestExecIgnoresAReusedParent(t *testing.T) {
	tb := New(fakeProc(t))
	now := time.Unix(1000, 0)
	tb.Now = func() time.Time { return now }
	tb.procs[50] = &Proc{PID: 50, PPID: 1, Path: "/usr/bin/python3", Start: time.Second}
	tb.Fork(50, 42, 4*time.Second)
	tb.Exit(50)
	now = now.Add(tb.Grace + time.Second)
	tb.Exit(999) // prunes 50
	tb.Fork(1, 50, 5*time.Second).Path = "/usr/bin/dpkg"
	if p := tb.Exec(42, 6*time.Second, tb.Snap(42)); p.PPID != 7 {
		t.Fatalf("exec's parent %d, want /proc's 7, not the later process given pid 50", p.PPID)
	}
}

// TestAtUnknownPastItsImages: a process that exec'd more times after the
// event than the images it keeps cannot say what it ran then; an entry
// started after the event is not the process that made it.
func TestAtUnknownPastItsImages(t *testing.T) {
	tb := New(fakeProc(t))
	tb.procs[50] = &Proc{PID: 50, PPID: 1, Path: "/usr/bin/python3", Start: time.Second}
	p := tb.Fork(50, 42, 2*time.Second)
	for i := 6; i < 6+maxBefore; i++ {
		p = tb.Exec(42, time.Duration(i)*time.Second, tb.Snap(42))
	}
	if img, sure := p.At(4*time.Second, 5*time.Second); sure {
		t.Errorf("between 4s and 5s, before every image kept: %s, sure", img.Path)
	}
	if img, sure := p.At(8*time.Second+time.Second/2, 8*time.Second+time.Second/2); !sure || img.ExecAt != 8*time.Second {
		t.Errorf("after the last exec: %+v, sure %v", img, sure)
	}
	late := &Proc{PID: 42, Start: 9 * time.Second}
	if img, sure := late.At(4*time.Second, 5*time.Second); img != nil || sure {
		t.Errorf("a process started after the event: %+v, sure %v", img, sure)
	}
}

// TestForkOfUnreadIsUnread: a process gone before it was read has no ids;
// its children do not get root's.
func TestForkOfUnreadIsUnread(t *testing.T) {
	tb := New(fakeProc(t))
	tb.Fork(7, 43, time.Second)
	p := tb.Exec(43, 2*time.Second, tb.Snap(43))
	if !p.Unread || p.Start != time.Second {
		t.Fatalf("unread exec: %+v", p)
	}
	if c := tb.Fork(43, 44, 3*time.Second); !c.Unread {
		t.Fatalf("the child of an unread process: %+v", c)
	}
}

// TestSweepKeepsAQueuedExec: 43 was forked, then ran and exited before the
// reader came to its exec: /proc no longer has it, so a sweep retires it,
// but its exec, applied after, is still its own: the parent that forked it
// and the files it opened for the exec, not pid 0 and no path.
func TestSweepKeepsAQueuedExec(t *testing.T) {
	tb := New(fakeProc(t))
	tb.Fork(7, 43, time.Second)
	tb.Opened(fanotify.Exec{PID: 43, Path: "/usr/bin/true", Kind: fanotify.Dynamic})
	tb.Opened(fanotify.Exec{PID: 43, Path: "/lib64/ld-linux-x86-64.so.2", Kind: fanotify.Static})
	if n := tb.Sweep(); n != 1 {
		t.Fatalf("Sweep retired %d, want 43", n)
	}
	p := tb.Exec(43, 2*time.Second, tb.Snap(43))
	if p.PPID != 7 || p.Path != "/usr/bin/true" || !p.Unread {
		t.Fatalf("exec after a sweep: %+v", p)
	}
}
