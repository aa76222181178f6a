// Package need lets a test require a real program: on a developer's machine
// without it the test is skipped; in CI (CI set) it fails, because CI
// installs everything the tests need.
package need

import (
	"os"
	"os/exec"
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

// Missing skips the test with why, or fails it when CI is set.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must have this: %s", why)
	}
	t.Skip(why)
}
