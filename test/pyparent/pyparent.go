// Package pyparent starts a python3 that waits, then runs commands one
// after the other: a parent that was running before a capture began, as a
// web server or a dropper started hours ago is, whose children's rows must
// still name it.
package pyparent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// Python is the interpreter the parent runs.
const Python = "/usr/bin/python3"

// Parent is the waiting python3.
type Parent struct {
	Cmd   *exec.Cmd
	stdin io.WriteCloser
}

// Start starts python3 with env (the process's own when nil) and returns
// once it waits; Go lets it run argvs, each to completion.
func Start(t testing.TB, env []string, argvs ...[]string) *Parent {
	t.Helper()
	if _, err := os.Stat(Python); err != nil {
		need.Missing(t, "no "+Python)
	}
	lists := make([]string, len(argvs))
	for i, argv := range argvs {
		lists[i] = List(argv)
	}
	script := fmt.Sprintf(`import subprocess, sys
print("ready", flush=True)
sys.stdin.readline()
for argv in [%s]:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
`, strings.Join(lists, ", "))
	cmd := exec.Command(Python, "-c", script)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("python3: %q %v", line, err)
	}
	return &Parent{Cmd: cmd, stdin: stdin}
}

// PID is the parent's pid, as the tables write it.
func (p *Parent) PID() string { return strconv.Itoa(p.Cmd.Process.Pid) }

// Go lets the parent run its commands.
func (p *Parent) Go(t testing.TB) {
	t.Helper()
	if _, err := p.stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
}

// Wait waits for the parent to have run every command.
func (p *Parent) Wait(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Wait(); err != nil {
		t.Fatalf("python3: %v", err)
	}
}

// List is argv as JSON: a Python list literal, and the form of the
// pm_* tables' argv column.
func List(argv []string) string {
	b, _ := json.Marshal(argv) // a []string always encodes
	return string(b)
}
