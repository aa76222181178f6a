// Package liveproc starts processes that stay alive until a test ends,
// for tests that read a process from /proc or from captured events: a
// short process may be gone before it is read.
package liveproc

import (
	"os/exec"
	"testing"
)

// Start runs /bin/sh -c 'read line' with extra as its further arguments
// (so that its argv is recognisable); it waits on its stdin until the
// test ends.
func Start(t testing.TB, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", append([]string{"-c", "read line"}, extra...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	return cmd
}
