package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

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
batch (diffResults) or snapshot format (a snapshot's rows one a line too,
as --logger_snapshot_event_type logs them), plain or gzip. Rows are stored
per hostIdentifier; reading a file again stores nothing twice, so rotated
logs can be fed as they come. Lines that are not results are counted and
the first few reported. A line longer than --max-line-bytes or with more
rows than --max-line-rows is skipped and reported with its file and line
(memory is bounded by these, not by the input); a file that ends early (a
truncated .gz) keeps the lines before the end and says where it ended.
Exit status: 0 when every file was read in full, 1 otherwise (partial:
skipped lines, an early end, a file that could not be read).`,
		Flags: []cli.Flag{
			dbFlag(),
			&cli.Int64Flag{Name: "max-line-bytes", Value: ingest.DefaultLineBytes, Usage: "skip (and report) lines longer than `N` bytes"},
			&cli.IntFlag{Name: "max-line-rows", Value: ingest.DefaultLineRows, Usage: "skip (and report) lines of more than `N` rows"},
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
			lim := ingest.Limits{LineBytes: c.Int64("max-line-bytes"), LineRows: c.Int("max-line-rows")}
			var failed []error
			for _, name := range c.Args().Slice() {
				s, err := ingestFile(c, st, name, lim)
				for _, e := range append(s.Errors, s.SkippedLines...) {
					fmt.Fprintf(c.App.ErrWriter, "pkgpersist: %s\n", e)
				}
				if s.Truncated != "" {
					fmt.Fprintf(c.App.ErrWriter, "pkgpersist: %s\n", s.Truncated)
				}
				fmt.Fprintf(c.App.ErrWriter, "pkgpersist: %s: %d lines, %d rows, %d new, %d not results, %d skipped\n", name, s.Lines, s.Rows, s.New, s.Bad, s.Skipped)
				if err != nil {
					failed = append(failed, err)
				} else if s.Partial() {
					failed = append(failed, fmt.Errorf("%s: partial: %s", name, partial(s)))
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

func ingestFile(c *cli.Context, st *store.DB, name string, lim ingest.Limits) (ingest.Stats, error) {
	if name == "-" {
		return ingest.ReadLimited(c.Context, st, os.Stdin, "stdin", lim)
	}
	f, err := os.Open(name)
	if err != nil {
		return ingest.Stats{}, err
	}
	defer f.Close()
	return ingest.ReadLimited(c.Context, st, f, name, lim)
}

// partial says what of a file was not read.
func partial(s ingest.Stats) string {
	var what []string
	if s.Skipped > 0 {
		what = append(what, fmt.Sprintf("%d lines skipped", s.Skipped))
	}
	if s.Truncated != "" {
		what = append(what, "the input ended early")
	}
	return strings.Join(what, ", ")
}
