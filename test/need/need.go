// Package need lets a test require a real program: on a developer's machine
// without it the test is skipped; in CI (CI set) it fails, because CI
// installs everything the tests need.
package need

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Program returns the path of a program on PATH, or skips (fails in CI).
func Program(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed ("+err.Error()+")")
	}
	return p
}

// Unpacked returns the path of a program that test/deps.sh unpacks, not
// installs, from Debian package pkg because apt cannot install it next to
// another the tests need: rel inside $PKGPERSIST_TEST_UNPACKED/pkg
// (default /opt/pkgpersist-test/pkg), else the program of that name on
// PATH (a machine that installed it the ordinary way); without either it
// skips (fails in CI).
func Unpacked(t testing.TB, pkg, rel string) string {
	t.Helper()
	dir := os.Getenv("PKGPERSIST_TEST_UNPACKED")
	if dir == "" {
		dir = "/opt/pkgpersist-test"
	}
	p := filepath.Join(dir, pkg, rel)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return p
	}
	if p, err := exec.LookPath(filepath.Base(rel)); err == nil {
		return p
	}
	Missing(t, filepath.Base(rel)+" is neither unpacked into "+filepath.Join(dir, pkg)+" (test/deps.sh as root) nor installed")
	return ""
}

// Missing skips the test with why, or fails it when CI is set.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must have this: %s", why)
	}
	t.Skip(why)
}
