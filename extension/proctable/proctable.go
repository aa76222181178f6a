// Package proctable keeps the facts of every live process (executable,
// arguments, working directory, ids, parent) as the capture last saw
// them: seeded from /proc when it starts, then kept from the process
// connector's fork, exec and exit events. It answers what a process's
// parent and ancestors were at an event, which /proc alone cannot once
// they have exited or exec'd again.
//
// A process that exits stays in the table for a grace period (or until
// MaxExited later exits push it out), so that an event read after its
// exit (a file it wrote, from another queue) is still attributed to it.
// The table is bounded: exited processes by MaxExited, live ones by the
// processes alive plus those whose exit was lost, which Sweep finds in
// /proc and turns into exited ones.
//
// What an exec ran is known, beside /proc, from the files the kernel
// opened for it (fanotify's FAN_OPEN_EXEC, given to Opened before the
// exec is applied): the program, a `#!` script's interpreters, the ELF
// interpreter. They name the executable of a process gone before /proc
// was read, and the script a process runs, which /proc does not (its
// executable is the interpreter); see Chain.
//
// A Table belongs to the one goroutine that applies events to it.
package proctable

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Proc is one process.
type Proc struct {
	PID, PPID int
	Path      string
	// Script is the file execve ran when it is not the executable: a
	// `#!` script (or a binfmt_misc file) whose interpreter Path is; ""
	// for a program, and when it is not known (a process seeded from
	// /proc).
	Script    string
	Argv      []string
	Cwd       string
	UID, EUID int64
	GID, EGID int64
	// Start is when the process was forked, since boot (/proc/PID/stat
	// starttime, to the clock tick).
	Start time.Duration
	// Seeded is true when the facts were read from /proc at the start
	// (or when the process was first met), not at its exec.
	Seeded bool
	// Exited is true once the process has exited: it is kept for a while
	// for the events that come after its exit.
	Exited bool
	// Unread is true when the process was gone before its facts could be
	// read at its exec: only its pid and parent are known.
	Unread bool
	// Swept is true when Sweep found the process gone from /proc without
	// its exit event: lost, or still queued behind the reader, with its
	// exec, so the entry still answers for them.
	Swept bool
	// ExecAt is when the process exec'd this program, since boot (0 when
	// it was seeded or forked); Before is what it ran until then, so that
	// an event from another queue (a file written just before the exec)
	// is told apart from what the process ran after.
	ExecAt time.Duration
	Before *Proc
}

// maxBefore bounds the images a process keeps from before its execs.
const maxBefore = 3

// At is the process as it was when an event happened that is known to
// have come after `after` and not after `by` (both since boot): the image
// before every exec after by. sure is false when that is not known: the
// process exec'd between the two (the event may be the earlier image's or
// the later one's), or the images kept do not reach back before by.
// img is nil when the entry is another process, started after by (the
// pid was reused since the event).
func (p *Proc) At(after, by time.Duration) (img *Proc, sure bool) {
	if p.Start > by+startSlack {
		return nil, false
	}
	for p.Before != nil && p.ExecAt > by {
		p = p.Before
	}
	return p, p.ExecAt <= after
}

// Cmdline is the arguments joined by spaces, as osquery's cmdline.
func (p *Proc) Cmdline() string { return strings.Join(p.Argv, " ") }

// maxDepth bounds an ancestry walk (pid namespaces nest 32 deep; chains
// of processes are longer only when something loops).
const maxDepth = 1024

// Defaults of a table's bounds on exited processes.
const (
	DefaultGrace     = 30 * time.Second
	DefaultMaxExited = 4096
)

// Table is the process table.
type Table struct {
	proc  string
	procs map[int]*Proc
	// Grace is how long an exited process stays; MaxExited how many
	// stay at most.
	Grace     time.Duration
	MaxExited int
	// Now is the clock of exits (time.Now).
	Now    func() time.Time
	exited []exit // oldest first
	opens  opens
}

// exit is one exited process in the order they exited.
type exit struct {
	p  *Proc
	at time.Time
}

// New returns an empty table reading the proc filesystem at procfs
// ("/proc" when empty).
func New(procfs string) *Table {
	if procfs == "" {
		procfs = "/proc"
	}
	return &Table{proc: procfs, procs: map[int]*Proc{}, Grace: DefaultGrace, MaxExited: DefaultMaxExited, Now: time.Now, opens: newOpens()}
}

// Len is the number of processes known.
func (t *Table) Len() int { return len(t.procs) }

// Seed adds every process /proc lists. A process that exits while being
// read is left out: it is gone, and its exit event follows.
func (t *Table) Seed() error {
	ents, err := os.ReadDir(t.proc)
	if err != nil {
		return fmt.Errorf("seeding the process table: %w", err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if _, known := t.procs[pid]; known {
			continue
		}
		if p, err := t.Read(pid); err == nil {
			p.Seeded = true
			t.procs[pid] = p
		}
	}
	return nil
}

// Read reads a process's facts from /proc. The executable and working
// directory of a process that is exiting (or a kernel thread) read as
// empty; an error means the process is gone.
//
// It runs for every exec, racing the process's exit, so it reads with
// bare syscalls into one buffer: os.ReadFile spends twice the calls
// (epoll registration, fstat, a read to see EOF) on files the kernel
// renders in one read.
func (t *Table) Read(pid int) (*Proc, error) {
	dir := t.proc + "/" + strconv.Itoa(pid) + "/"
	buf := make([]byte, 4096)
	status, err := readProcFile(dir+"status", buf)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}
	p := &Proc{PID: pid}
	for line := range strings.Lines(string(status)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "PPid":
			if f := strings.Fields(v); len(f) > 0 {
				p.PPID, _ = strconv.Atoi(f[0])
			}
		case "Uid":
			p.UID, p.EUID = ids(strings.Fields(v))
		case "Gid":
			p.GID, p.EGID = ids(strings.Fields(v))
		}
	}
	if stat, err := readProcFile(dir+"stat", buf); err == nil {
		p.Start = startTime(stat)
	}
	p.Path, _ = os.Readlink(dir + "exe")
	p.Cwd, _ = os.Readlink(dir + "cwd")
	if b, err := readProcFile(dir+"cmdline", buf); err == nil && len(b) > 0 {
		p.Argv = strings.Split(string(bytes.TrimSuffix(b, []byte{0})), "\x00")
	}
	return p, nil
}

// readProcFile reads a whole /proc file into buf, growing it when the
// file is larger; the result aliases buf until the next call.
func readProcFile(name string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		want := len(buf) - n
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: name, Err: err}
		}
		n += m
		// status and stat are rendered whole and cmdline is copied until
		// the request is met: a read short of the request is the end
		if m < want {
			return buf[:n], nil
		}
	}
}

// ticks is USER_HZ, the unit of /proc's times: 100 on every Linux
// architecture (sysconf(_SC_CLK_TCK) reports it, glibc hard-codes it).
const ticks = 100

// startTime reads starttime, the 22nd field of /proc/PID/stat, counting
// after the command name's closing parenthesis (the name may hold spaces
// and parentheses).
func startTime(stat []byte) time.Duration {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return 0
	}
	n, _ := strconv.ParseInt(f[19], 10, 64)
	return time.Duration(n) * time.Second / ticks
}

// ids reads the real and effective ids of a Uid:/Gid: line.
func ids(f []string) (real, eff int64) {
	if len(f) >= 2 {
		real, _ = strconv.ParseInt(f[0], 10, 64)
		eff, _ = strconv.ParseInt(f[1], 10, 64)
	}
	return real, eff
}

// Get returns the process, reading it from /proc (as seeded) when the
// table does not know it yet; nil when it is gone.
func (t *Table) Get(pid int) *Proc {
	if p := t.procs[pid]; p != nil {
		return p
	}
	if pid <= 0 {
		return nil
	}
	p, err := t.Read(pid)
	if err != nil {
		return nil
	}
	p.Seeded = true
	t.procs[pid] = p
	return p
}

// Fork records a new process forked at at (since boot): until it execs,
// it runs its parent's program. A child the table already knows keeps
// what was read of it when it is this child (seeded after the fork: it
// started then); an entry that started before is an older process of the
// same pid whose exit was lost, and is replaced.
func (t *Table) Fork(parent, child int, at time.Duration) *Proc {
	if p := t.procs[child]; p != nil && !p.Exited && p.Start >= at-startSlack {
		return p
	}
	c := &Proc{PID: child, PPID: parent, Start: at}
	if p := t.Get(parent); p != nil {
		c.Path, c.Script, c.Argv, c.Cwd = p.Path, p.Script, p.Argv, p.Cwd
		c.UID, c.EUID, c.GID, c.EGID = p.UID, p.EUID, p.GID, p.EGID
		c.Seeded, c.Unread = p.Seeded, p.Unread
	}
	t.procs[child] = c
	return c
}

// Snapshot is what /proc said of a process right after its exec event
// was read (Snap), kept until the exec is applied: a short process is
// gone soon, so the reader reads /proc first and the files opened for
// the exec second.
type Snapshot struct {
	p   *Proc
	err error
}

// Snap reads a process's facts from /proc for its exec.
func (t *Table) Snap(pid int) Snapshot {
	p, err := t.Read(pid)
	return Snapshot{p, err}
}

// Exec records a process's new program, as /proc said in s (Snap); at is
// when the exec happened, since boot. The files opened for it (Opened) name
// its script, and its executable when /proc cannot: when the process is
// already gone, or its pid already belongs to a process forked after at
// (pids are reused, and the reader may lag behind the kernel), its
// parent stays what the table knew and its path is the opened
// executable, "" when none was seen (the arguments, working directory
// and ids are lost: Unread).
//
// The parent is the one the table saw fork it while that parent has not
// exited: /proc, read later, names init or a subreaper once the parent is
// gone, which is not the parent the process had at its exec.
func (t *Table) Exec(pid int, at time.Duration, s Snapshot) *Proc {
	p, err := s.p, s.err
	exe := ""
	if err == nil {
		exe = p.Path
	}
	c := t.opens.take(pid, exe)
	if err == nil && p.Start > at+startSlack {
		err = fmt.Errorf("process %d: started after its exec: pid reused", pid)
	}
	old := t.procs[pid]
	if old != nil && ((old.Exited && !old.Swept) || old.Start > at+startSlack) {
		old = nil // another process's entry
	}
	switch {
	case err != nil:
		p = &Proc{PID: pid, Path: c.Path, Script: c.Script, Unread: true}
		if old != nil {
			// its start too, so that Sweep tells it from a later process
			// given its pid
			p.PPID, p.Start = old.PPID, old.Start
		}
	case p.Path == "":
		// exiting: /proc no longer names its executable
		p.Path, p.Script = c.Path, c.Script
	case p.Path == c.Path:
		p.Script = c.Script
	}
	// otherwise the opens were not this exec's (an exec that failed
	// after opening its file, events the kernel merged): its script is
	// unknown
	if old != nil {
		// the forking parent, if its entry is still that process: alive,
		// and started before the child (not a later one given its pid)
		if parent := t.procs[old.PPID]; parent != nil && !parent.Exited && parent.Start <= old.Start+startSlack {
			p.PPID = old.PPID
		}
		p.Before = old
		trimBefore(old)
	}
	p.ExecAt = at
	t.procs[pid] = p
	return p
}

// trimBefore leaves p, the image behind a new one, at most maxBefore-1
// images of its own.
func trimBefore(p *Proc) {
	for i := 1; p != nil; i++ {
		if i >= maxBefore-1 {
			p.Before = nil
			return
		}
		p = p.Before
	}
}

// startSlack is how far a fork's start from the connector's clock and
// /proc's start time (in clock ticks) may be apart.
const startSlack = 2 * time.Second / ticks

// Exit marks a process exited and returns what the table knew of it. It
// stays for the grace period, and then goes at a later exit or Sweep.
func (t *Table) Exit(pid int) *Proc {
	defer t.prune()
	t.opens.drop(pid)
	p := t.procs[pid]
	if p == nil {
		return &Proc{PID: pid}
	}
	if !p.Exited {
		p.Exited = true
		t.exited = append(t.exited, exit{p: p, at: t.Now()})
	}
	return p
}

// prune drops the exited processes past the grace period or the count.
func (t *Table) prune() {
	now := t.Now()
	n := 0
	for n < len(t.exited) && (len(t.exited)-n > t.MaxExited || now.Sub(t.exited[n].at) > t.Grace) {
		p := t.exited[n].p
		if t.procs[p.PID] == p {
			delete(t.procs, p.PID)
		}
		t.exited[n] = exit{}
		n++
	}
	if n > 0 {
		t.exited = append(t.exited[:0], t.exited[n:]...)
	}
}

// Sweep finds the live processes /proc no longer has (their exit event
// was lost) or whose pid now belongs to a process started later, and
// marks them exited; it returns how many. It reads one directory entry per
// process.
func (t *Table) Sweep() int {
	n := 0
	for pid, p := range t.procs {
		if p.Exited {
			continue
		}
		stat, err := os.ReadFile(t.proc + "/" + strconv.Itoa(pid) + "/stat")
		if err == nil && (p.Start == 0 || (startTime(stat)-p.Start).Abs() <= startSlack) {
			continue
		}
		// retired like an exit, but its opens kept and its entry still
		// its own for an exec read later: the reader may be behind a
		// process that ran and exited since its last read
		p.Exited, p.Swept = true, true
		t.exited = append(t.exited, exit{p: p, at: t.Now()})
		n++
	}
	t.prune()
	return n
}

// Ancestry returns the executables from pid up to pid 1, as the table
// knows them now, and beside them their scripts ("" for programs).
func (t *Table) Ancestry(pid int) (paths, scripts []string) {
	paths, scripts = []string{}, []string{}
	seen := map[int]bool{}
	for pid > 0 && !seen[pid] && len(paths) < maxDepth {
		seen[pid] = true
		p := t.Get(pid)
		if p == nil {
			break
		}
		paths, scripts = append(paths, p.Path), append(scripts, p.Script)
		pid = p.PPID
	}
	return paths, scripts
}
