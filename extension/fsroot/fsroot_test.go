package fsroot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot/fsroottest"
)

// build makes entries under root: "dir/" a directory, "file=text" a file,
// "link->target" a symlink; parents are made as needed.
func build(t testing.TB, root string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		name, target, link := strings.Cut(e, "->")
		name, text, file := strings.Cut(name, "=")
		p := filepath.Join(root, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		switch {
		case link:
			must(t, os.Symlink(target, p))
		case file:
			must(t, os.WriteFile(p, []byte(text), 0o644))
		default:
			must(t, os.MkdirAll(p, 0o755))
		}
	}
}

func TestSymlinksResolveInsideTheRoot(t *testing.T) {
	eachResolver(t, func(t *testing.T, newRoot func(string) *Root) {
		root := t.TempDir()
		build(t, root, "etc/real/x.conf=inside",
			// an absolute link means the root's /etc/real, not the host's
			"etc/abs.conf->/etc/real/x.conf",
			// a link that climbs out is clamped to the root
			"etc/climb.conf->../../../../../../etc/real/x.conf",
			// a directory link, absolute, used on the way
			"etc/dirlink->/etc/real")
		r := newRoot(root)
		defer r.Close()
		for _, name := range []string{"/etc/abs.conf", "/etc/climb.conf", "etc/real/x.conf", "/etc/dirlink/x.conf", "/../../etc/real/x.conf", "/etc/real/../../../etc/abs.conf"} {
			data, err := r.ReadFile(name)
			if err != nil || string(data) != "inside" {
				t.Errorf("%s: %q, %v", name, data, err)
			}
		}
	})
}

// TestDotDotStopsAtTheRoot: "..", as a name or on the way, is the root
// itself at the top, as in a chroot.
func TestDotDotStopsAtTheRoot(t *testing.T) {
	eachResolver(t, func(t *testing.T, newRoot func(string) *Root) {
		base := t.TempDir()
		root := filepath.Join(base, "root")
		build(t, base, "root/etc/", "outside=outside")
		rootInfo, err := os.Stat(root)
		must(t, err)
		r := newRoot(root)
		defer r.Close()
		for _, name := range []string{"/..", "..", "/etc/../..", "../../..", "/", "", "."} {
			for _, stat := range []func(string) (os.FileInfo, error){r.Stat, r.Lstat} {
				fi, err := stat(name)
				if err != nil || !fsroottest.Same(fi, rootInfo) {
					t.Errorf("%q: %v, %v: not the root", name, fi, err)
				}
			}
			names, err := r.ReadDir(name)
			if err != nil || strings.Join(names, ",") != "etc" {
				t.Errorf("listing %q: %v, %v", name, names, err)
			}
		}
		if _, err := r.ReadFile("/../outside"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("/../outside: %v", err)
		}
	})
}

func TestLstat(t *testing.T) {
	eachResolver(t, func(t *testing.T, newRoot func(string) *Root) {
		root := t.TempDir()
		build(t, root, "d/f=x", "link->/d", "dangling->/nowhere")
		r := newRoot(root)
		defer r.Close()
		for name, want := range map[string]os.FileMode{
			"/link":       os.ModeSymlink,
			"/link/":      os.ModeDir, // a trailing slash follows
			"/link/f":     0,
			"/link/..":    os.ModeDir,
			"/dangling":   os.ModeSymlink,
			"/d/../link":  os.ModeSymlink,
			"link":        os.ModeSymlink,
			"/d/f":        0,
			"/link/../d/": os.ModeDir,
		} {
			fi, err := r.Lstat(name)
			if err != nil || fi.Mode().Type() != want {
				t.Errorf("lstat %s: %v, %v; want type %v", name, fi, err, want)
			}
		}
		if fi, err := r.Stat("/link"); err != nil || !fi.IsDir() {
			t.Errorf("stat /link: %v, %v", fi, err)
		}
		if _, err := r.Stat("/dangling"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat /dangling: %v", err)
		}
		ents, err := r.ReadDirEntries("/")
		must(t, err)
		for _, e := range ents {
			fi, err := e.Info()
			if err != nil || fi.Mode().Type() != e.Type() {
				t.Errorf("%s: Info %v, %v; type %v", e.Name(), fi, err, e.Type())
			}
		}
	})
}

func TestRefusals(t *testing.T) {
	eachResolver(t, func(t *testing.T, newRoot func(string) *Root) {
		root := t.TempDir()
		build(t, root, "loop->loop", "dir/", "big="+strings.Repeat("x", 2<<20))
		must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
		r := newRoot(root)
		defer r.Close()
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
		if _, err := r.ReadDir("/loop"); !errors.Is(err, errLoop) {
			t.Errorf("listing /loop: %v", err)
		}
		if k := r.Kind("/fifo"); k != "fifo" {
			t.Errorf("kind of fifo: %q", k)
		}
		// the host root: a device is refused without being read
		host := newRoot("/")
		defer host.Close()
		if _, err := host.ReadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "device") {
			t.Errorf("/dev/zero: %v", err)
		}
		if k := host.Kind("/dev/null"); k != "device" {
			t.Errorf("kind of /dev/null: %q", k)
		}
		if data, err := host.ReadFile("/proc/self/status"); err != nil || !strings.Contains(string(data), "Name:") {
			t.Errorf("the host root reads /proc: %v", err)
		}
	})
	root := t.TempDir()
	build(t, root, "file=")
	if _, err := Open(filepath.Join(root, "file")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file accepted as a root: %v", err)
	}
	if _, err := Open(filepath.Join(root, "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a missing root: %v", err)
	}
}

// TestWholeReadsBounded: a file read whole is bounded, and over the bound
// it is a problem; streamed, it is read whole, whatever its size.
func TestWholeReadsBounded(t *testing.T) {
	root := t.TempDir()
	build(t, root, "big="+strings.Repeat("x", 2<<20))
	problems := &Problems{}
	r, err := OpenContext(WithProblems(context.Background(), problems), root)
	must(t, err)
	defer r.Close()
	r.MaxFileSize = 1 << 20
	if _, err := r.ReadFile("/big"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v", err)
	}
	if ps := problems.List(); len(ps) != 1 || ps[0].Path != "/big" || ps[0].Cause != CauseLimit {
		t.Errorf("problems: %+v", ps)
	}
	f, err := r.OpenFile("/big")
	must(t, err)
	defer f.Close()
	if err := f.Drain(); err != nil {
		t.Fatal(err)
	}
	if d, ok := f.Digests(); !ok || d.Size != 2<<20 {
		t.Errorf("streamed big file: %+v %v", d, ok)
	}
}

// TestProblems: what cannot be read is recorded with its cause.
func TestProblems(t *testing.T) {
	root := t.TempDir()
	build(t, root, "loop->loop")
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	ps := &Problems{}
	r, err := OpenContext(WithProblems(context.Background(), ps), root)
	must(t, err)
	defer r.Close()
	r.ReadFile("/fifo")
	r.ReadFile("/loop")
	r.ReadFile("/missing")
	r.ReadDir("/loop")
	got := map[string]string{}
	for _, p := range ps.List() {
		got[p.Path] += p.Cause + " "
	}
	if got["/fifo"] != CauseSpecial+" " || got["/loop"] != CauseLoop+" " || len(got) != 2 {
		t.Errorf("problems %v", ps.List())
	}
}

func TestReadDirLimit(t *testing.T) {
	root := t.TempDir()
	build(t, root, "a=", "b=", "c=")
	r := New(root)
	defer r.Close()
	r.MaxDirEntries = 2
	names, err := r.ReadDir("/")
	if len(names) != 2 || err == nil {
		t.Fatalf("names %v, err %v", names, err)
	}
}

// TestClose: a closed root reads nothing, its descriptors are released,
// and a Sub shares the parent's directory without closing it.
func TestClose(t *testing.T) {
	root := t.TempDir()
	build(t, root, "f=x")
	before := openFds(t)
	r, err := Open(root)
	must(t, err)
	sub := r.Sub()
	sub.Close()
	if _, err := sub.ReadFile("/f"); err != nil {
		t.Fatalf("closing a Sub closed its parent: %v", err)
	}
	if openFds(t) <= before {
		t.Fatal("an open root holds no descriptor")
	}
	must(t, r.Close())
	must(t, r.Close())
	if n := openFds(t); n != before {
		t.Errorf("%d descriptors open after Close, %d before Open", n, before)
	}
	for _, rr := range []*Root{r, sub} {
		if _, err := rr.ReadFile("/f"); !errors.Is(err, os.ErrClosed) {
			t.Errorf("read after Close: %v", err)
		}
	}
	// a Root never used opens nothing and closes cleanly
	must(t, New(root).Close())
}

// openFds counts this process's open descriptors.
func openFds(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	must(t, err)
	return len(ents)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadlinkRealpath: links are read and followed inside the root.
func TestReadlinkRealpath(t *testing.T) {
	root := t.TempDir()
	build(t, root, "usr/bin/real=x", "etc/alternatives/", "usr/bin/")
	must(t, os.Symlink("/etc/alternatives/tool", filepath.Join(root, "usr/bin/tool")))
	must(t, os.Symlink("/usr/bin/real", filepath.Join(root, "etc/alternatives/tool")))
	must(t, os.Symlink("../../../../../usr/bin/real", filepath.Join(root, "usr/bin/climb")))
	r := New(root)
	defer r.Close()
	if l, err := r.Readlink("/usr/bin/tool"); err != nil || l != "/etc/alternatives/tool" {
		t.Errorf("readlink: %q %v", l, err)
	}
	for _, name := range []string{"/usr/bin/tool", "/usr/bin/climb", "/usr/bin/../bin/real"} {
		if p, err := r.Realpath(name); err != nil || p != "/usr/bin/real" {
			t.Errorf("realpath %s: %q %v", name, p, err)
		}
	}
	if p, err := r.Realpath("/.."); err != nil || p != "/" {
		t.Errorf("realpath /..: %q %v", p, err)
	}
	if _, err := r.Readlink("/usr/bin/real"); err == nil {
		t.Error("readlink of a regular file")
	}
}
