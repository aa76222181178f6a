package fanotify

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pkgpersist/pkgpersist/queries/fimpaths"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// open watches patterns under a scratch directory, or skips without root
// (fails in CI).
func open(t *testing.T, patterns ...string) (*Watcher, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		need.Missing(t, "fanotify needs root")
	}
	dir := t.TempDir()
	for i, p := range patterns {
		patterns[i] = dir + p
	}
	set, err := fimpaths.NewSet(patterns)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Open(set)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, dir
}

// collect reads changes until want of them came or a second passed.
func collect(t *testing.T, w *Watcher, want int) []Change {
	t.Helper()
	var out []Change
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) && len(out) < want {
		fds := []unix.PollFd{{Fd: int32(w.Fd()), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, 100); err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
		var lost int64
		var err error
		out, lost, err = w.Read(out)
		if err != nil || lost != 0 {
			t.Fatalf("read: %v, %d lost", err, lost)
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestChanges: each kind of change in a watched tree is reported with its
// action and this process's pid; changes beside it are not.
func TestChanges(t *testing.T) {
	w, dir := open(t, "/w/%%", "/f.cfg")
	must(t, os.MkdirAll(filepath.Join(dir, "w"), 0o755))
	// w exists only now: its creation is read before anything in it
	if got := collect(t, w, 1); len(got) != 1 || got[0] != (Change{Created, dir + "/w", os.Getpid()}) {
		t.Fatalf("mkdir w: %v", got)
	}
	pid := os.Getpid()
	must(t, os.WriteFile(filepath.Join(dir, "w/a"), []byte("a"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "elsewhere"), []byte("x"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "f.cfg"), []byte("x"), 0o644))
	must(t, os.Rename(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "w/b")))
	must(t, os.Rename(filepath.Join(dir, "w/a"), filepath.Join(dir, "gone")))
	must(t, os.Remove(filepath.Join(dir, "w/b")))
	must(t, os.Mkdir(filepath.Join(dir, "w/sub"), 0o755))
	want := []Change{
		{Created, dir + "/w/a", pid}, {Updated, dir + "/w/a", pid},
		{Created, dir + "/f.cfg", pid}, {Updated, dir + "/f.cfg", pid},
		{MovedTo, dir + "/w/b", pid}, {MovedFrom, dir + "/w/a", pid},
		{Deleted, dir + "/w/b", pid}, {Created, dir + "/w/sub", pid},
	}
	got := collect(t, w, len(want))
	must(t, os.WriteFile(filepath.Join(dir, "w/sub/c"), nil, 0o644))
	got = append(got, collect(t, w, 2)...)
	want = append(want, Change{Created, dir + "/w/sub/c", pid}, Change{Updated, dir + "/w/sub/c", pid})
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n got %v\nwant %v", got, want)
	}
	// the watched directory removed and made again is watched again
	must(t, os.RemoveAll(filepath.Join(dir, "w")))
	must(t, os.Mkdir(filepath.Join(dir, "w"), 0o755))
	t.Logf("removed and made again: %v", collect(t, w, 6))
	must(t, os.WriteFile(filepath.Join(dir, "w/new"), nil, 0o644))
	got = collect(t, w, 2)
	if !slices.Contains(got, Change{Created, dir + "/w/new", pid}) {
		t.Errorf("after w was made again: %v", got)
	}
	t.Logf("%d directories marked", w.Marks())
}
