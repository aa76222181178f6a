package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/registry"
)

// TestOwnerChangesBetweenQueries: the statements of one engine share the
// package databases, and a statement after dpkg's database changed
// answers the new owner (dpkg replaced a file list: another inode) and
// the new maintainer script (rewritten in place).
func TestOwnerChangesBetweenQueries(t *testing.T) {
	root := t.TempDir()
	for name, data := range map[string]string{
		"etc/apt/apt.conf.d/99hook":    "DPkg::Post-Invoke {\"true\";};\n",
		"var/lib/dpkg/status":          "Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nStatus: install ok installed\nVersion: 1\n",
		"var/lib/dpkg/info/a.list":     "/etc/apt/apt.conf.d/99hook\n",
		"var/lib/dpkg/info/a.postinst": "#!/bin/sh\necho one\n",
		"var/lib/dpkg/info/b.list":     "/etc/other\n",
		"var/lib/dpkg/info/b.list-ne":  "/etc/apt/apt.conf.d/99hook\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(150 * time.Millisecond) // older than a change could be in the same clock tick
	e, err := New(registry.Tables(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	one := func(sql string) string {
		t.Helper()
		res, err := e.Query(context.Background(), sql)
		if err != nil || len(res.Rows) != 1 {
			t.Fatalf("%v %v", res, err)
		}
		return res.Rows[0][0]
	}
	owner := func() string { return one("SELECT DISTINCT package FROM apt_hooks") }
	body := func() string { return one("SELECT body FROM package_scripts WHERE package = 'a'") }
	if got := owner(); got != "a" {
		t.Fatalf("owner: %q, want a", got)
	}
	if got := body(); got != "#!/bin/sh\necho one\n" {
		t.Fatalf("body: %q", got)
	}
	info := filepath.Join(root, "var/lib/dpkg/info")
	if err := os.WriteFile(filepath.Join(info, "a.postinst"), []byte("#!/bin/sh\necho two\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := body(); got != "#!/bin/sh\necho two\n" {
		t.Errorf("after the script changed, body: %q", got)
	}
	// as dpkg does: the new list is written beside and renamed over
	if err := os.WriteFile(filepath.Join(info, "a.list"), []byte("/etc/elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(info, "b.list-ne"), filepath.Join(info, "b.list")); err != nil {
		t.Fatal(err)
	}
	if got := owner(); got != "b" {
		t.Errorf("after the lists changed, owner: %q, want b", got)
	}
}
