package rpmdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
)

// TestPackagesMayBeKept: a Package passed to Packages' fn stays what it
// was after the walk goes on (package_origins keeps every one): a header
// small enough to sit on a Berkeley DB page must not be a view of the
// page buffer the walk reads the next page into.
func TestPackagesMayBeKept(t *testing.T) {
	dbs := rpmdbtest.RealBDB(t)
	dbs["ndb"] = rpmdbtest.RealNDB()
	for name, src := range dbs {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			rpmdbtest.CopyFile(t, src, filepath.Join(root, "var/lib/rpm"))
			fs, err := fsroot.Open(root)
			if err != nil {
				t.Fatal(err)
			}
			defer fs.Close()
			db := rpmdb.New(context.Background(), fs)
			defer db.Close()
			var kept []rpmdb.Package
			var then []string
			if err := db.Packages(func(p rpmdb.Package) error {
				kept = append(kept, p)
				then = append(then, p.Name()+" "+p.EVR()+" "+p.Arch())
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for i, p := range kept {
				if now := p.Name() + " " + p.EVR() + " " + p.Arch(); now != then[i] {
					t.Errorf("package %d was %q while walked, %q after", p.Num, then[i], now)
				}
			}
		})
	}
}
