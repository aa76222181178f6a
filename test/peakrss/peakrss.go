// Package peakrss runs a program under a memory ceiling and reports its
// peak resident set size, so a test can assert that memory stays bounded
// by configuration, not by input, without letting a regression take the
// machine down: the program is killed as soon as it passes the ceiling.
package peakrss

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Result is how a program ended and the most memory it held.
type Result struct {
	// Peak is the highest resident set size seen, in bytes: the kernel's
	// VmHWM, sampled while it ran. (rusage's maximum is not used: it
	// counts the parent's memory the child had before exec.)
	Peak int64
	// Killed is set when the program passed the ceiling and was killed.
	Killed bool
	// Err is what Wait returned.
	Err            error
	Stdout, Stderr string
}

// Run starts cmd in a process group of its own and waits for it, sampling
// its VmHWM every 10 ms; above ceiling bytes the whole group is killed (a
// killed program's children would otherwise hold its output open).
// cmd's Stdout and Stderr are captured.
func Run(cmd *exec.Cmd, ceiling int64) (Result, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var r Result
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r.Err = <-done:
			r.Stdout, r.Stderr = out.String(), errb.String()
			return r, nil
		case <-tick.C:
			if hwm, err := vmHWM(strconv.Itoa(cmd.Process.Pid)); err == nil {
				r.Peak = max(r.Peak, hwm)
			}
			if r.Peak > ceiling && !r.Killed {
				r.Killed = true
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		}
	}
}

// Self is this process's peak resident set size, for a child to report
// the last of its peak, which sampling can miss.
func Self() (int64, error) { return vmHWM("self") }

// vmHWM reads a process's peak resident set size from /proc.
func vmHWM(pid string) (int64, error) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%s/status", pid)
}
