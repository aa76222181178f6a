package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "delete stored runs, logged rows and status logs older than --keep",
		Description: `Deletes from --db what is older than --keep: the runs started before it
with their changes, host and query statuses and problems; the result rows no
kept change names; the rows and status logs osqueryd hosts logged; answered
distributed queries. Every diff inside the kept range stays as it was, and each
host's latest run of each query is kept however old, so its next run is still
compared with it. The freed space goes back to the file system: at once on a
database pkgpersist created in incremental auto-vacuum mode, else by one full
VACUUM (which converts it; it blocks writers while it runs, --no-vacuum skips
it). "pkgpersist serve --retention" prunes as it serves.`,
		Flags: []cli.Flag{
			dbFlag(),
			&cli.StringFlag{Name: "keep", Required: true, Usage: "keep this `AGE` of history: 90d, 2w, 36h"},
			&cli.BoolFlag{Name: "no-vacuum", Usage: "never run a full VACUUM (space freed only on incremental databases)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("pkgpersist prune", fmt.Sprintf("prune takes no arguments (got %q)", c.Args().First()))
			}
			keep, err := parseAge(c.String("keep"))
			if err != nil {
				return usageError("pkgpersist prune", "--keep: "+err.Error())
			}
			st, err := openExisting(c, "hunt")
			if err != nil {
				return err
			}
			defer st.Close()
			size, err := st.Size(c.Context)
			if err != nil {
				return &exitError{1, err}
			}
			if err := prune(c.Context, st, keep, !c.Bool("no-vacuum"), c.App.Writer); err != nil {
				return &exitError{1, err}
			}
			after, err := st.Size(c.Context)
			if err != nil {
				return &exitError{1, err}
			}
			fmt.Fprintf(c.App.Writer, "%s: %d -> %d bytes\n", dbName(c), size, after)
			return nil
		},
	}
}

// prune deletes what is older than keep and compacts the file (full
// allows a full VACUUM), telling w what went.
func prune(ctx context.Context, st *store.DB, keep time.Duration, full bool, w io.Writer) error {
	before := time.Now().Add(-keep)
	p, err := st.Prune(ctx, before)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "pruned before %s: %d runs (%d host and %d query statuses, %d changes, %d problems), %d result rows, %d logged rows, %d status logs, %d answered queries\n",
		before.UTC().Format(time.RFC3339), p.Runs, p.HostRuns, p.QueryRuns, p.Changes, p.Problems, p.Results, p.Logged, p.Status, p.Answers)
	done, err := st.Compact(ctx, full)
	if err != nil {
		return err
	}
	if !done {
		fmt.Fprintln(w, "space not returned: the database is not in incremental auto-vacuum mode; run pkgpersist prune without --no-vacuum once")
	}
	return nil
}

// retain prunes the store every interval until ctx ends, logging what it
// did; it never runs a full VACUUM (serve's writers would wait on it).
func retain(ctx context.Context, st *store.DB, keep, interval time.Duration, log *slog.Logger) {
	for {
		var b strings.Builder
		if err := prune(ctx, st, keep, false, &b); err != nil {
			log.Error("retention", "err", err)
		} else {
			log.Info("retention", "result", strings.TrimSpace(b.String()))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// parseAge reads an age as Go durations are written, plus days (d) and
// weeks (w): 90d, 2w, 36h, 1d12h.
func parseAge(s string) (time.Duration, error) {
	var total time.Duration
	rest := s
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}} {
		if i := strings.Index(rest, u.suffix); i > 0 {
			n, err := strconv.Atoi(rest[:i])
			if err != nil {
				return 0, fmt.Errorf("%q is not an age (90d, 2w, 36h)", s)
			}
			total += time.Duration(n) * u.unit
			rest = rest[i+1:]
		}
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not an age (90d, 2w, 36h)", s)
		}
		total += d
	}
	if total <= 0 {
		return 0, fmt.Errorf("%q: the age must be positive", s)
	}
	return total, nil
}

func backupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "copy the database to a new file while it is in use",
		ArgsUsage: "FILE",
		Description: `Copies --db to FILE with SQLite's online backup: a consistent copy of one
moment, taken while serve and hunts keep writing (a plain cp of a database in
WAL mode can miss what is still in its -wal file). FILE is created 0600 and
must not exist; it is a complete pkgpersist database (--db FILE reads it).`,
		Flags: []cli.Flag{
			dbFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("pkgpersist backup", "give one FILE to copy the database to")
			}
			st, err := openExisting(c, "hunt")
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Backup(c.Context, c.Args().First()); err != nil {
				return &exitError{1, err}
			}
			fmt.Fprintf(c.App.Writer, "%s copied to %s (%d bytes)\n", dbName(c), c.Args().First(), store.FileSize(c.Args().First()))
			return nil
		},
	}
}
