package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// migrateProgressEvery is how often a long copy tells how far it is.
const migrateProgressEvery = 2 * time.Second

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "copy a SQLite store into an empty PostgreSQL database",
		Description: `Copies the SQLite store --from FILE into the PostgreSQL database --to URL,
which every command then uses as --db URL. A FILE an older pkgpersist made is
first brought up to this pkgpersist's schema (that writes FILE, as any command
would); the database gets the same schema, and must hold no pkgpersist data: a
database with rows is refused and left as it was.

Every table is copied in one transaction of the database: a copy that fails or
is interrupted (SIGINT, SIGTERM) leaves it empty, and can be run again. Before
the commit each table's rows are counted in the database against FILE, and the
ids the database hands out next follow the copied ones. FILE is read as of one
moment: stop serve, hunt, ingest and watch on it first, since what they write
during the copy is not copied. Keep FILE until the database has been checked.

A table that takes long tells its progress on standard error; each table's rows
are listed on standard output at the end. Give the password through PGPASSWORD
or ~/.pgpass rather than in the URL, which other users can see in the process
list. --to also takes a new SQLite FILE.

Exit status: 0 when every table was copied and counted; 1 when nothing was
copied (the database holds data, a failure, an interruption); 2 for bad usage.

Example:
  pkgpersist migrate --from /var/lib/pkgpersist/pkgpersist.db \
      --to postgres://pkgpersist@db.example.org/pkgpersist`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "the SQLite `FILE` to copy"},
			&cli.StringFlag{Name: "to", Usage: "the empty database to fill: a PostgreSQL `URL` (postgres://USER@HOST/DATABASE)"},
		},
		Action: runMigrate,
	}
}

func runMigrate(c *cli.Context) error {
	const path = "pkgpersist migrate"
	if c.NArg() > 0 {
		return usageError(path, fmt.Sprintf("migrate takes no arguments (got %q)", c.Args().First()))
	}
	from, to := c.String("from"), c.String("to")
	shown := output.Safe(store.Describe(to)) // no password
	switch {
	case from == "" || to == "":
		return usageError(path, "give the SQLite store to copy (--from FILE) and the database to copy it into (--to URL)")
	case store.IsPostgres(from):
		return usageError(path, "--from takes a SQLite FILE")
	}
	if _, err := os.Stat(from); err != nil {
		return &exitError{2, fmt.Errorf("no database %s", output.Safe(from))}
	}
	src, err := store.Open(from)
	if err != nil {
		return &exitError{1, err}
	}
	defer src.Close()
	dst, err := store.Open(to)
	if err != nil {
		return &exitError{1, err}
	}
	defer dst.Close()
	for _, w := range append(src.Warnings(), dst.Warnings()...) {
		fmt.Fprintf(c.App.ErrWriter, "pkgpersist: warning: %s\n", output.Safe(w))
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	last := start
	copied, err := store.Copy(ctx, src, dst, store.CopyOptions{Progress: func(p store.CopyProgress) {
		if now := time.Now(); !p.Done && now.Sub(last) >= migrateProgressEvery {
			last = now
			fmt.Fprintf(c.App.ErrWriter, "pkgpersist: migrate: %s: %d of %d rows\n", p.Table, p.Rows, p.Total)
		}
	}})
	switch {
	case errors.Is(err, store.ErrNotEmpty):
		return &exitError{1, fmt.Errorf("%s: %w: migrate into an empty database", shown, err)}
	case err != nil && ctx.Err() != nil:
		return &exitError{1, fmt.Errorf("interrupted: nothing was copied into %s", shown)}
	case err != nil:
		return &exitError{1, fmt.Errorf("nothing was copied into %s: %w", shown, err)}
	}
	var total int64
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TABLE\tROWS")
	for _, t := range copied {
		fmt.Fprintf(w, "%s\t%d\n", t.Table, t.Rows)
		total += t.Rows
	}
	if err := w.Flush(); err != nil {
		return &exitError{1, err}
	}
	fmt.Fprintf(c.App.Writer, "%s copied to %s: %d rows in %d tables, counted in both, in %s\n",
		output.Safe(from), shown, total, len(copied), time.Since(start).Round(time.Millisecond))
	return nil
}
