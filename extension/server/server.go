// Package server is the pkgpersist.ext process: it parses the flags osqueryd
// passes to an extension, registers every table with osqueryd's extension
// manager, and runs until osqueryd goes away or a signal arrives.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	osquery "github.com/osquery/osquery-go"

	"github.com/pkgpersist/pkgpersist/extension/capture"
	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/osqueryplugin"
	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Name is the extension's name in osquery_extensions and for
// --extensions_require.
const Name = "pkgpersist"

// Version is set at build time.
var Version = "dev"

// Defaults for values osqueryd may pass as 0 or leave out.
const (
	DefaultTimeout  = 3 * time.Second
	DefaultInterval = 3 * time.Second
	// GenerateTimeout bounds one table generation.
	GenerateTimeout = 20 * time.Second
)

// Options are the command-line settings.
type Options struct {
	Socket   string
	Timeout  time.Duration
	Interval time.Duration
	Verbose  bool
	// Print names a table to print as JSON instead of serving osqueryd,
	// for checking a host or a root without osquery.
	Print string
	Root  string
	// Spec prints the table schemas as JSON and exits.
	Spec bool
	// ShowVersion prints the version and exits.
	ShowVersion bool
	// Events bound the evented tables' rings, as osqueryd's own
	// --events_max and --events_expiry bound its evented tables
	// (--events_max_bytes is the extension's own).
	Events events.Limits
}

// ParseArgs accepts what osqueryd passes: [--verbose] --socket PATH
// --timeout SECS --interval SECS, as separate arguments in any order (the
// --flag=value form works too).
func ParseArgs(args []string, stderr io.Writer) (Options, error) {
	fs := flag.NewFlagSet("pkgpersist.ext", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `pkgpersist.ext %s: osquery extension with tables for Linux persistence through package managers.

osqueryd starts it (--extensions_autoload); to try it by hand:
  osqueryi --extension %s
or, without osquery, print one table:
  %s --print apt_hooks [--root DIR]

Flags (as osqueryd passes them):
`, Version, "build/pkgpersist.ext", "build/pkgpersist.ext")
		fs.PrintDefaults()
	}
	var o Options
	var timeout, interval int
	fs.StringVar(&o.Socket, "socket", "", "path of osqueryd's extension manager socket (required)")
	fs.IntVar(&timeout, "timeout", int(DefaultTimeout/time.Second), "seconds to wait for the socket and for each call; <= 0 means the default")
	fs.IntVar(&interval, "interval", int(DefaultInterval/time.Second), "seconds between health checks of osqueryd; <= 0 means the default")
	fs.BoolVar(&o.Verbose, "verbose", false, "log debug messages to stderr")
	fs.StringVar(&o.Print, "print", "", "print this table's rows as JSON (as osqueryi --json does) and exit, without osqueryd")
	fs.StringVar(&o.Root, "root", "/", "with --print: the filesystem root to evaluate")
	fs.BoolVar(&o.ShowVersion, "version", false, "print the version and exit")
	var eventsMax, eventsExpiry int
	var eventsMaxBytes int64
	fs.IntVar(&eventsMax, "events_max", events.DefaultMax, "rows each evented table (pm_process_events, pm_file_events) keeps, the oldest pushed out first")
	fs.Int64Var(&eventsMaxBytes, "events_max_bytes", events.DefaultMaxBytes, "bytes each evented table's rows may hold, the oldest pushed out first (long command lines reach it before --events_max)")
	fs.IntVar(&eventsExpiry, "events_expiry", int(events.DefaultExpiry/time.Second), "seconds an evented table's row is kept")
	fs.BoolVar(&o.Spec, "spec", false, "print every table's schema (columns, types, hidden flags, descriptions) as JSON and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.Socket == "" && o.Print == "" && !o.Spec && !o.ShowVersion {
		return o, errors.New("--socket is required (osqueryd passes it); or --print TABLE")
	}
	o.Events = events.Limits{Max: eventsMax, Expiry: seconds(eventsExpiry, events.DefaultExpiry), MaxBytes: eventsMaxBytes}
	o.Timeout = seconds(timeout, DefaultTimeout)
	o.Interval = seconds(interval, DefaultInterval)
	return o, nil
}

func seconds(n int, def time.Duration) time.Duration {
	if n <= 0 {
		return def
	}
	return time.Duration(n) * time.Second
}

// Main runs the extension and returns the process exit status: 0 when
// osqueryd went away or a signal asked it to stop, 1 when it could not
// start, 2 on bad flags.
func Main(args []string, stdout, stderr io.Writer) int {
	o, err := ParseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "pkgpersist.ext: %v\n", err)
		return 2
	}
	level := slog.LevelInfo
	if o.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if o.ShowVersion {
		fmt.Fprintf(stdout, "pkgpersist.ext %s\n", Version)
		return 0
	}
	if o.Spec {
		return printSpec(stdout, stderr)
	}
	if o.Print != "" {
		return printTable(o, stdout, stderr)
	}

	srv, err := osquery.NewExtensionManagerServer(Name, o.Socket,
		osquery.ExtensionVersion(Version),
		osquery.ServerTimeout(o.Timeout),
		osquery.ServerPingInterval(o.Interval),
	)
	if err != nil {
		log.Error("cannot reach osqueryd", "socket", o.Socket, "err", oneLine(err))
		return 1
	}
	// the evented tables answer from what this process captures while
	// osqueryd runs it; a source that cannot run says why in
	// pm_event_status
	capt := capture.Start(capture.Options{Limits: o.Events})
	defer capt.Stop()
	for _, r := range capt.Sources.Rings() {
		if s := r.Status(); !s.Running {
			log.Warn("event source not running", "source", s.Source, "err", s.Error)
		}
	}
	// the package databases read by one table are kept for the others,
	// and for later queries while they do not change
	dbs := dbcache.New()
	for _, t := range registry.WithEvents(capt.Sources) {
		srv.RegisterPlugin(osqueryplugin.New(t, GenerateTimeout, log).Sharing(dbs))
	}
	log.Debug("starting", "socket", o.Socket, "timeout", o.Timeout, "interval", o.Interval)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	started := time.Now()
	go func() { done <- srv.Run() }()
	select {
	case s := <-sigs:
		log.Debug("stopping on signal", "signal", s.String())
		ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		return 0
	case err := <-done:
		if err == nil {
			return 0
		}
		msg := oneLine(err)
		// Run returns when registration failed (a start problem) or when
		// the ping to osqueryd failed (osqueryd is gone: a normal end).
		if strings.Contains(msg, "ping") {
			log.Info("osqueryd went away; exiting", "after", time.Since(started).Round(time.Second))
			return 0
		}
		log.Error("extension stopped", "err", msg)
		return 1
	}
}

// printTable writes one table's rows for o.Root as a JSON array of
// objects with string values, the shape osqueryi --json prints.
func printTable(o Options, stdout, stderr io.Writer) int {
	for _, t := range registry.Tables() {
		if t.Name != o.Print {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), GenerateTimeout)
		defer cancel()
		q := table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: o.Root}}}}
		rows, err := t.Run(ctx, q)
		if err != nil {
			fmt.Fprintf(stderr, "pkgpersist.ext: %s\n", oneLine(err))
			return 1
		}
		if rows == nil {
			rows = []table.Row{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rows); err != nil {
			fmt.Fprintf(stderr, "pkgpersist.ext: %v\n", err)
			return 1
		}
		return 0
	}
	var names []string
	for _, t := range registry.Tables() {
		names = append(names, t.Name)
	}
	fmt.Fprintf(stderr, "pkgpersist.ext: no table %q (tables: %s)\n", o.Print, strings.Join(names, ", "))
	return 2
}

// printSpec writes the table definitions, the source of the README table
// reference and of the packs.
func printSpec(stdout, stderr io.Writer) int {
	type column struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Hidden      bool   `json:"hidden,omitempty"`
		Description string `json:"description"`
	}
	type spec struct {
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Columns     []column `json:"columns"`
	}
	var out []spec
	for _, t := range registry.Tables() {
		s := spec{Name: t.Name, Description: t.Description}
		for _, c := range t.Columns {
			s.Columns = append(s.Columns, column{c.Name, string(c.Type), c.Hidden, c.Description})
		}
		out = append(out, s)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "pkgpersist.ext: %v\n", err)
		return 1
	}
	return 0
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
