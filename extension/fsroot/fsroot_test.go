package fsroot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestSymlinksResolveInsideTheRoot(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "etc/real"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "etc/real/x.conf"), []byte("inside"), 0o644))
	// an absolute link means the root's /etc/real, not the host's
	must(t, os.Symlink("/etc/real/x.conf", filepath.Join(root, "etc/abs.conf")))
	// a link that climbs out is clamped to the root
	must(t, os.Symlink("../../../../../../etc/real/x.conf", filepath.Join(root, "etc/climb.conf")))
	r := New(root)
	for _, name := range []string{"/etc/abs.conf", "/etc/climb.conf", "etc/real/x.conf"} {
		data, err := r.ReadFile(name)
		if err != nil || string(data) != "inside" {
			t.Errorf("%s: %q, %v", name, data, err)
		}
	}
}

func TestRefusals(t *testing.T) {
	root := t.TempDir()
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	must(t, os.Symlink("loop", filepath.Join(root, "loop")))
	must(t, os.Mkdir(filepath.Join(root, "dir"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "big"), make([]byte, 2<<20), 0o644))
	r := New(root)
	for name, want := range map[string]string{
		"/fifo":    "named pipe",
		"/loop":    "symbolic links",
		"/dir":     "is a directory",
		"/missing": "no such file",
	} {
		if _, err := r.ReadFile(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", name, err, want)
		}
	}
	// a file read whole is bounded, and over the bound it is a problem
	problems := &Problems{}
	small, err := OpenContext(WithProblems(context.Background(), problems), root)
	must(t, err)
	small.MaxFileSize = 1 << 20
	if _, err := small.ReadFile("/big"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v", err)
	}
	if ps := problems.List(); len(ps) != 1 || ps[0].Path != "/big" || ps[0].Cause != CauseLimit {
		t.Errorf("problems: %+v", ps)
	}
	// streamed, it is read whole, whatever its size
	f, err := r.OpenFile("/big")
	must(t, err)
	if err := f.Drain(); err != nil {
		t.Fatal(err)
	}
	if d, ok := f.Digests(); !ok || d.Size != 2<<20 {
		t.Errorf("streamed big file: %+v %v", d, ok)
	}
	f.Close()
	// the host root: a device is refused without being read
	if _, err := New("/").ReadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "device") {
		t.Errorf("/dev/zero: %v", err)
	}
	if k := r.Kind("/fifo"); k != "fifo" {
		t.Errorf("kind of fifo: %q", k)
	}
	if err := New(filepath.Join(root, "big")).Check(); err == nil {
		t.Error("a file accepted as a root")
	}
}

func TestReadDirLimit(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		must(t, os.WriteFile(filepath.Join(root, n), nil, 0o644))
	}
	r := New(root)
	r.MaxDirEntries = 2
	names, err := r.ReadDir("/")
	if len(names) != 2 || err == nil {
		t.Fatalf("names %v, err %v", names, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
