// Package treefiles writes small file trees for tests.
package treefiles

import (
	"os"
	"path/filepath"
	"testing"
)

// Write writes files (a path relative to dir: its contents) under dir,
// making their directories.
func Write(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
