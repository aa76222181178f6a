package rpmdb_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/dbcache/dbcachetest"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
)

// TestCachedWalksOnce: two DBs of one run (one cache, a statement each)
// answer from one walk of a Berkeley DB or NDB database; without a cache
// each DB walks it.
func TestCachedWalksOnce(t *testing.T) {
	for _, c := range []struct{ name, db, owned, pkg string }{
		{"bdb", rpmdbtest.RealBDB(t)["centos7-plain"], "/etc/mtab", "util-linux"},
		{"ndb", rpmdbtest.RealNDB(), "/etc/default/nss", "glibc"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			rpmdbtest.CopyFile(t, c.db, filepath.Join(root, "var/lib/rpm"))
			time.Sleep(150 * time.Millisecond) // older than a change could be in the same clock tick
			cache := dbcache.New()
			lookup := func(cache *dbcache.Cache, name string) (*rpmdb.DB, rpmdb.Owner) {
				run, fs, problems := dbcachetest.Statement(t, cache, root)
				db := rpmdb.Cached(context.Background(), run, fs)
				t.Cleanup(db.Close)
				o := db.Lookup(name, func(int32) string { return "" })
				if ps := problems.List(); len(ps) > 0 {
					t.Errorf("problems %v", ps)
				}
				return db, o
			}
			first, o := lookup(cache, c.owned)
			if o.Package != c.pkg {
				t.Fatalf("owner of %s: %+v, want %s", c.owned, o, c.pkg)
			}
			second, o := lookup(cache, c.owned)
			if o.Package != c.pkg {
				t.Fatalf("owner of %s from the cache: %+v, want %s", c.owned, o, c.pkg)
			}
			if rpmdb.IndexOf(first) == 0 || rpmdb.IndexOf(second) != rpmdb.IndexOf(first) {
				t.Error("the second DB walked the database again")
			}
			a, _ := lookup(nil, c.owned)
			b, _ := lookup(nil, c.owned)
			if rpmdb.IndexOf(a) == rpmdb.IndexOf(b) {
				t.Error("without a cache, two DBs share an index")
			}
		})
	}
}
