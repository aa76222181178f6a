package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/collector/watch"
	"github.com/pkgpersist/pkgpersist/extension/capture"
	"github.com/pkgpersist/pkgpersist/extension/events"
)

func watchCommand() *cli.Command {
	return &cli.Command{
		Name:  "watch",
		Usage: "capture process events on this host, without osquery, into the store or as result lines",
		Description: `Runs the pkgpersist extension's capture in this process (the kernel's
process connector: root, or CAP_NET_ADMIN) and, every --interval, the event
queries over the extension's tables (pm-installs, pm-descendants, pm-writes,
pm-events-lost: every query of kind event that reads a pm_* table). Each run
reads only the events added since the previous one, so each is logged once;
rows are logged as osqueryd logs scheduled results (pack_pkgpersist_<query>,
action added), so report stacks and report new-terms read them as they read
osqueryd's. Events the ring pushed out before a run read them (an exec storm
past --events-max or --events-max-bytes within one interval) are logged as a pm-events-lost row
saying which, and printed on stderr.

Rows go into --db under this host's name (as pkgpersist hunt stores it), or
with --format ndjson to standard output as osqueryd's result log lines
(pkgpersist ingest reads them). SIGINT or SIGTERM stops the capture, runs the
queries over what it holds and stores it before exiting.

Rows a write refused (a full disk, a locked database, a failed standard
output) are kept and written with the next run's; past 100,000 such rows
it exits saying how many rows were not stored.

Exit status: 0 after a clean stop; 1 when it cannot capture (not root) or
cannot store; 2 for bad usage.`,
		Flags: []cli.Flag{
			dbFlag(),
			&cli.StringFlag{Name: "format", Value: "store", Usage: "`FORMAT`: store (into --db) or ndjson (result lines on standard output)"},
			&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "run the queries every `DURATION`"},
			&cli.IntFlag{Name: "events-max", Value: events.DefaultMax, Usage: "keep at most `N` events per source between runs (osquery's --events_max)"},
			&cli.Int64Flag{Name: "events-max-bytes", Value: events.DefaultMaxBytes, Usage: "keep at most `BYTES` of events per source (long command lines reach it before --events-max)"},
			&cli.DurationFlag{Name: "events-expiry", Value: events.DefaultExpiry, Usage: "keep events at most `DURATION` (osquery's --events_expiry)"},
		},
		Action: runWatch,
	}
}

// watchSink is where logged rows go.
type watchSink interface {
	write(ctx context.Context, rows []store.Logged) (stored int, err error)
}

type storeSink struct {
	st   *store.DB
	host string
	ids  map[string]int64
}

func (s *storeSink) write(ctx context.Context, rows []store.Logged) (int, error) {
	return s.st.SaveLogsByHost(ctx, map[string][]store.Logged{s.host: rows}, s.ids)
}

type lineSink struct {
	out  *bufio.Writer
	host string
}

func (s *lineSink) write(_ context.Context, rows []store.Logged) (int, error) {
	if err := watch.WriteLines(s.out, s.host, rows); err != nil {
		return 0, err
	}
	return len(rows), s.out.Flush()
}

// maxPending caps the rows kept for a sink that refuses them (a full
// disk, a locked database; in ndjson mode a failed write to standard
// output, which fails every write after it). Rows are only query results,
// not every event: 100,000 are twice what both rings hold at the default
// --events-max, a few hundred MB at most, and a sink that refused that
// many is not coming back in time to be worth the memory.
const maxPending = 100000

// backlog writes rows to a sink, keeping those it refused for the next
// write, up to max.
type backlog struct {
	sink   watchSink
	max    int
	rows   []store.Logged
	stored int
}

// backlogFull is the error of a backlog past its cap.
type backlogFull struct {
	rows, max int
	err       error
}

func (e *backlogFull) Error() string {
	return fmt.Sprintf("giving up: %d rows were not stored (more than %d pending while writes failed): %s", e.rows, e.max, oneLineErr(e.err))
}

func (e *backlogFull) Unwrap() error { return e.err }

// add writes what is pending and rows; a refused write keeps them all,
// and is a *backlogFull once more than max are kept.
func (b *backlog) add(ctx context.Context, rows []store.Logged) error {
	b.rows = append(b.rows, rows...)
	if len(b.rows) == 0 {
		return nil
	}
	n, err := b.sink.write(ctx, b.rows)
	if err != nil {
		if len(b.rows) > b.max {
			return &backlogFull{rows: len(b.rows), max: b.max, err: err}
		}
		return fmt.Errorf("%d rows not stored yet: %w", len(b.rows), err)
	}
	b.stored += n
	b.rows = b.rows[:0]
	return nil
}

func runWatch(c *cli.Context) error {
	format, interval := c.String("format"), c.Duration("interval")
	if format != "store" && format != "ndjson" {
		return usageError("pkgpersist watch", fmt.Sprintf("unknown --format %q (store or ndjson)", format))
	}
	if interval <= 0 {
		return usageError("pkgpersist watch", "--interval must be positive")
	}
	if os.Geteuid() != 0 {
		return &exitError{1, errors.New("watch: not root: the process connector needs root (CAP_NET_ADMIN); run it as root or as the pkgpersist-watch service")}
	}
	qs, err := loadQueries(c)
	if err != nil {
		return &exitError{2, err}
	}
	bg := context.Background()
	var sink watchSink
	where := "standard output"
	if format == "store" {
		st, err := openStore(c)
		if err != nil {
			return &exitError{1, err}
		}
		defer st.Close()
		host, err := st.ResolveHost(bg, hunt.LocalKey("/"))
		if err != nil {
			return &exitError{1, fmt.Errorf("watch: which host this is in %s: %w", dbName(c), err)}
		}
		sink = &storeSink{st: st, host: host, ids: map[string]int64{}}
		where = fmt.Sprintf("%s as host %s", dbName(c), host)
	} else {
		sink = &lineSink{out: bufio.NewWriter(c.App.Writer), host: hunt.LocalName("/")}
	}
	capt := capture.Start(capture.Options{Limits: events.Limits{Max: c.Int("events-max"), Expiry: c.Duration("events-expiry"), MaxBytes: c.Int64("events-max-bytes")}})
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			capt.Stop()
		}
	}
	defer stop()
	if s := capt.Sources.Process.Status(); !s.Running {
		return &exitError{1, fmt.Errorf("watch: cannot capture process events: %s", s.Error)}
	}
	w, err := watch.New(capt.Sources, qs, time.Now().Unix())
	if err != nil {
		return &exitError{2, fmt.Errorf("watch: %w", err)}
	}
	defer w.Close()
	errw := c.App.ErrWriter
	fmt.Fprintf(errw, "pkgpersist: watch: capturing; %s every %s into %s\n", strings.Join(w.Queries(), ", "), interval, where)

	ctx, cancel := signal.NotifyContext(bg, os.Interrupt, syscall.SIGTERM)
	defer cancel()
	pending := &backlog{sink: sink, max: maxPending}
	logged := 0
	// run logs the events since the previous run; rows a write refused
	// stay pending for the next
	run := func() error {
		rows, lost, err := w.Run(bg)
		if err != nil {
			return err
		}
		for _, l := range lost {
			fmt.Fprintf(errw, "pkgpersist: watch: %s\n", l)
		}
		logged += len(rows)
		return pending.add(bg, rows)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			err := run()
			if errors.As(err, new(*backlogFull)) {
				return &exitError{1, fmt.Errorf("watch: %w", err)}
			}
			if err != nil {
				fmt.Fprintf(errw, "pkgpersist: watch: %s\n", oneLineErr(err))
			}
		}
	}
	// what the capture holds when it stops is logged too
	stop()
	err = run()
	s := capt.Sources.Process.Status()
	fmt.Fprintf(errw, "pkgpersist: watch: stopped: %d rows logged, %d new stored; process events %d, lost in the kernel %d, pushed out of the ring %d\n",
		logged, pending.stored, s.Events, s.LostKernel, s.Evicted)
	if err != nil {
		return &exitError{1, fmt.Errorf("watch: %w", err)}
	}
	return nil
}

func oneLineErr(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
