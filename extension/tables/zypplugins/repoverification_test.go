package zypplugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// TestRepoverification follows libzypp's source, not an oracle: Debian's
// libzypp 17.25.7 predates repoverification plugins (added in 17.30.1).
// PluginRepoverification runs every entry dirForEach gives (dot names
// too) that is isFile() && userMayRX(), through ExternalProgram: no
// PluginScript, so no owner execute bit is asked for (zypp.expected.md).
func TestRepoverification(t *testing.T) {
	fixture := map[string]string{}
	for _, r := range rows(t, filepath.Join(rootsDir, "zypp")) {
		if r["kind"] == "repoverification" {
			fixture[r["name"]] = r["runs"]
			if !strings.Contains(r["trigger"], "refresh") {
				t.Errorf("%s: trigger %q", r["name"], r["trigger"])
			}
		}
	}
	want := map[string]string{"verify": "1", ".hidden-verify": "1", "notes.txt": "0"}
	for n, w := range want {
		if fixture[n] != w {
			t.Errorf("fixture %s: runs %q, want %s", n, fixture[n], w)
		}
	}
	if len(fixture) != len(want) {
		t.Errorf("fixture rows %v, want %v", fixture, want)
	}

	if os.Geteuid() != 0 {
		need.Missing(t, "chown needs root")
	}
	root := t.TempDir()
	dir := filepath.Join(root, pluginsPath, "repoverification")
	if err := os.MkdirAll(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		mode     os.FileMode
		uid, gid int
	}{
		"group-root-0075": {0o075, 1000, 0}, // userMayRX by the group's bits; execve needs any x bit
		"owner-x-only":    {0o100, 0, 0},    // no read bit: userMayRX fails
		"other-0705":      {0o705, 1000, 1000},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, c.uid, c.gid); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]table.Row{}
	for _, r := range rows(t, root) {
		got[r["name"]] = r
	}
	for n, w := range map[string]string{"group-root-0075": "1", "owner-x-only": "0", "other-0705": "1", "adir": "0"} {
		r := got[n]
		if r["runs"] != w || (w == "0") != (r["reason"] != "") {
			t.Errorf("%s: runs %q reason %q, want runs %s", n, r["runs"], r["reason"], w)
		}
	}
}
