package proccn

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// listen subscribes or skips without root (fails in CI).
func listen(t *testing.T) *Conn {
	t.Helper()
	if os.Geteuid() != 0 {
		need.Missing(t, "the process connector needs root")
	}
	c, err := Listen(Options{RcvBuf: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestForkExecExitOfAChild: a child the test starts shows as fork (from
// this process), exec and exit with its exit status, in that order.
func TestForkExecExitOfAChild(t *testing.T) {
	c := listen(t)
	defer c.Close()
	cmd := exec.Command("/bin/sh", "-c", "exit 7")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	_ = cmd.Wait()
	var got []Kind
	var code uint32
	deadline := time.Now().Add(5 * time.Second)
	var evs []Event
	for time.Now().Before(deadline) && len(got) < 3 {
		var err error
		evs, _, err = c.Read(evs[:0])
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			switch {
			case e.Kind == Fork && e.TGID == pid && e.PID == pid:
				if e.ParentTGID != int32(os.Getpid()) {
					t.Errorf("fork of %d from %d, want from %d", pid, e.ParentTGID, os.Getpid())
				}
				got = append(got, e.Kind)
			case (e.Kind == Exec || e.Kind == Exit) && e.PID == pid:
				got = append(got, e.Kind)
				if e.Kind == Exit {
					code = e.ExitCode
				}
			}
		}
	}
	if len(got) != 3 || got[0] != Fork || got[1] != Exec || got[2] != Exit {
		t.Fatalf("events of pid %d: %v, want fork exec exit", pid, got)
	}
	if code != 7<<8 {
		t.Errorf("exit status %#x, want %#x (exit 7)", code, 7<<8)
	}
}

// TestSequenceGaps: a skipped number on one CPU is that many events
// lost; CPUs count apart; the first number seen on a CPU loses nothing.
func TestSequenceGaps(t *testing.T) {
	c := &Conn{seqs: map[uint32]uint32{}}
	steps := []struct {
		cpu, seq uint32
		lost     int64
	}{
		{0, 100, 0}, {1, 7, 0}, {0, 101, 0}, {0, 105, 3}, {1, 8, 0}, {1, 8, 0}, {0, 106, 0},
		{2, 0xffffffff, 0}, {2, 1, 1}, // wraps
	}
	for i, s := range steps {
		if got := c.sequence(s.cpu, s.seq); got != s.lost {
			t.Errorf("step %d (cpu %d seq %d): lost %d, want %d", i, s.cpu, s.seq, got, s.lost)
		}
	}
}
