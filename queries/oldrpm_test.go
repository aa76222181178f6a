package queries_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/tables"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
	"github.com/pkgpersist/pkgpersist/queries"
)

// detect runs the detections ids on root and returns each one's rows, the
// values of cols joined by spaces, sorted.
func detect(t *testing.T, root string, cols []string, ids ...string) map[string][]string {
	t.Helper()
	e, err := engine.New(tables.Engine(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, q := range qs {
		want := false
		for _, id := range ids {
			want = want || q.ID == id
		}
		if !want {
			continue
		}
		res, err := e.Query(context.Background(), q.SQL)
		if err != nil {
			t.Fatalf("%s: %v", q.ID, err)
		}
		for _, r := range res.Rows {
			var vals []string
			for _, c := range cols {
				for i, rc := range res.Columns {
					if rc == c {
						vals = append(vals, r[i])
					}
				}
			}
			got[q.ID] = append(got[q.ID], strings.Join(vals, " "))
		}
		sort.Strings(got[q.ID])
	}
	return got
}

// copyRoot copies the fixture files srcs (a trailing "/." copies a
// directory's content) into root, each under the path it has below its
// fixture root.
func copyRoot(t *testing.T, root string, srcs ...string) {
	t.Helper()
	for _, src := range srcs {
		dst := root
		if !strings.HasSuffix(src, "/.") {
			rel := strings.SplitN(strings.TrimPrefix(src, "../test/roots/"), "/", 2)[1]
			dst = filepath.Join(root, filepath.Dir(rel))
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v %s", src, err, out)
		}
	}
}

// TestCentOS7Root: Metasploit's in-place edit of fastestmirror.py (the
// msf-yum fixture) on a CentOS 7 root, whose real Berkeley DB Packages
// (go-rpmdb's centos7-plain) lists yum-plugin-fastestmirror, and a
// PANIX-style planted plugin beside it: unowned-plugins lists only the
// planted one, modified-package-files the edited one.
func TestCentOS7Root(t *testing.T) {
	db := rpmdbtest.RealBDB(t)["centos7-plain"]
	root := t.TempDir()
	copyRoot(t, root, "../test/roots/msf-yum/.", "../test/roots/yum/usr/lib/yum-plugins/backdoor.py", "../test/roots/yum/etc/yum/pluginconf.d/backdoor.conf")
	rpmdbtest.CopyFile(t, db, filepath.Join(root, "var/lib/rpm"))
	got := detect(t, root, []string{"path", "package"}, "unowned-plugins", "modified-package-files")
	if u := got["unowned-plugins"]; len(u) != 1 || !strings.Contains(u[0], "/usr/lib/yum-plugins/backdoor.py") {
		t.Errorf("unowned-plugins: %q", u)
	}
	if m := strings.Join(got["modified-package-files"], "\n"); !strings.Contains(m, "/usr/lib/yum-plugins/fastestmirror.py yum-plugin-fastestmirror") {
		t.Errorf("modified-package-files: %q", m)
	}
}

// TestCentOS6Root: the centos6-yum fixture with CentOS 6's real rpm
// database in place (test/roots/centos6-yum.expected.md). There the
// packaged plugin is byte for byte what the database records, so it is
// owned and unmodified until edited in place, as Metasploit's yum module
// edits it; PANIX's plugin is unowned and so is the payload it runs.
func TestCentOS6Root(t *testing.T) {
	db := rpmdbtest.RealBDB(t)["centos6-plain"]
	root := t.TempDir()
	copyRoot(t, root, "../test/roots/centos6-yum/.")
	rpmdbtest.CopyFile(t, db, filepath.Join(root, "var/lib/rpm"))
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", what, got, want)
		}
	}
	cols := []string{"name", "hook", "path", "target", "package"}
	got := detect(t, root, cols, "unowned-plugins", "modified-package-files", "hook-runs-unowned")
	check("unowned-plugins", got["unowned-plugins"], "yumcon /usr/lib/yum-plugins/yumcon.py")
	check("modified-package-files", got["modified-package-files"])
	check("hook-runs-unowned", got["hook-runs-unowned"],
		"yumcon /usr/lib/yum-plugins/yumcon.py /usr/lib/yum-plugins/yumcon.py ",
		"yumcon /usr/lib/yum-plugins/yumcon.py /usr/lib/yumcon ")

	plugin := filepath.Join(root, "usr/lib/yum-plugins/fastestmirror.py")
	body, err := os.ReadFile(plugin)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(body), "def init_hook(conduit):\n", "def init_hook(conduit):\n    os.system('setsid /usr/bin/x &')\n", 1)
	if edited == string(body) {
		t.Fatal("fastestmirror.py has no init_hook to edit")
	}
	if err := os.WriteFile(plugin, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	got = detect(t, root, []string{"source_table", "path", "package"}, "modified-package-files")
	check("modified-package-files after the edit", got["modified-package-files"],
		"yum_plugins /usr/lib/yum-plugins/fastestmirror.py yum-plugin-fastestmirror")
}
