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
	"time"

	"golang.org/x/sys/unix"
)

// Gate is one named pipe.
type Gate struct {
	Path string
	once sync.Once
	done chan struct{}
}

// New makes the pipe at path. At the test's end it is opened, if it was
// not, and a writer still waiting for a reader is let go, so that nothing
// stays blocked on it.
func New(t testing.TB, path string) *Gate {
	t.Helper()
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("gate %s: %v", path, err)
	}
	g := &Gate{Path: path, done: make(chan struct{})}
	t.Cleanup(g.release)
	return g
}

// Open lets the reader go: one line is written to the pipe once a reader
// has it open (without waiting for one here).
func (g *Gate) Open() {
	g.once.Do(func() {
		go func() {
			defer close(g.done)
			f, err := os.OpenFile(g.Path, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			_, _ = f.WriteString("go\n")
			f.Close()
		}()
	})
}

// release opens the gate and, when no reader came, reads it here so that
// the writer's open returns.
func (g *Gate) release() {
	g.Open()
	select {
	case <-g.done:
		return
	case <-time.After(100 * time.Millisecond):
	}
	if f, err := os.OpenFile(g.Path, os.O_RDONLY|unix.O_NONBLOCK, 0); err == nil {
		<-g.done
		f.Close()
	}
}
