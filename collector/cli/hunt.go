package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/distbin"
	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/report"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/queries"
)

func formatFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Usage: "output `FORMAT`: table, json, csv, ndjson (default table on a terminal, json otherwise)"},
		&cli.BoolFlag{Name: "ecs", Usage: "one Elastic Common Schema document per finding, as ndjson (no other --format)"},
		&cli.StringFlag{Name: "out", Usage: "write one CSV file per query into `DIR` (DIR/QUERY.csv) instead of standard output"},
		dbFlag(),
	}
}

// reportOptions reads the output flags of a command that reports
// findings: --ecs is ndjson only, --out is CSV only.
func reportOptions(c *cli.Context, command report.Command, qs []*querydef.Query) (report.Options, error) {
	set := c.String("format")
	switch {
	case c.Bool("ecs") && c.String("out") != "":
		return report.Options{}, &exitError{2, errors.New("--ecs writes ndjson to standard output, --out CSV files: not both")}
	case c.Bool("ecs") && set != "" && set != "ndjson":
		return report.Options{}, &exitError{2, fmt.Errorf("--ecs writes ndjson, not --format %s", set)}
	case c.String("out") != "" && set != "" && set != "csv":
		return report.Options{}, &exitError{2, fmt.Errorf("--out writes CSV files, not --format %s", set)}
	}
	o := report.Options{ECS: c.Bool("ecs"), Command: command, Queries: map[string]*querydef.Query{}}
	for _, q := range qs {
		o.Queries[q.ID] = q
	}
	switch {
	case o.ECS:
		o.Format = "ndjson"
	case c.String("out") != "":
		o.Format = "csv"
	default:
		f, err := outputFormat(c)
		if err != nil {
			return o, err
		}
		o.Format = f
	}
	return o, nil
}

// writeReport writes findings to standard output, or with --out one CSV
// file per query, naming each file written.
func writeReport(c *cli.Context, o report.Options, cs []store.Change) error {
	dir := c.String("out")
	if dir == "" {
		return report.Write(c.App.Writer, o, cs)
	}
	files, err := report.WriteCSVDir(dir, cs)
	for _, f := range files {
		fmt.Fprintln(c.App.Writer, f)
	}
	return err
}

func huntCommand() *cli.Command {
	return &cli.Command{
		Name:      "hunt",
		Usage:     "run the queries on this host, mounted roots or hosts over SSH, store the results, report",
		ArgsUsage: "[ssh://[user@]host[:port][?root=DIR] ...]",
		Description: `Runs every query of queries/ (built in; --queries DIR for your own) on each
target and stores every result row in --db. Without targets it hunts this
host through the embedded engine (--root for a mounted image or container).
--enrolled hunts the osqueryd hosts enrolled into "pkgpersist serve" instead:
their next distributed read takes the queries, and the answers are stored
like any other host's (--timeout bounds the wait).

SSH targets use the system OpenSSH client, so ~/.ssh/config, the agent, jump
hosts and known_hosts apply (BatchMode=yes). pkgpersist copies the static
build for the host's CPU (uname -m: x86_64 or aarch64) to a private temporary
directory on the host, checks its SHA-256, runs it there and removes it, all
over one connection per host (an OpenSSH ControlMaster of its own; sshd
turning connections away past MaxStartups is waited for, with a note). With
--remote-cache DIR the build is kept in DIR on the host by SHA-256 and run
from there while DIR, every directory above it and the file are owned by
root, writable by no one else, and the file's SHA-256 matches, checked
before every use; otherwise it is copied again, with a note. The
builds are those of make dist: --dist DIR, else beside this binary (the
make dist directory it runs from, build/dist beside build/pkgpersist,
PREFIX/lib/pkgpersist beside PREFIX/bin/pkgpersist), else this binary when it
is static and for that CPU.

The report lists, per host, the rows of detection queries, marking those new
since the host's previous run. Besides the queries, every host answers the
coverage query (SELECT source, path, status, cause, reason FROM
pkgpersist_coverage), which says what the tables could read and evaluate.

Each host ends in one state, printed on stderr with its reasons and stored:
  ok          everything the tables had to read was read, evaluated and stored
  incomplete  stored, but something could not be looked at: a file that could
              not be read (permission, I/O), a query that failed or was not
              answered, a malformed answer, a coverage row that is not
              complete, no rows to the coverage query
  failed      nothing usable (unreachable, every query failed), or not stored
Run the hunt as root: package managers run as root and read files other users
cannot, so a hunt by another user is incomplete. Query files are compiled
before the run: SQL errors, unknown tables and columns are refused, except
tables only osquery has where osquery may run them (--enrolled, and
--remote-engine auto or osqueryi).

Exit status: 0 when every host is ok; 1 when any host is incomplete or
failed (the findings of every stored host are still printed); 2 for usage
errors (a --root that is not a directory, a query file that does not
compile, a bad target).`,
		Flags: append(formatFlags(),
			&cli.StringFlag{Name: "queries", Usage: "a `DIR` of .sql query files instead of the built-in ones"},
			&cli.StringFlag{Name: "root", Value: "/", Usage: "for the local target: the filesystem `DIR` to evaluate"},
			&cli.StringFlag{Name: "targets", Usage: "read targets from `FILE`, one a line (# comments)"},
			&cli.IntFlag{Name: "parallel", Value: 4, Usage: "`N` hosts to hunt at once"},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "per-host time limit (`DURATION`)"},
			&cli.StringFlag{Name: "ssh-config", Usage: "an ssh_config `FILE` to use instead of the user's (ssh -F)"},
			&cli.StringFlag{Name: "remote-engine", Value: "auto", Usage: "`ENGINE` on SSH hosts: auto (osqueryi with the pkgpersist extension where installed, else pkgpersist), osqueryi, pkgpersist"},
			&cli.BoolFlag{Name: "enrolled", Usage: "hunt the osqueryd hosts enrolled into pkgpersist serve (same --db): queue the queries, wait for their answers"},
			&cli.StringFlag{Name: "hosts", Usage: "with --enrolled: only these comma-separated `HOSTS`"},
			&cli.StringFlag{Name: "extension", Usage: "the pkgpersist.ext `FILE` to copy for the osqueryi engine (default: the one beside the build copied)"},
			&cli.StringFlag{Name: "dist", EnvVars: []string{"PKGPERSIST_DIST"}, Usage: "the make dist `DIR` whose static builds (DIR/pkgpersist_linux_ARCH/) are copied to SSH hosts"},
			&cli.StringFlag{Name: "remote-cache", Usage: "keep the programs copied to SSH hosts in this `DIR` on each host, by SHA-256, so that repeat hunts copy nothing; used only while DIR, every directory above it and the file are owned by root and writable by no one else, and the file's SHA-256 matches (checked before every use)"},
			&cli.Int64Flag{Name: "max-output", Value: hunt.DefaultMaxOutput, Usage: "what one SSH host's answer may cost, in `BYTES` (its text plus 256 a row): a host that prints more fails"},
			allFlag(),
		),
		Action: runHunt,
	}
}

func loadQueries(c *cli.Context) ([]*querydef.Query, error) {
	if dir := c.String("queries"); dir != "" {
		qs, err := querydef.Load(os.DirFS(dir))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		for _, q := range qs {
			q.File = filepath.Join(dir, q.File)
		}
		return qs, nil
	}
	return querydef.Load(queries.FS)
}

// checkQueries refuses a query whose SQL does not compile in the embedded
// engine; osquery says osquery runs the queries, whose tables the engine
// does not all serve.
func checkQueries(ctx context.Context, qs []*querydef.Query, osquery bool) error {
	chk, err := hunt.NewSQLChecker()
	if err != nil {
		return err
	}
	defer chk.Close()
	for _, q := range qs {
		if err := chk.Check(ctx, q.SQL, osquery); err != nil {
			return fmt.Errorf("%s: %w", q.File, err)
		}
	}
	return nil
}

func targets(c *cli.Context) ([]hunt.Target, error) {
	args := c.Args().Slice()
	if f := c.String("targets"); f != "" {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
				args = append(args, l)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	if len(args) == 0 {
		root := c.String("root")
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--root %s is not a directory", root)
		}
		return []hunt.Target{hunt.Local{Host: hunt.LocalName(root), Root: root}}, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	engine := c.String("remote-engine")
	if engine != "auto" && engine != "osqueryi" && engine != "pkgpersist" {
		return nil, fmt.Errorf("--remote-engine %q: auto, osqueryi or pkgpersist", engine)
	}
	builds := distbin.Finder{Dist: c.String("dist"), Self: self}
	digests := &distbin.Digests{} // each build hashed once for every host
	var out []hunt.Target
	for _, a := range args {
		t, err := hunt.ParseSSH(a)
		if err != nil {
			return nil, err
		}
		t.Config, t.Timeout, t.Builds, t.Engine, t.Extension = c.String("ssh-config"), c.Duration("timeout"), builds, engine, c.String("extension")
		t.MaxOutput, t.Digests, t.Cache = c.Int64("max-output"), digests, c.String("remote-cache")
		out = append(out, t)
	}
	return out, nil
}

func runHunt(c *cli.Context) error {
	qs, err := loadQueries(c)
	if err != nil {
		return &exitError{2, err}
	}
	ro, err := reportOptions(c, report.Hunt, qs)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ts []hunt.Target
	var st *store.DB
	transport := "local"
	if c.Bool("enrolled") {
		if c.NArg() > 0 || c.IsSet("targets") {
			return &exitError{2, errors.New("--enrolled hunts the hosts enrolled into pkgpersist serve: give no other targets (--hosts picks some)")}
		}
		if err := checkQueries(ctx, qs, true); err != nil {
			return &exitError{2, err}
		}
		if st, err = openStore(c); err != nil {
			return &exitError{1, err}
		}
		defer st.Close()
		var names []string
		if h := c.String("hosts"); h != "" {
			names = strings.Split(h, ",")
		}
		if ts, err = enrolledTargets(c, st, names); err != nil {
			return &exitError{2, err}
		}
		transport = "osquery-tls"
	} else {
		if ts, err = targets(c); err != nil {
			return &exitError{2, err}
		}
		_, ssh := ts[0].(*hunt.SSH)
		if ssh {
			transport = "ssh"
		}
		if err := checkQueries(ctx, qs, ssh && c.String("remote-engine") != "pkgpersist"); err != nil {
			return &exitError{2, err}
		}
	}
	ts, dups := hunt.Dedup(ts)
	if len(dups) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "pkgpersist: duplicate targets merged: %s\n", output.Safe(strings.Join(dups, ", ")))
	}
	if err := hunt.Validate(ts, qs); err != nil {
		return &exitError{2, err}
	}
	if st == nil {
		if st, err = openStore(c); err != nil {
			return &exitError{1, err}
		}
		defer st.Close()
	}
	sum, runErr := hunt.Run(ctx, st, ts, qs, hunt.Options{
		Parallel: c.Int("parallel"), Timeout: c.Duration("timeout"), Transport: transport,
		Progress: c.App.ErrWriter, Bar: isTerminal(os.Stderr),
	})
	if sum.RunID == 0 {
		return &exitError{1, runErr}
	}
	// every stored host's findings are shown, whatever became of the others
	all, added, err := hunt.Findings(ctx, st, sum, qs)
	if err != nil {
		return &exitError{1, err}
	}
	shown, findings, err := applyTriage(c, st, all)
	if err != nil {
		return err
	}
	if err := writeReport(c, ro, shown); err != nil {
		return &exitError{1, err}
	}
	outcomes := make([]store.HostOutcome, len(sum.Hosts))
	for i, h := range sum.Hosts {
		outcomes[i] = h.HostOutcome
		outcomes[i].Host = h.Target // as the user named it; the progress said which host it is
	}
	report.HostStates(c.App.ErrWriter, outcomes)
	reportContention(c, st)
	newFindings := 0
	for _, f := range findings {
		if f.Kind == store.New {
			newFindings++
		}
	}
	ok, incomplete, failed := sum.Count()
	fmt.Fprintf(c.App.ErrWriter, "pkgpersist: run %d: %d hosts: %d ok, %d incomplete, %d failed; %d findings (%d new); %d rows new to the store in all queries; %s\n",
		sum.RunID, len(sum.Hosts), ok, incomplete, failed, len(findings), newFindings, added, dbName(c))
	if runErr != nil {
		return &exitError{1, runErr}
	}
	if !sum.Clean() {
		return &exitError{1, fmt.Errorf("not every host is ok: %d incomplete, %d failed (reasons above)", incomplete, failed)}
	}
	return nil
}

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:  "diff",
		Usage: "list the rows that are new or gone on each host",
		Description: `Reads --db and lists, per host, the result rows that are new (first seen)
and gone (there before, not now) in the runs of the window: the last --since
(default 24h), or one --run. --detections (or --kind) and --query narrow it
to some queries. --fail-on-new exits 1 when anything is new, for cron and CI.

The change column says new or gone; hunt also says present for a finding
seen before and still there.`,
		Flags: append(formatFlags(),
			&cli.DurationFlag{Name: "since", Value: 24 * time.Hour, Usage: "runs started within this `DURATION`"},
			&cli.Int64Flag{Name: "run", Usage: "one run `N` instead of --since"},
			&cli.StringFlag{Name: "host", Usage: "only this `HOST` (its name, or any name it was hunted by)"},
			&cli.StringFlag{Name: "query", Usage: "only this query `ID`"},
			&cli.BoolFlag{Name: "detections", Usage: "only the rows of detection queries (--kind detection)"},
			&cli.StringFlag{Name: "kind", Usage: "only the rows of queries of this `KIND`: " + strings.Join(querydef.Kinds, ", ")},
			&cli.BoolFlag{Name: "fail-on-new", Usage: "exit 1 when any row is new that no triage decision covers"},
			allFlag(),
		),
		Action: func(c *cli.Context) error {
			kind, err := diffKind(c)
			if err != nil {
				return err
			}
			builtin, err := querydef.Load(queries.FS)
			if err != nil {
				return &exitError{1, err}
			}
			ro, err := reportOptions(c, report.Diff, builtin)
			if err != nil {
				return err
			}
			st, err := openExisting(c, "hunt")
			if err != nil {
				return err
			}
			defer st.Close()
			if err := knownHostRun(c, st); err != nil {
				return err
			}
			cs, err := st.Diff(c.Context, store.Window{Since: time.Now().Add(-c.Duration("since")), Run: c.Int64("run"),
				Host: c.String("host"), Query: c.String("query")})
			if err != nil {
				return &exitError{1, err}
			}
			if kind != "" {
				cs = slices.DeleteFunc(cs, func(ch store.Change) bool { return ch.Query.Kind != kind })
			}
			shown, untriaged, err := applyTriage(c, st, cs)
			if err != nil {
				return err
			}
			if err := writeReport(c, ro, shown); err != nil {
				return &exitError{1, err}
			}
			if c.Bool("fail-on-new") && slices.ContainsFunc(untriaged, func(ch store.Change) bool { return ch.Kind == store.New }) {
				return &exitError{1, errors.New("new rows")}
			}
			return nil
		},
	}
}

// knownHostRun refuses a --host or --run the store does not know: a
// typo must not look like a host without changes.
func knownHostRun(c *cli.Context, st *store.DB) error {
	if h := c.String("host"); h != "" {
		if ok, err := st.HostKnown(c.Context, h); err != nil {
			return &exitError{1, err}
		} else if !ok {
			return usageError("pkgpersist diff", fmt.Sprintf("no host %q in %s", output.Safe(h), dbName(c)))
		}
	}
	if r := c.Int64("run"); c.IsSet("run") {
		if ok, err := st.RunKnown(c.Context, r); err != nil {
			return &exitError{1, err}
		} else if !ok {
			return usageError("pkgpersist diff", fmt.Sprintf("no run %d in %s", r, dbName(c)))
		}
	}
	return nil
}

// diffKind is the query kind diff keeps ("" for all): --detections is
// --kind detection.
func diffKind(c *cli.Context) (string, error) {
	kind := c.String("kind")
	if kind != "" && !slices.Contains(querydef.Kinds, kind) {
		return "", &exitError{2, fmt.Errorf("--kind %q is not one of %s", kind, strings.Join(querydef.Kinds, ", "))}
	}
	if c.Bool("detections") {
		if kind != "" && kind != "detection" {
			return "", &exitError{2, fmt.Errorf("--detections and --kind %s contradict each other", kind)}
		}
		kind = "detection"
	}
	return kind, nil
}

func batchCommand() *cli.Command {
	return &cli.Command{
		Name:   "batch",
		Hidden: true,
		Usage:  "run queries given as JSON on stdin (what a remote host runs during a hunt)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: "/", Usage: "the filesystem `DIR` to evaluate"},
			&cli.StringFlag{Name: "osqueryi", Usage: "run the queries with this osqueryi `FILE` instead of the embedded engine"},
			&cli.BoolFlag{Name: "enrolled", Usage: "hunt the osqueryd hosts enrolled into pkgpersist serve (same --db): queue the queries, wait for their answers"},
			&cli.StringFlag{Name: "hosts", Usage: "with --enrolled: only these comma-separated `HOSTS`"},
			&cli.StringFlag{Name: "extension", Usage: "with --osqueryi: the pkgpersist.ext `FILE` to load"},
			&cli.BoolFlag{Name: "watch-stdin", Usage: "standard input stays open after the queries: stop when it closes (the hunt is gone)"},
		},
		Action: func(c *cli.Context) error {
			var osq *hunt.Osqueryi
			if p := c.String("osqueryi"); p != "" {
				osq = &hunt.Osqueryi{Path: p, Extension: c.String("extension")}
			}
			if err := hunt.ServeBatch(c.Context, c.String("root"), osq, os.Stdin, c.App.Writer, c.Bool("watch-stdin")); err != nil {
				return &exitError{1, err}
			}
			return nil
		},
	}
}

// dbFlag is --db, the store of every command that keeps or reads
// results.
func dbFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "db", Value: "pkgpersist.db", Usage: "the store: a SQLite `FILE`, or a PostgreSQL URL (postgres://USER@HOST/DATABASE)"}
}

// openExisting opens --db, which the command that fills it (made) must
// have created: a mistyped path is an error, not a new empty database.
func openExisting(c *cli.Context, made string) (*store.DB, error) {
	if store.IsPostgres(c.String("db")) {
		st, err := openStore(c)
		if err != nil {
			return nil, &exitError{1, err}
		}
		return st, nil
	}
	if _, err := os.Stat(c.String("db")); err != nil {
		return nil, &exitError{2, fmt.Errorf("no database %s (run pkgpersist %s first)", dbName(c), made)}
	}
	st, err := openStore(c)
	if err != nil {
		// a database this user may not write (or on a read-only
		// mount) is still read
		ro, roErr := store.OpenReadOnly(c.String("db"))
		if roErr != nil {
			return nil, &exitError{1, err}
		}
		return ro, nil
	}
	return st, nil
}

// openStore opens --db and prints what the store warns about (database
// files other users can read).
func openStore(c *cli.Context) (*store.DB, error) {
	st, err := store.Open(c.String("db"))
	if err != nil {
		return nil, err
	}
	for _, w := range st.Warnings() {
		fmt.Fprintf(c.App.ErrWriter, "pkgpersist: warning: %s\n", output.Safe(w))
	}
	return st, nil
}

// dbName is --db as messages show it (a PostgreSQL URL without its
// password).
func dbName(c *cli.Context) string { return output.Safe(store.Describe(c.String("db"))) }

// reportContention says when writes had to wait for other processes on
// --db (serve, another hunt, ingest), and how many gave up.
func reportContention(c *cli.Context, st *store.DB) {
	if n := st.Contention(); n.Retries > 0 || n.GaveUp > 0 {
		fmt.Fprintf(c.App.ErrWriter, "pkgpersist: %s was held by other writers: %d writes waited and retried, %d gave up\n", dbName(c), n.Retries, n.GaveUp)
	}
}
