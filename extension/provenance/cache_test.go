package provenance_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/dbcache/dbcachetest"
	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
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

// rpmOwner is the owner of path in root as one statement of a run with
// cache answers it (nil cache: without a cache), with no problem.
func rpmOwner(t *testing.T, cache *dbcache.Cache, root, path string) string {
	t.Helper()
	ctx, fs, problems := dbcachetest.Statement(t, cache, root)
	s := provenance.Cached(ctx, fs)
	defer s.Close()
	pkg, manager := s.OwnerOf(path)
	if ps := problems.List(); len(ps) > 0 {
		t.Errorf("problems %v", ps)
	}
	if pkg != "" && manager != "rpm" {
		t.Errorf("%s: manager %q", path, manager)
	}
	return pkg
}

// TestRPMCacheSeesReplacedDatabase: queries of one run share rpm's
// database while it is unchanged, and answer from the new one once it is
// replaced, whether by one of the same format (a Berkeley DB by another)
// or of another (SUSE's NDB by a Berkeley DB, a SQLite by another):
// /etc/mtab is util-linux's on CentOS 7, setup's on CentOS 5;
// /etc/default/nss is glibc's on SLE 15, glibc-common's on CentOS 5.
func TestRPMCacheSeesReplacedDatabase(t *testing.T) {
	bdbs := rpmdbtest.RealBDB(t)
	for _, c := range []struct{ name, before, after, file string }{
		{"bdb", bdbs["centos7-plain"], bdbs["centos5-plain"], "/etc/mtab"},
		{"ndb to bdb", rpmdbtest.RealNDB(), bdbs["centos5-plain"], "/etc/default/nss"},
		{"bdb to ndb", bdbs["centos5-plain"], rpmdbtest.RealNDB(), "/etc/default/nss"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := c.file
			root := t.TempDir()
			dir := filepath.Join(root, "var/lib/rpm")
			before := rpmdbtest.CopyFile(t, c.before, dir)
			time.Sleep(150 * time.Millisecond) // older than a change could be in the same clock tick
			cache := dbcache.New()
			want := rpmOwner(t, nil, root, file)
			if got := rpmOwner(t, cache, root, file); got != want || want == "" {
				t.Fatalf("owner of %s: %q, without a cache %q", file, got, want)
			}
			if got := rpmOwner(t, cache, root, file); got != want {
				t.Fatalf("owner of %s from the cache: %q, want %q", file, got, want)
			}
			// replaced as rpm --rebuilddb would leave it: a new file
			staged := rpmdbtest.CopyFile(t, c.after, t.TempDir())
			if err := os.Remove(before); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(staged, filepath.Join(dir, filepath.Base(c.after))); err != nil {
				t.Fatal(err)
			}
			after := rpmOwner(t, nil, root, file)
			if after == want || after == "" {
				t.Fatalf("the new database's owner of %s is %q, the old's %q: not a test", file, after, want)
			}
			if got := rpmOwner(t, cache, root, file); got != after {
				t.Errorf("after the database was replaced, owner of %s: %q, want %q", file, got, after)
			}
		})
	}
}

// TestRPMCacheSQLite: a SQLite database replaced by another, as rpm
// writes them, is read anew.
func TestRPMCacheSQLite(t *testing.T) {
	const file = "/etc/owned.conf"
	root, other := t.TempDir(), t.TempDir()
	rpmdbtest.Install(t, root, "/var/lib/rpm", "alpha", map[string]string{file: "a\n"})
	rpmdbtest.Install(t, other, "/var/lib/rpm", "beta", map[string]string{file: "b\n"})
	time.Sleep(150 * time.Millisecond)
	cache := dbcache.New()
	for range 2 {
		if got := rpmOwner(t, cache, root, file); got != "alpha" {
			t.Fatalf("owner of %s: %q, want alpha", file, got)
		}
	}
	db := filepath.Join(root, "var/lib/rpm/rpmdb.sqlite")
	staged := rpmdbtest.CopyFile(t, filepath.Join(other, "var/lib/rpm/rpmdb.sqlite"), t.TempDir())
	if err := os.Rename(staged, db); err != nil {
		t.Fatal(err)
	}
	if got := rpmOwner(t, cache, root, file); got != "beta" {
		t.Errorf("after the database was replaced, owner of %s: %q, want beta", file, got)
	}
}

// BenchmarkRPMSources: the Sources of one hunt (15, one per table that
// asks) each looking up a file of a CentOS 7 Berkeley DB root, with the
// run's cache (one walk of the database in all) and without (a walk per
// Source).
func BenchmarkRPMSources(b *testing.B) {
	root := b.TempDir()
	rpmdbtest.CopyFile(b, rpmdbtest.RealBDB(b)["centos7-many"], filepath.Join(root, "var/lib/rpm"))
	time.Sleep(150 * time.Millisecond) // older than a change could be in the same clock tick
	for _, c := range []struct {
		name  string
		cache func() *dbcache.Cache
	}{{"uncached", func() *dbcache.Cache { return nil }}, {"cached", dbcache.New}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				cache := c.cache()
				for range 15 {
					ctx, fs, _ := dbcachetest.Statement(b, cache, root)
					s := provenance.Cached(ctx, fs)
					if s.Owner("/etc/mtab") != "util-linux" {
						b.Fatal("/etc/mtab not util-linux's")
					}
					s.Close()
				}
			}
		})
	}
}
