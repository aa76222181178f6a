package fsroot

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestDirLstat: an entry described through its open directory is what
// Lstat from the root says, and a name that is not one entry ("..", a
// path) is refused: the directory of the root's top must not describe
// what is above it.
func TestDirLstat(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/f"), []byte("abc"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/f", filepath.Join(root, "etc/l")); err != nil {
		t.Fatal(err)
	}
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := r.OpenDir("/etc")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ents, err := d.Entries()
	if err != nil || len(ents) != 2 {
		t.Fatalf("entries %v, %v", ents, err)
	}
	for _, n := range []string{"f", "l"} {
		got, err := d.Lstat(n)
		if err != nil {
			t.Fatal(err)
		}
		want, err := r.Lstat("/etc/" + n)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name() != want.Name() || got.Mode() != want.Mode() || got.Size() != want.Size() || !reflect.DeepEqual(got.Sys(), want.Sys()) {
			t.Errorf("%s: %v %v through the directory, %v %v from the root", n, got.Mode(), got.Sys(), want.Mode(), want.Sys())
		}
	}
	top, err := r.OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	defer top.Close()
	for _, n := range []string{"..", ".", "", "etc/f", "../root"} {
		if fi, err := top.Lstat(n); err == nil {
			t.Errorf("Lstat(%q) = %v, want a refusal", n, fi.Name())
		}
	}
}
