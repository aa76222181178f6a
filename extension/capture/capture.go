// Package capture runs the extension's event sources: it reads the
// process connector, keeps the process table from its events and adds a
// pm_process_events row per fork, exec and exit to the process ring, with
// the parent and ancestry as the table knew them at that event; and it
// reads a fanotify group watching the package managers' paths (fimpaths,
// the packs' FIM list) and adds a pm_file_events row per change, with the
// writer from the same process table.
//
// What each exec ran comes, beside /proc, from a second fanotify group
// reporting the files opened for execution (fanotify.Execs): the kernel
// opens them before it sends the exec event, so the group is drained
// after each read of the connector and before its events are applied,
// and every exec's opens are then in the table (proctable.Opened). They
// name the executable of a process gone before /proc was read, and the
// `#!` script a process runs (its executable is the interpreter).
//
// One goroutine reads all three, so that the table has one owner and a file
// event is attributed after every process event queued before it was
// read: the connector's queue is drained after each read of the fanotify
// group, and the writer's fork and exec, which came before its write, are
// then in the table (a writer that exited since stays there for the
// table's grace period).
package capture

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/fanotify"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/proccn"
	"github.com/pkgpersist/pkgpersist/extension/proctable"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/queries/fimpaths"
)

// DefaultRcvBuf is the connector socket's receive buffer: room for some
// tens of thousands of events while the reader is busy reading /proc.
const DefaultRcvBuf = 32 << 20

// Options configure a capture.
type Options struct {
	Limits events.Limits
	// RcvBuf is the connector socket's receive buffer (DefaultRcvBuf
	// when 0).
	RcvBuf int
	// Procfs is the proc filesystem ("/proc" when empty).
	Procfs string
	// FilePaths are the FIM patterns the file source watches (the
	// built-in queries' list, fimpaths.Builtin, when nil).
	FilePaths []string
	// hold keeps the reader from reading until it is closed (tests: a
	// reader far behind the kernel at Stop)
	hold <-chan struct{}
}

// Capture is a running capture.
type Capture struct {
	// Sources are the rings the evented tables read.
	Sources *events.Sources
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// Start subscribes to the process connector, seeds the process table,
// marks the watched paths and captures until Stop. It does not fail: a
// source that cannot run says why in its ring's status
// (pm_event_status), and its table answers no rows.
func Start(o Options) *Capture {
	c := &Capture{Sources: &events.Sources{
		Process: events.NewRing("process", o.Limits, nil),
		File:    events.NewRing("file", o.Limits, nil),
	}}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	rcv := o.RcvBuf
	if rcv <= 0 {
		rcv = DefaultRcvBuf
	}
	r := &reader{procs: proctable.New(o.Procfs), procRing: c.Sources.Process, fileRing: c.Sources.File}
	// subscribe first, seed second: a process that starts in between is
	// both seeded and in the socket's queue, none is in neither
	conn, err := proccn.Listen(proccn.Options{RcvBuf: rcv})
	if err == nil {
		err = r.procs.Seed()
		if err != nil {
			conn.Close()
		}
	}
	if err != nil {
		r.procRing.SetRunning(false, err.Error())
	} else {
		r.conn = conn
		r.procRing.SetRunning(true, "")
		r.openExecs()
	}
	// without the connector the writers are read from /proc when their
	// event is read (short ones are gone): the file source runs, and the
	// process ring says why the connector does not
	if err := r.openFiles(o.FilePaths); err != nil {
		r.fileRing.SetRunning(false, err.Error())
	} else {
		r.fileRing.SetRunning(true, "")
	}
	if r.conn == nil && r.files == nil {
		return c
	}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		r.run(ctx, o.hold)
	}()
	return c
}

// Stop ends the capture and waits for its reader; the rings stay
// readable.
func (c *Capture) Stop() {
	c.cancel()
	c.done.Wait()
}

// reader is the goroutine that reads both sources and owns the table.
type reader struct {
	procs              *proctable.Table
	procRing, fileRing *events.Ring
	conn               *proccn.Conn
	execs              *fanotify.Execs
	files              *fanotify.Watcher
	describe           *describer
	// emptyAt is when the file events' queue was last seen empty, since
	// boot: a file event read later happened after it
	emptyAt time.Duration
	// overruns counted as one lost event each, until a sequence gap
	// tells how many were lost (and so includes them)
	pending int64
	// sweepAt is the table size that makes the next sweep: exits lost
	// leave dead processes behind, and a sweep turns them into exited ones
	sweepAt int
	evs     []proccn.Event
	changes []fanotify.Change
	opened  []fanotify.Exec
	snaps   []proctable.Snapshot
}

// minSweep is the least growth of the table between two sweeps (a sweep
// reads one /proc entry per process).
const minSweep = 1024

// openFiles starts the file source.
func (r *reader) openFiles(patterns []string) error {
	if patterns == nil {
		var err error
		if patterns, err = fimpaths.Builtin(); err != nil {
			return err
		}
	}
	set, err := fimpaths.NewSet(patterns)
	if err != nil {
		return err
	}
	root, err := fsroot.Open("/")
	if err != nil {
		return err
	}
	// no event read from the group can be older than its marks
	r.emptyAt = sinceBootNow()
	w, err := fanotify.Open(set)
	if err != nil {
		root.Close()
		return err
	}
	r.files = w
	r.describe = startDescriber(r.fileRing, &owners{set: set, root: root}, root)
	return nil
}

// openExecs starts the exec group; without it the connector's rows are
// captured still, the executables of processes gone before /proc was
// read unknown, as the process ring's error says.
func (r *reader) openExecs() {
	x, err := fanotify.OpenExecs()
	if err != nil {
		r.procRing.SetRunning(true, "executables of processes gone before /proc is read are unknown: "+err.Error())
		return
	}
	r.execs = x
}

// pollTimeout is how often the reader wakes to see whether to stop.
const pollTimeout = 200 * time.Millisecond

// drainTimeout bounds the last reads at Stop.
const drainTimeout = 2 * time.Second

// run reads events until ctx ends, then what the kernel had queued by
// then (Stop must not drop the events of processes that ran just before
// it); a source that fails stops alone, its ring saying why.
func (r *reader) run(ctx context.Context, hold <-chan struct{}) {
	defer r.close()
	defer r.drain()
	if hold != nil {
		<-hold
	}
	r.sweepAt = r.procs.Len() + minSweep
	for ctx.Err() == nil && (r.conn != nil || r.files != nil) {
		var fds []unix.PollFd
		if r.conn != nil {
			fds = append(fds, unix.PollFd{Fd: int32(r.conn.Fd()), Events: unix.POLLIN})
		}
		if r.files != nil {
			fds = append(fds, unix.PollFd{Fd: int32(r.files.Fd()), Events: unix.POLLIN})
		}
		mounts := -1
		if r.execs != nil {
			// opens without an exec (execs that failed) are drained with
			// the connector's next events; the mount table's change is
			// a filesystem to mark
			mounts = len(fds)
			fds = append(fds, unix.PollFd{Fd: int32(r.execs.MountsFd()), Events: unix.POLLPRI})
		}
		if _, err := unix.Poll(fds, int(pollTimeout/time.Millisecond)); err != nil && !errors.Is(err, unix.EINTR) {
			r.stopProcs(err)
			r.stopFiles(err)
			return
		}
		if mounts >= 0 && fds[mounts].Revents&unix.POLLPRI != 0 {
			if err := r.execs.Rescan(); err != nil {
				r.procRing.SetRunning(true, err.Error())
			}
		}
		// the connector first, then the file events, then the connector
		// again for what came while they were read
		r.readProcs(256)
		if r.files != nil {
			r.readFiles()
		}
		if r.procs.Len() > r.sweepAt {
			r.procs.Sweep()
			r.sweepAt = r.procs.Len() + minSweep
		}
	}
}

// drain reads both queues until they are empty, for drainTimeout at
// most; what is still queued then is counted lost.
func (r *reader) drain() {
	for deadline := time.Now().Add(drainTimeout); time.Now().Before(deadline); {
		read := r.readProcs(4096) > 0
		if r.files != nil && r.readFiles() {
			read = true
		}
		if !read {
			return
		}
	}
	// still reading at the deadline: what is left is lost, how much is
	// not known
	if r.conn != nil {
		r.procRing.Lost(1)
	}
	if r.files != nil {
		r.fileRing.Lost(1)
	}
}

// close releases what the sources hold and says they stopped.
func (r *reader) close() {
	r.stopProcs(nil)
	r.stopFiles(nil)
}

// stopProcs closes the connector and the exec group, the ring saying why
// (err nil: stopped).
func (r *reader) stopProcs(err error) {
	if r.conn == nil {
		return
	}
	r.conn.Close()
	r.conn = nil
	if r.execs != nil {
		r.execs.Close()
		r.execs = nil
	}
	r.procRing.SetRunning(false, reason(err))
}

// readExecs gives the table the files opened for execution so far: all
// the opens of the execs already read from the connector. Overflows of
// the group's queue count as lost process events (the executables of
// execs whose process is gone are unknown).
func (r *reader) readExecs() {
	if r.execs == nil {
		return
	}
	opened, lost, err := r.execs.Read(r.opened[:0])
	r.opened = opened
	for _, e := range opened {
		r.procs.Opened(e)
	}
	if lost > 0 {
		r.procRing.Lost(lost)
	}
	if err != nil {
		r.procRing.SetRunning(true, err.Error())
	}
}

// stopFiles closes the fanotify group, its ring saying why.
func (r *reader) stopFiles(err error) {
	if r.files == nil {
		return
	}
	r.files.Close()
	r.describe.stop()
	r.files = nil
	r.fileRing.SetRunning(false, reason(err))
}

func reason(err error) string {
	if err == nil {
		return "stopped"
	}
	return err.Error()
}

// readProcs applies what the connector has queued, up to limit
// datagrams (so that a storm of processes does not keep the file events
// waiting), and returns how many it read.
func (r *reader) readProcs(limit int) int {
	i := 0
	for ; i < limit && r.conn != nil; i++ {
		var lost int64
		var err error
		r.evs, lost, err = r.conn.TryRead(r.evs[:0])
		switch {
		case errors.Is(err, proccn.ErrEmpty):
			return i
		case errors.Is(err, proccn.ErrOverrun):
			r.pending++
			r.procRing.Lost(1)
			// exits were lost: sweep at the next turn
			r.sweepAt = 0
			continue
		case err != nil:
			r.stopProcs(err)
			return i
		}
		if lost > 0 {
			r.procRing.Lost(max(0, lost-r.pending))
			r.pending = 0
			r.sweepAt = 0
		}
		// per batch: a suspend moves the boot clock away from the
		// monotonic one the connector stamps events with
		sinceBoot := bootOffset()
		// /proc first, the files opened for the execs second: a short
		// process is gone soon, its opens stay queued
		r.snaps = r.snaps[:0]
		for _, e := range r.evs {
			if e.Kind == proccn.Exec {
				r.snaps = append(r.snaps, r.procs.Snap(int(e.TGID)))
			}
		}
		r.readExecs()
		snaps := r.snaps
		for _, e := range r.evs {
			var s proctable.Snapshot
			if e.Kind == proccn.Exec {
				s, snaps = snaps[0], snaps[1:]
			}
			if row := apply(r.procs, e, sinceBoot, s); row != nil {
				r.procRing.Add(row)
				// an unread process has no argv
				if row["event"] == "exec" && (row["path"] == "" || row["argv"] == "[]") {
					r.procRing.Incomplete(1)
				}
			}
		}
	}
	return i
}

// readFiles reads the fanotify group's queue and adds a row per change,
// after the process events queued before the read; it returns whether it
// read any event.
//
// fanotify's events carry no time, so a write is placed between the last
// time the queue was seen empty and the read: its writer is the process
// as it was before any exec after that (Proc.At). A process that writes
// and at once execs another program (a package manager, to pass for it)
// is named by the program that wrote; one that execs and at once writes,
// within the reader's delay, is named by what it ran before, never by a
// package manager it had not yet become.
func (r *reader) readFiles() bool {
	readAt := sinceBootNow()
	changes, lost, err := r.files.Read(r.changes[:0])
	r.changes = changes
	if lost > 0 {
		r.fileRing.Lost(lost)
	}
	if err != nil {
		// a directory that could not be marked: the rest is watched
		r.fileRing.SetRunning(true, err.Error())
	}
	after := r.emptyAt
	if r.files.Drained() {
		r.emptyAt = readAt
	}
	if len(changes) == 0 {
		return r.files.ReadAny()
	}
	r.readProcs(4096)
	for _, ch := range changes {
		r.describe.jobs <- fileWork{writerRow(r.procs, after, readAt, ch), ch}
	}
	return true
}

// apply updates the table with one event and returns its row; threads'
// forks and exits change no process and make no row. sinceBoot turns the
// event's monotonic time into time since boot, /proc's clock; s is what
// /proc said of an exec'ing process when its event was read.
func apply(procs *proctable.Table, e proccn.Event, sinceBoot time.Duration, s proctable.Snapshot) table.Row {
	at := time.Duration(e.TimestampNS) + sinceBoot
	switch e.Kind {
	case proccn.Fork:
		if e.PID != e.TGID {
			return nil
		}
		p := procs.Fork(int(e.ParentTGID), int(e.TGID), at)
		return row("fork", procs, p, "")
	case proccn.Exec:
		p := procs.Exec(int(e.TGID), at, s)
		r := row("exec", procs, p, "")
		r["seeded"] = "0"
		return r
	case proccn.Exit:
		if e.PID != e.TGID {
			return nil
		}
		p := procs.Exit(int(e.TGID))
		return row("exit", procs, p, strconv.Itoa(ExitCode(e.ExitCode)))
	}
	return nil
}

// bootOffset is CLOCK_BOOTTIME minus CLOCK_MONOTONIC (the time the
// machine was suspended): the connector stamps events with the one, /proc
// counts start times on the other.
func bootOffset() time.Duration {
	// the two clocks are read apart: a reader preempted between the
	// reads (a loaded machine) got an offset off by the preemption, and
	// exec and fork times off by more than /proc's tick made a live
	// process look like a reused pid. Read monotonic on both sides of
	// boot and take the tightest pair.
	var best, width time.Duration = 0, -1
	for i := 0; i < 3; i++ {
		var m1, boot, m2 unix.Timespec
		if unix.ClockGettime(unix.CLOCK_MONOTONIC, &m1) != nil || unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil ||
			unix.ClockGettime(unix.CLOCK_MONOTONIC, &m2) != nil {
			return best
		}
		w := time.Duration(m2.Nano() - m1.Nano())
		if width < 0 || w < width {
			best, width = time.Duration(boot.Nano()-(m1.Nano()+m2.Nano())/2), w
		}
		if w < time.Millisecond {
			break
		}
	}
	return best
}

// sinceBootNow is the time since boot, the clock of Proc.ExecAt.
func sinceBootNow() time.Duration {
	var boot unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil {
		return 0
	}
	return time.Duration(boot.Nano())
}

// ExitCode is a wait status as a shell shows it: the exit code, or 128
// plus the signal that ended the process.
func ExitCode(status uint32) int {
	if sig := status & 0x7f; sig != 0 {
		return 128 + int(sig)
	}
	return int(status>>8) & 0xff
}

// row renders a process event with its parent and ancestry now.
func row(event string, procs *proctable.Table, p *proctable.Proc, exitCode string) table.Row {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	argv := p.Argv
	if argv == nil {
		argv = []string{}
	}
	ids := func(v int64) string {
		if p.Unread {
			return "" // not root: unknown
		}
		return n(v)
	}
	r := table.Row{
		"event": event, "pid": strconv.Itoa(p.PID), "ppid": strconv.Itoa(p.PPID),
		"path": p.Path, "script": p.Script, "cmdline": p.Cmdline(), "argv": jsonText(argv), "cwd": p.Cwd,
		"uid": ids(p.UID), "euid": ids(p.EUID), "gid": ids(p.GID), "egid": ids(p.EGID),
		"parent_path": "", "parent_cmdline": "", "exit_code": exitCode, "seeded": table.Bool(p.Seeded),
	}
	r["ancestry"], r["ancestry_scripts"] = ancestry(procs, p.PPID)
	if parent := procs.Get(p.PPID); parent != nil {
		r["parent_path"], r["parent_cmdline"] = parent.Path, parent.Cmdline()
	}
	return r
}

// ancestry is the ancestry from pid up, as the ancestry and
// ancestry_scripts columns.
func ancestry(procs *proctable.Table, pid int) (paths, scripts string) {
	p, s := procs.Ancestry(pid)
	return jsonText(p), jsonText(s)
}

// jsonText is v as JSON without HTML escaping, so that argv's `&&` and
// `<` read as themselves in a LIKE.
func jsonText(v []string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a []string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
