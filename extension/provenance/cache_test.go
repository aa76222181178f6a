package provenance_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
)

// dpkgRoot writes a dpkg database: the status file and each package's
// file list.
func dpkgRoot(t *testing.T, root, status string, lists map[string]string) {
	t.Helper()
	info := filepath.Join(root, "var/lib/dpkg/info")
	if err := os.MkdirAll(info, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "var/lib/dpkg/status"), status)
	for pkg, list := range lists {
		write(t, filepath.Join(info, pkg+".list"), list)
	}
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewrite changes a file in place keeping its size and modification
// time: only its change time tells.
func rewrite(t *testing.T, name, data string) {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != fi.Size() {
		t.Fatalf("%s: %d bytes for %d", name, len(data), fi.Size())
	}
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(data), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(name, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// twoPackages is a status file of a and b, b with the conffile conf.
func twoPackages(conf string) string {
	return "Package: a\nStatus: install ok installed\nVersion: 1\n\n" +
		"Package: b\nStatus: install ok installed\nVersion: 1\nConffiles:\n " + conf + " 0123456789abcdef0123456789abcdef\n"
}

// TestCacheSeesChanges: queries of one run (one cache, a view per
// statement) share dpkg's database while it is unchanged, and answer the
// new owner once a file list or the status file changes in place, the
// same size and modification time (only the change time differs), or a
// file list appears.
func TestCacheSeesChanges(t *testing.T) {
	root := t.TempDir()
	dpkgRoot(t, root, twoPackages("/etc/b.conf"), map[string]string{"a": "/etc/x\n/etc/y\n", "b": "/etc/z\n/etc/w\n"})
	time.Sleep(150 * time.Millisecond) // older than a change could be in the same clock tick
	cache := dbcache.New()
	statement := func() (context.Context, *fsroot.Root) {
		ctx := dbcache.With(context.Background(), cache)
		fs, err := fsroot.OpenContext(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fs.Close() })
		return ctx, fs
	}
	owner := func(path string) string {
		ctx, fs := statement()
		s := provenance.Cached(ctx, fs)
		defer s.Close()
		return s.Owner(path)
	}
	ctx, fs := statement()
	first := dpkgdb.CachedIndex(ctx, fs)
	if ctx, fs := statement(); dpkgdb.CachedIndex(ctx, fs) != first {
		t.Error("an unchanged database was read again")
	}
	if got := owner("/etc/x"); got != "a" {
		t.Fatalf("owner of /etc/x: %q", got)
	}
	// dpkg -S: a conffile's owner is the status file's
	if got := owner("/etc/b.conf"); got != "b" {
		t.Fatalf("owner of /etc/b.conf: %q", got)
	}
	rewrite(t, filepath.Join(root, "var/lib/dpkg/info/a.list"), "/etc/q\n/etc/y\n")
	rewrite(t, filepath.Join(root, "var/lib/dpkg/info/b.list"), "/etc/x\n/etc/w\n")
	if got := owner("/etc/x"); got != "b" {
		t.Errorf("after the lists changed, owner of /etc/x: %q, want b", got)
	}
	rewrite(t, filepath.Join(root, "var/lib/dpkg/status"), twoPackages("/etc/c.conf"))
	if got := owner("/etc/b.conf"); got != "" {
		t.Errorf("after the status file changed, owner of /etc/b.conf: %q, want none", got)
	}
	if got := owner("/etc/c.conf"); got != "b" {
		t.Errorf("after the status file changed, owner of /etc/c.conf: %q, want b", got)
	}
	write(t, filepath.Join(root, "var/lib/dpkg/info/c.list"), "/etc/new\n")
	if got := owner("/etc/new"); got != "c" {
		t.Errorf("after c.list appeared, owner of /etc/new: %q, want c", got)
	}
}
