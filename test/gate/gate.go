// Package gate holds a test's processes at a named pipe until the test
// lets them go: a process that reads the pipe (`read x < PIPE` in a
// shell, or `cat PIPE`) blocks until the test has seen what it waits for
// (its exec read by the capture, say), so that the test does not depend
// on how fast a loaded machine runs.
package gate

import (
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// Gate is one named pipe.
type Gate struct {
	Path string
	once sync.Once
}

// New makes the pipe at path. At the test's end it is opened, if it was
// not, so that nothing stays blocked on it.
func New(t testing.TB, path string) *Gate {
	t.Helper()
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("gate %s: %v", path, err)
	}
	g := &Gate{Path: path}
	t.Cleanup(g.Open)
	return g
}

// Open lets the reader go: one line is written to the pipe once a reader
// has it open (without waiting for one here).
func (g *Gate) Open() {
	g.once.Do(func() {
		go func() {
			f, err := os.OpenFile(g.Path, os.O_WRONLY, 0)
			if err != nil {
				return // removed with the test's directory: no reader
			}
			_, _ = f.WriteString("go\n")
			f.Close()
		}()
	})
}
