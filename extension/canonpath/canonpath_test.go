package canonpath_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/canonpath"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// TestNames: on a merged-/usr root (/lib -> usr/lib relative, /sbin ->
// /usr/bin absolute, /vmlinuz a link to a file), File resolves the
// directory part inside the root and keeps the last name, also for a
// file that does not exist; Aliases and Swapped name a path through the
// directory links only.
func TestNames(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/lib/apk", "usr/bin", "boot"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"lib": "usr/lib", "sbin": "/usr/bin", "vmlinuz": "boot/vmlinuz", "usr/bin/sh": "dash"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := fsroot.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	r := canonpath.New(fs)
	for in, want := range map[string]string{
		"/lib/apk/commit_hooks.d/x": "/usr/lib/apk/commit_hooks.d/x",
		"/sbin/sh":                  "/usr/bin/sh",
		"/usr/lib/apk/x":            "/usr/lib/apk/x",
		"/":                         "/",
	} {
		if got, err := r.File(in); err != nil || got != want {
			t.Errorf("File(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, want := r.Links(), [][2]string{{"/lib", "/usr/lib"}, {"/sbin", "/usr/bin"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Links() = %v, want %v", got, want)
	}
	if got := r.Aliases("/usr/bin/x"); !reflect.DeepEqual(got, []string{"/sbin/x"}) {
		t.Errorf("Aliases = %v", got)
	}
	if got := r.Swapped("/lib/x"); !reflect.DeepEqual(got, []string{"/usr/lib/x"}) {
		t.Errorf("Swapped(/lib/x) = %v", got)
	}
	if got := r.Swapped("/usr/libexec/x"); got != nil {
		t.Errorf("Swapped(/usr/libexec/x) = %v", got)
	}
}
