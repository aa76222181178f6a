// Package cli is the pkgpersist command line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/collector/tables"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// Version is set at build time.
var Version = "dev"

// exitError carries a process exit status with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// Main runs the command line and returns the exit status: 0 on success, 1
// when the work failed, 2 for a usage or SQL error.
func Main(args []string, stdout, stderr io.Writer) int {
	err := App(stdout, stderr).Run(append([]string{"pkgpersist"}, args...))
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "pkgpersist: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 2
}

// App is the command line, not yet run: Main runs it, and its man pages
// and shell completion are made from its definitions.
func App(stdout, stderr io.Writer) *cli.App {
	commands := []*cli.Command{huntCommand(), diffCommand(), explainCommand(), queryCommand(), batchCommand(), packsCommand(), serveCommand(), watchCommand(), hostsCommand(), ingestCommand(), reportCommand(), triageCommand(), pruneCommand(), backupCommand(), migrateCommand(), completionCommand(), manCommand()}
	usageConventions("pkgpersist", commands)
	return &cli.App{
		Name:      "pkgpersist",
		Usage:     "hunt Linux persistence planted through package managers",
		Version:   Version,
		Writer:    stdout,
		ErrWriter: stderr,
		Commands:  commands,
		// errors are printed once, by Main, as one line
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError("pkgpersist"),
		Action:         unknownCommand("pkgpersist", commands),
	}
}

func queryCommand() *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "run osquery SQL on this host or a mounted root, without osquery",
		ArgsUsage: "SQL",
		Description: `Runs one SQL statement over pkgpersist's tables (` + tableNames() + `)
in an embedded SQLite engine, as osqueryi would with the pkgpersist extension loaded.
Every table reads the filesystem under --root (default /); paths in constraints
and results are as seen inside that root. A query may also name a root itself:
  WHERE root = '/mnt/image'

Examples:
  pkgpersist query "SELECT hook, command, path FROM apt_hooks WHERE active = 1"
  pkgpersist query --root /mnt/image --format json --file hunt.sql

What a table could not read or evaluate in full is printed on stderr, one
line each (the tables also show it in their rows' reason columns).

Rows are written as they are produced in the json, ndjson and csv formats
(table waits for the last row to size its columns). A query that fails after
rows were written leaves them written, a JSON array unclosed (so that it does
not parse as the whole answer), and says why on stderr, exit status 2.

Exit status: 0 on success; 1 when a file the tables had to read could not be
read (permission or I/O: the rows may be incomplete; run as root); 2 when the
query cannot run (bad usage, an SQL error, a table's error such as a root
that does not exist).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: "/", Usage: "filesystem `DIR` to evaluate: a mounted disk image or container root"},
			&cli.StringFlag{Name: "format", Value: "", Usage: "output `FORMAT`: " + strings.Join(output.Formats, ", ") + " (default table on a terminal, json otherwise)"},
			&cli.StringFlag{Name: "file", Usage: "read the SQL from `FILE` instead of the argument"},
		},
		Action: func(c *cli.Context) error {
			sql, err := querySQL(c)
			if err != nil {
				return &exitError{2, err}
			}
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if fi, err := os.Stat(c.String("root")); err != nil || !fi.IsDir() {
				return &exitError{2, fmt.Errorf("--root %s is not a directory", c.String("root"))}
			}
			e, err := engine.New(tables.Engine(), c.String("root"))
			if err != nil {
				return &exitError{1, err}
			}
			defer e.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			problems, err := streamQuery(ctx, e, sql, c.App.Writer, format)
			if err != nil {
				return err
			}
			unread := 0
			for _, p := range problems {
				fmt.Fprintf(c.App.ErrWriter, "pkgpersist: %s\n", output.Safe(hunt.DescribeProblem(store.Problem(p))))
				if fsroot.Incomplete(p.Cause) {
					unread++
				}
			}
			if unread > 0 {
				return &exitError{1, fmt.Errorf("incomplete: %d files could not be read, the rows may be missing what they hold", unread)}
			}
			return nil
		},
	}
}

// streamQuery writes the statement's rows to w as they come. An error
// after rows were written leaves them written (a JSON array open: see
// output.Writer.Abandon) and is returned, for one line on stderr and a
// non-zero exit: 1 when writing failed, 2 when the query did.
func streamQuery(ctx context.Context, e *engine.Engine, sql string, w io.Writer, format string) ([]fsroot.Problem, error) {
	var out *output.Writer
	var writeErr error
	problems, err := e.Stream(ctx, sql, func(cols []string) error {
		out, writeErr = output.NewWriter(w, format, cols)
		return writeErr
	}, func(row []string) error {
		writeErr = out.Row(row)
		return writeErr
	})
	if err == nil {
		if err := out.Close(); err != nil {
			return nil, &exitError{1, err}
		}
		return problems, nil
	}
	if out != nil {
		if err := out.Abandon(); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	if writeErr != nil {
		return nil, &exitError{1, writeErr}
	}
	return nil, &exitError{2, fmt.Errorf("query: %w", err)}
}

// outputFormat is --format, or table on a terminal and json otherwise.
func outputFormat(c *cli.Context) (string, error) {
	format := c.String("format")
	if format == "" {
		format = "json"
		if isTerminal(os.Stdout) {
			format = "table"
		}
	}
	if !validFormat(format) {
		return "", &exitError{2, fmt.Errorf("unknown --format %q (one of %s)", format, strings.Join(output.Formats, ", "))}
	}
	return format, nil
}

func querySQL(c *cli.Context) (string, error) {
	file := c.String("file")
	switch {
	case file != "" && c.NArg() > 0:
		return "", errors.New("give the SQL as an argument or with --file, not both")
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return string(data), nil
	case c.NArg() == 1:
		return c.Args().First(), nil
	case c.NArg() > 1:
		return "", errors.New("quote the SQL as one argument")
	}
	return "", errors.New("no SQL given (an argument or --file)")
}

func validFormat(f string) bool {
	for _, x := range output.Formats {
		if x == f {
			return true
		}
	}
	return false
}

func tableNames() string {
	var n []string
	for _, t := range tables.Engine() {
		n = append(n, t.Name)
	}
	return strings.Join(n, ", ")
}

// isTerminal asks the terminal driver: a character device such as
// /dev/null is not a terminal, and output redirected there is not read by
// a person.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
