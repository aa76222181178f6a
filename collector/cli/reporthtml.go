package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/collector/webreport"
	"github.com/pkgpersist/pkgpersist/queries"
)

func htmlCommand() *cli.Command {
	d := webreport.Defaults()
	return &cli.Command{
		Name:  "html",
		Usage: "write the store as one self-contained HTML page: hosts, findings, new findings per day, stacks",
		Description: `Reads --db and writes one HTML file that needs nothing else (no network,
no fonts, no images: styles, the chart and a small sorting script are in
the page, and its Content-Security-Policy forbids every fetch):
  hosts       each host's latest hunt: when, ok / incomplete / failed and
              why; when it last logged (hosts never hunted: logging, or
              enrolled when they have not logged yet); its findings and
              how many are triaged
  detections  each detection's findings: distinct rows, hosts, triaged,
              first and last seen
  timeline    findings first seen on a host per day (an SVG bar chart)
  stacks      the hunt's two stacking queries, as pkgpersist report stacks
  findings    each distinct row with its provenance (file, line, package,
              sha256), hosts, first and last seen and triage decision
A host's findings are the detection rows of its latest hunt and those its
osqueryd currently logs (a differential query's rows added and not removed
since, a snapshot query's latest snapshot). At most --max-hosts hosts and
--max-findings findings are listed (problem hosts, and findings with the
most hosts left to triage, first); the page says how many more there are
and the command that lists them all.
The file is written beside --out and renamed into place, 0600 (it holds
what the store holds); its path is printed. --out - writes standard output.
pkgpersist serve --ui-password-file shows the same page at /ui/.

Exit status: 0 when written, 1 when the store could not be read or the
file written, 2 for usage errors (no such --db).`,
		Flags: []cli.Flag{
			dbFlag(),
			&cli.StringFlag{Name: "out", Value: "pkgpersist-report.html", Usage: "write the page to `FILE` (- for standard output)"},
			&cli.DurationFlag{Name: "since", Value: d.StacksSince, Usage: "stack the events logged within this `DURATION` before now"},
			&cli.IntFlag{Name: "max-hosts", Value: d.MaxHosts, Usage: "list at most `N` hosts"},
			&cli.IntFlag{Name: "max-findings", Value: d.MaxFindings, Usage: "list at most `N` distinct findings"},
		},
		Action: runReportHTML,
	}
}

// pageOptions are the web report's options for --db with the built-in
// detections' definitions.
func pageOptions(db string, qs []*querydef.Query) webreport.Options {
	o := webreport.Defaults()
	o.DB, o.Queries = store.Describe(db), qs
	return o
}

func runReportHTML(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("pkgpersist report html", fmt.Sprintf("report html takes no arguments (got %q)", c.Args().First()))
	}
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		return &exitError{1, err}
	}
	o := pageOptions(c.String("db"), qs)
	o.StacksSince, o.MaxHosts, o.MaxFindings = c.Duration("since"), c.Int("max-hosts"), c.Int("max-findings")
	if o.StacksSince <= 0 || o.MaxHosts <= 0 || o.MaxFindings <= 0 {
		return usageError("pkgpersist report html", "--since, --max-hosts and --max-findings must be positive")
	}
	st, err := openExisting(c, "hunt")
	if err != nil {
		return err
	}
	defer st.Close()
	o.Now = time.Now()
	out := c.String("out")
	if out == "-" {
		if err := webreport.Write(c.Context, c.App.Writer, st, o); err != nil {
			return &exitError{1, err}
		}
		return nil
	}
	if err := writeReplacing(out, func(w io.Writer) error { return webreport.Write(c.Context, w, st, o) }); err != nil {
		return &exitError{1, err}
	}
	fmt.Fprintln(c.App.Writer, out)
	return nil
}

// writeReplacing writes a file beside path and renames it to path once
// complete: path is the old file or the whole new one, never a part.
func writeReplacing(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing there
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
