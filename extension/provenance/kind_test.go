package provenance

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// TestOnlyRegularFilesRead: a directory or FIFO a table lists (a plugin
// directory's entry the package manager skips) has its facts but is not
// read: reading a directory fails and a FIFO blocks, and neither is a file
// the package manager reads, so neither may make the root incomplete.
func TestOnlyRegularFilesRead(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"plugins/adir", "plugins"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "plugins/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugins/x"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var ps fsroot.Problems
	ctx := fsroot.WithProblems(context.Background(), &ps)
	fs, err := fsroot.OpenContext(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	var items []Item
	for _, p := range []string{"/plugins/adir", "/plugins/fifo", "/plugins/x"} {
		items = append(items, Item{Path: p, Row: table.Row{}})
	}
	rows, err := Rows(ctx, fs, Columns("the file", true), items)
	if err != nil {
		t.Fatal(err)
	}
	if got := ps.List(); len(got) != 0 {
		t.Errorf("problems for entries that are not read: %v", got)
	}
	for i, want := range []struct {
		mode   string
		hashed bool
	}{{"0755", false}, {"0644", false}, {"0755", true}} {
		if rows[i]["mode"] != want.mode || want.hashed != (rows[i]["sha256"] != "") {
			t.Errorf("%s: mode %q sha256 %q", items[i].Path, rows[i]["mode"], rows[i]["sha256"])
		}
	}
}
