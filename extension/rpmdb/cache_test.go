package rpmdb_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/dbcache/dbcachetest"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
)

// TestCachedWalksOnce: two statements of one run, each asking for the
// summaries twice (package_scripts, package_origins) and for a file's
// owner, walk a Berkeley DB or NDB database twice in all: once for the
// summaries, once for the file index. The summaries are those of a walk
// without a cache; without a cache each DB walks.
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
			first := runStatement(t, cache, root, c.owned)
			second := runStatement(t, cache, root, c.owned)
			walk := rpmdb.SummariesOf(first.scripts)
			for _, l := range [][]rpmdb.Summary{first.origins, second.scripts, second.origins} {
				if rpmdb.SummariesOf(l) != walk {
					t.Error("the summaries were walked again")
				}
			}
			if first.index == 0 || second.index != first.index {
				t.Error("the file index was walked again")
			}
			if first.owner.Package != c.pkg || second.owner.Package != c.pkg {
				t.Errorf("owner of %s: %+v, %+v, want %s", c.owned, first.owner, second.owner, c.pkg)
			}
			alone := runStatement(t, nil, root, c.owned)
			if rpmdb.SummariesOf(alone.scripts) == rpmdb.SummariesOf(alone.origins) {
				t.Error("without a cache, two DBs share summaries")
			}
			if again := runStatement(t, nil, root, c.owned); again.index == alone.index {
				t.Error("without a cache, two DBs share an index")
			}
			runtime.KeepAlive(alone.indexRef)
			if !reflect.DeepEqual(alone.scripts, first.scripts) {
				t.Error("the run's summaries are not a walk's without a cache")
			}
		})
	}
}

// statement is one statement of a run with cache (none when nil) on
// root: the summaries package_scripts and package_origins each ask for,
// and the owner of owned, which a provenance lookup asks for. Each has a
// DB of its own, as each table has.
type statement struct {
	scripts, origins []rpmdb.Summary
	owner            rpmdb.Owner
	index            uintptr
	// indexRef keeps the index alive while index is compared: freed, its
	// address could be another statement's index
	indexRef any
}

func runStatement(t *testing.T, cache *dbcache.Cache, root, owned string) statement {
	t.Helper()
	run, fs, problems := dbcachetest.Statement(t, cache, root)
	summaries := func() []rpmdb.Summary {
		db := rpmdb.Cached(context.Background(), run, fs)
		defer db.Close()
		list, err := db.Summaries()
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	var s statement
	s.scripts, s.origins = summaries(), summaries()
	db := rpmdb.Cached(context.Background(), run, fs)
	defer db.Close()
	s.owner = db.Lookup(owned, func(int32) string { return "" })
	s.index, s.indexRef = rpmdb.IndexOf(db), rpmdb.IndexRef(db)
	if ps := problems.List(); len(ps) > 0 {
		t.Errorf("problems %v", ps)
	}
	return s
}

// TestSummariesSeeReplacedDatabase: a database replaced between two
// statements of a run is summarised anew.
func TestSummariesSeeReplacedDatabase(t *testing.T) {
	dbs := rpmdbtest.RealBDB(t)
	root := t.TempDir()
	rpmdbtest.CopyFile(t, dbs["centos7-plain"], filepath.Join(root, "var/lib/rpm"))
	time.Sleep(150 * time.Millisecond)
	cache := dbcache.New()
	names := func(c *dbcache.Cache) []string {
		var out []string
		for _, p := range runStatement(t, c, root, "/etc/mtab").scripts {
			out = append(out, p.Name+" "+p.EVR)
		}
		return out
	}
	before := names(cache)
	staged := rpmdbtest.CopyFile(t, dbs["centos7-many"], t.TempDir())
	if err := os.Rename(staged, filepath.Join(root, "var/lib/rpm/Packages")); err != nil {
		t.Fatal(err)
	}
	after := names(nil)
	if reflect.DeepEqual(after, before) {
		t.Fatal("the two databases have the same packages: not a test")
	}
	if got := names(cache); !reflect.DeepEqual(got, after) {
		t.Errorf("after the database was replaced, %d packages, want the new database's %d", len(got), len(after))
	}
}
