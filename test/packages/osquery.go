// Package packages holds the acceptance tests of the packages make dist
// writes (packages_test.go) and the rule they check the extension by.
package packages

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// AutoloadRefusal says why osqueryd, running as root, would refuse to
// autoload the extension at path (in the tree under root), or "" when it
// would not. osquery's rule (osquery/extensions/extensions.cpp isFileSafe,
// osquery/filesystem/filesystem.cpp safePermissions with
// osquery/filesystem/posix/fileops.cpp platformIsTmpDir, isOwnerRoot,
// isExecutable, hasSafePermissions): a file that exists and is not a
// directory, named *.ext, in a directory without the sticky bit, owned by
// root (or osqueryd's user), executable by its owner, not writable by
// others. Ours is stricter where osquery does not look: every directory
// from the root down is root's and writable by no one else, so that no
// other user can put another file in its place.
func AutoloadRefusal(root, path string) string {
	fi, err := os.Stat(filepath.Join(root, path))
	switch {
	case err != nil:
		return err.Error()
	case fi.IsDir():
		return "a directory"
	case filepath.Ext(path) != ".ext":
		return "not named *.ext"
	}
	st := fi.Sys().(*syscall.Stat_t)
	switch {
	case st.Uid != 0:
		return fmt.Sprintf("owned by uid %d, not root", st.Uid)
	case fi.Mode().Perm()&0o100 == 0:
		return "not executable by its owner"
	case fi.Mode().Perm()&0o002 != 0:
		return "writable by others"
	}
	dir := filepath.Dir(path)
	if d, err := os.Stat(filepath.Join(root, dir)); err != nil || d.Mode()&os.ModeSticky != 0 {
		return dir + " has the sticky bit (a /tmp-like directory)"
	}
	for d := dir; ; d = filepath.Dir(d) {
		di, err := os.Stat(filepath.Join(root, d))
		if err != nil {
			return err.Error()
		}
		if s := di.Sys().(*syscall.Stat_t); s.Uid != 0 || di.Mode().Perm()&0o022 != 0 {
			return fmt.Sprintf("%s is %v uid %d: others could replace the file", d, di.Mode(), s.Uid)
		}
		if d == "/" || strings.TrimSuffix(d, "/") == "" {
			return ""
		}
	}
}
