package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/ingest"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

func ingestCommand() *cli.Command {
	return &cli.Command{
		Name:      "ingest",
		Usage:     "store osqueryd results log files (filesystem logger) for diff and the reports",
		ArgsUsage: "FILE... (- for standard input)",
		Description: `Reads osqueryd.results.log files: one JSON result per line, in event,
batch (diffResults) or snapshot format, plain or gzip. Rows are stored per
hostIdentifier; reading a file again stores nothing twice, so rotated logs
can be fed as they come. Lines that are not results are counted and the
first few reported. Exit status: 0 when every file was read, 1 otherwise.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "db", Value: "pkgpersist.db", Usage: "the SQLite `FILE` results are stored in"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return &exitError{2, errors.New("ingest needs at least one FILE (- for standard input)")}
			}
			st, err := openStore(c)
			if err != nil {
				return &exitError{1, err}
			}
			defer st.Close()
			var failed []error
			for _, name := range c.Args().Slice() {
				s, err := ingestFile(c, st, name)
				for _, e := range s.Errors {
					fmt.Fprintf(c.App.ErrWriter, "pkgpersist: %s\n", e)
				}
				fmt.Fprintf(c.App.ErrWriter, "pkgpersist: %s: %d lines, %d rows, %d new, %d not results\n", name, s.Lines, s.Rows, s.New, s.Bad)
				if err != nil {
					failed = append(failed, err)
				}
			}
			reportContention(c, st)
			if len(failed) > 0 {
				return &exitError{1, errors.Join(failed...)}
			}
			return nil
		},
	}
}

func ingestFile(c *cli.Context, st *store.SQLite, name string) (ingest.Stats, error) {
	if name == "-" {
		return ingest.Read(c.Context, st, os.Stdin, "stdin")
	}
	f, err := os.Open(name)
	if err != nil {
		return ingest.Stats{}, err
	}
	defer f.Close()
	return ingest.Read(c.Context, st, f, name)
}
