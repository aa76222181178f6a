package provenance_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
)

// TestOldRPMHosts: on CentOS 5 (MD5 digests, no FILEDIGESTALGO) and
// CentOS 7 (SHA-256) roots, with their real Berkeley DB Packages, a file
// as its package recorded it is owned and unmodified, and modified once
// its content changes. The files are ones rpm recorded empty, whose
// content a test can reproduce: CentOS 5's /etc/environment (setup),
// CentOS 7's /etc/gai.conf (glibc).
func TestOldRPMHosts(t *testing.T) {
	dbs := rpmdbtest.RealBDB(t)
	for _, c := range []struct{ db, file, pkg string }{
		{"centos5-plain", "/etc/environment", "setup"},
		{"centos7-plain", "/etc/gai.conf", "glibc"},
	} {
		t.Run(c.db, func(t *testing.T) {
			root := t.TempDir()
			rpmdbtest.CopyFile(t, dbs[c.db], filepath.Join(root, "var/lib/rpm"))
			file := filepath.Join(root, c.file)
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			of := func() provenance.Of {
				problems := &fsroot.Problems{}
				fs, err := fsroot.OpenContext(fsroot.WithProblems(context.Background(), problems), root)
				if err != nil {
					t.Fatal(err)
				}
				defer fs.Close()
				s := provenance.New(fs)
				defer s.Close()
				o := s.File(c.file, nil)
				if ps := problems.List(); len(ps) > 0 {
					t.Errorf("problems %v", ps)
				}
				return o
			}
			if o := of(); o.Package != c.pkg || o.Modified {
				t.Errorf("as packaged: %+v", o)
			}
			if err := os.WriteFile(file, []byte("planted\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if o := of(); o.Package != c.pkg || !o.Modified || o.Columns()["package_modified"] != "1" {
				t.Errorf("changed: %+v", o)
			}
		})
	}
}
