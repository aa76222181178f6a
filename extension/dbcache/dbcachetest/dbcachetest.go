// Package dbcachetest holds what tests of readers through a run's cache
// share.
package dbcachetest

import (
	"context"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// Statement opens root for one statement of a run with cache (none when
// nil), its problems collected in the returned list.
func Statement(t testing.TB, cache *dbcache.Cache, root string) (context.Context, *fsroot.Root, *fsroot.Problems) {
	t.Helper()
	problems := &fsroot.Problems{}
	ctx := dbcache.With(fsroot.WithProblems(context.Background(), problems), cache)
	fs, err := fsroot.OpenContext(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return ctx, fs, problems
}
