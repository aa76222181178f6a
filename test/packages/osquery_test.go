package packages

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAutoloadRefusal: the rule accepts a root-owned 0755 extension in a
// 0755 directory, and names each way of breaking it.
func TestAutoloadRefusal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the files must be root's: root only")
	}
	cases := []struct {
		name      string
		file, dir os.FileMode
		chown     bool
		want      string
	}{
		{"good.ext", 0o755, 0o755, false, ""},
		{"good.ext", 0o757, 0o755, false, "writable by others"},
		{"good.ext", 0o644, 0o755, false, "not executable"},
		{"good.ext", 0o755, 0o755 | os.ModeSticky, false, "sticky"},
		{"good.ext", 0o755, 0o775, false, "others could replace"},
		{"good.ext", 0o755, 0o755, true, "not root"},
		{"good.so", 0o755, 0o755, false, "not named *.ext"},
	}
	for _, c := range cases {
		root := t.TempDir()
		dir := filepath.Join(root, "usr/lib/x")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, c.name)
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f, c.file); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, c.dir); err != nil {
			t.Fatal(err)
		}
		if c.chown {
			if err := os.Chown(f, 1000, 1000); err != nil {
				t.Fatal(err)
			}
		}
		got := AutoloadRefusal(root, "/usr/lib/x/"+c.name)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s %v in %v (chown %v): %q, want %q", c.name, c.file, c.dir, c.chown, got, c.want)
		}
	}
}
