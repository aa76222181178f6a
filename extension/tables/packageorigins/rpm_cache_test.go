package packageorigins

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/dbcache/dbcachetest"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/extension/tables/packagescripts"
)

// rpmTables are package_scripts' and package_origins' rows of root's rpm
// database, read in one statement of a run with cache (none when nil).
func rpmTables(t *testing.T, cache *dbcache.Cache, root string) ([]packagescripts.Script, []table.Row) {
	t.Helper()
	ctx, fs, problems := dbcachetest.Statement(t, cache, root)
	scripts := packagescripts.RPM(ctx, fs)
	origins, err := RPMRows(ctx, root, "/var/lib/dpkg")
	if err != nil {
		t.Fatal(err)
	}
	if ps := problems.List(); len(ps) > 0 {
		t.Errorf("problems %v", ps)
	}
	return scripts, origins
}

// same reports whether a and b are alike to the last field (%#v tells a
// nil slice from an empty one).
func same(a, b any) bool { return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b) }

// TestRPMTablesCached: package_scripts and package_origins say the same
// with the run's cache as without, in the statement that reads the
// database and in the next one, which answers from what the first kept,
// on CentOS 5 to 8's Berkeley DB databases, SUSE's NDB one and a SQLite
// one that rpm wrote.
func TestRPMTablesCached(t *testing.T) {
	check := func(t *testing.T, root string) {
		time.Sleep(150 * time.Millisecond) // older than a change could be in the same clock tick
		scripts, origins := rpmTables(t, nil, root)
		if len(origins) == 0 {
			t.Fatal("no packages: not a test")
		}
		cache := dbcache.New()
		for _, stmt := range []string{"first", "second"} {
			s, o := rpmTables(t, cache, root)
			if !same(s, scripts) {
				t.Errorf("%s statement: package_scripts has %d rows with the cache, %d without, or they differ", stmt, len(s), len(scripts))
			}
			if !same(o, origins) {
				t.Errorf("%s statement: package_origins has %d rows with the cache, %d without, or they differ", stmt, len(o), len(origins))
			}
		}
	}
	rpmdbtest.EachRealBDB(t, func(t *testing.T, root, _ string) { check(t, root) })
	t.Run("sle15-ndb", func(t *testing.T) {
		root := t.TempDir()
		rpmdbtest.CopyFile(t, rpmdbtest.RealNDB(), filepath.Join(root, "var/lib/rpm"))
		check(t, root)
	})
	t.Run("sqlite", func(t *testing.T) {
		root := t.TempDir()
		rpmdbtest.Install(t, root, "/var/lib/rpm", "alpha", map[string]string{"/etc/alpha.conf": "a\n"})
		check(t, root)
	})
}
