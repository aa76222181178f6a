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
// answers the new owner (dpkg replaced a file list: another inode).
func TestOwnerChangesBetweenQueries(t *testing.T) {
	root := t.TempDir()
	for name, data := range map[string]string{
		"etc/apt/apt.conf.d/99hook":   "DPkg::Post-Invoke {\"true\";};\n",
		"var/lib/dpkg/status":         "Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nStatus: install ok installed\nVersion: 1\n",
		"var/lib/dpkg/info/a.list":    "/etc/apt/apt.conf.d/99hook\n",
		"var/lib/dpkg/info/b.list":    "/etc/other\n",
		"var/lib/dpkg/info/b.list-ne": "/etc/apt/apt.conf.d/99hook\n",
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
	owner := func() string {
		t.Helper()
		res, err := e.Query(context.Background(), "SELECT DISTINCT package FROM apt_hooks")
		if err != nil || len(res.Rows) != 1 {
			t.Fatalf("%v %v", res, err)
		}
		return res.Rows[0][0]
	}
	if got := owner(); got != "a" {
		t.Fatalf("owner: %q, want a", got)
	}
	// as dpkg does: the new list is written beside and renamed over
	info := filepath.Join(root, "var/lib/dpkg/info")
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
