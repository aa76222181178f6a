// Package capture runs the extension's event sources: it reads the
// process connector, keeps the process table from its events and adds a
// pm_process_events row per fork, exec and exit to the process ring, with
// the parent and ancestry as the table knew them at that event.
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
	"github.com/pkgpersist/pkgpersist/extension/proccn"
	"github.com/pkgpersist/pkgpersist/extension/proctable"
	"github.com/pkgpersist/pkgpersist/extension/table"
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
}

// Capture is a running capture.
type Capture struct {
	// Sources are the rings the evented tables read.
	Sources *events.Sources
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// Start subscribes to the process connector, seeds the process table and
// captures until Stop. It does not fail: a source that cannot run says
// why in its ring's status (pm_event_status), and its table answers no
// rows.
func Start(o Options) *Capture {
	c := &Capture{Sources: &events.Sources{
		Process: events.NewRing("process", o.Limits, nil),
		File:    events.NewRing("file", o.Limits, nil),
	}}
	c.Sources.File.SetRunning(false, "file events are not captured yet")
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	rcv := o.RcvBuf
	if rcv <= 0 {
		rcv = DefaultRcvBuf
	}
	conn, err := proccn.Listen(proccn.Options{RcvBuf: rcv})
	ring := c.Sources.Process
	if err != nil {
		ring.SetRunning(false, err.Error())
		return c
	}
	// subscribe first, seed second: a process that starts in between is
	// both seeded and in the socket's queue, none is in neither
	procs := proctable.New(o.Procfs)
	if err := procs.Seed(); err != nil {
		conn.Close()
		ring.SetRunning(false, err.Error())
		return c
	}
	ring.SetRunning(true, "")
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		defer conn.Close()
		err := run(ctx, conn, procs, ring)
		if err != nil {
			ring.SetRunning(false, err.Error())
		} else {
			ring.SetRunning(false, "stopped")
		}
	}()
	return c
}

// Stop ends the capture and waits for its reader; the rings stay
// readable.
func (c *Capture) Stop() {
	c.cancel()
	c.done.Wait()
}

// run reads events until ctx ends or the socket fails.
func run(ctx context.Context, conn *proccn.Conn, procs *proctable.Table, ring *events.Ring) error {
	var evs []proccn.Event
	// overruns counted as one lost event each, until a sequence gap
	// tells how many were lost (and so includes them)
	var pending int64
	sinceBoot := bootOffset()
	for ctx.Err() == nil {
		var lost int64
		var err error
		evs, lost, err = conn.Read(evs[:0])
		if errors.Is(err, proccn.ErrOverrun) {
			pending++
			ring.Lost(1)
			continue
		}
		if err != nil {
			return err
		}
		if lost > 0 {
			ring.Lost(max(0, lost-pending))
			pending = 0
		}
		for _, e := range evs {
			if row := apply(procs, e, sinceBoot); row != nil {
				ring.Add(row)
			}
		}
	}
	return nil
}

// apply updates the table with one event and returns its row; threads'
// forks and exits change no process and make no row. sinceBoot turns the
// event's monotonic time into time since boot, /proc's clock.
func apply(procs *proctable.Table, e proccn.Event, sinceBoot time.Duration) table.Row {
	switch e.Kind {
	case proccn.Fork:
		if e.PID != e.TGID {
			return nil
		}
		p := procs.Fork(int(e.ParentTGID), int(e.TGID))
		return row("fork", procs, p, "")
	case proccn.Exec:
		p := procs.Exec(int(e.TGID), time.Duration(e.TimestampNS)+sinceBoot)
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
	var boot, mono unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil || unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono) != nil {
		return 0
	}
	return time.Duration(boot.Nano() - mono.Nano())
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
	r := table.Row{
		"event": event, "pid": strconv.Itoa(p.PID), "ppid": strconv.Itoa(p.PPID),
		"path": p.Path, "cmdline": p.Cmdline(), "argv": jsonText(argv), "cwd": p.Cwd,
		"uid": n(p.UID), "euid": n(p.EUID), "gid": n(p.GID), "egid": n(p.EGID),
		"parent_path": "", "parent_cmdline": "", "ancestry": jsonText(procs.Ancestry(p.PPID)),
		"exit_code": exitCode, "seeded": table.Bool(p.Seeded),
	}
	if parent := procs.Get(p.PPID); parent != nil {
		r["parent_path"], r["parent_cmdline"] = parent.Path, parent.Cmdline()
	}
	return r
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
