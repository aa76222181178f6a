package queries_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/tables"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
	"github.com/pkgpersist/pkgpersist/queries"
)

// TestCentOS7Root: Metasploit's in-place edit of fastestmirror.py (the
// msf-yum fixture) on a CentOS 7 root, whose real Berkeley DB Packages
// (go-rpmdb's centos7-plain) lists yum-plugin-fastestmirror, and a
// PANIX-style planted plugin beside it: unowned-plugins lists only the
// planted one, modified-package-files the edited one.
func TestCentOS7Root(t *testing.T) {
	db := rpmdbtest.RealBDB(t)["centos7-plain"]
	root := t.TempDir()
	for _, src := range []string{"../test/roots/msf-yum/.", "../test/roots/yum/usr/lib/yum-plugins/backdoor.py", "../test/roots/yum/etc/yum/pluginconf.d/backdoor.conf"} {
		dst := root
		if !strings.HasSuffix(src, "/.") {
			dst = filepath.Join(root, strings.TrimPrefix(filepath.Dir(src), "../test/roots/yum"))
		}
		if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v %s", src, err, out)
		}
	}
	rpmdbtest.CopyFile(t, db, filepath.Join(root, "var/lib/rpm"))
	e, err := engine.New(tables.Engine(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	qs, _ := querydef.Load(queries.FS)
	got := map[string][]string{}
	for _, q := range qs {
		if q.ID != "unowned-plugins" && q.ID != "modified-package-files" {
			continue
		}
		res, err := e.Query(context.Background(), q.SQL)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			got[q.ID] = append(got[q.ID], strings.Join(r, " "))
		}
	}
	if u := got["unowned-plugins"]; len(u) != 1 || !strings.Contains(u[0], "/usr/lib/yum-plugins/backdoor.py") {
		t.Errorf("unowned-plugins: %q", u)
	}
	if m := strings.Join(got["modified-package-files"], "\n"); !strings.Contains(m, "/usr/lib/yum-plugins/fastestmirror.py yum-plugin-fastestmirror") {
		t.Errorf("modified-package-files: %q", m)
	}
}
