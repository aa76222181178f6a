package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/packs"
	"github.com/pkgpersist/pkgpersist/extension/registry"
)

func packsCommand() *cli.Command {
	return &cli.Command{
		Name:  "packs",
		Usage: "generate osquery packs, an example osqueryd configuration and Fleet YAML from the queries",
		Description: `Writes, under --out:
  pkgpersist.conf        osquery pack of the queries that read pkgpersist tables
                         (discovery: runs only where the extension is loaded)
  pkgpersist-core.conf   osquery pack of the queries on osquery's own tables
                         (file, users, file_events, process_events, ...)
  osquery.conf.example   a whole osqueryd configuration: both packs, FIM paths
                         for file_events, host decorators
  osquery.flags.example  a whole osqueryd flagfile: extension and event flags
  osquery.conf.d/pkgpersist.conf
                         what a host with its own osquery.conf adds to
                         osquery.conf.d/: both packs and the FIM paths
  pkgpersist.flags       flagfile lines to add: load and require the extension
  pkgpersist-events.flags
                         flagfile lines to add: the event switches
  fleet/queries.yml      fleetctl apply -f, Fleet before 4.82 (kind: query)
  fleet/reports.yml      fleetctl apply -f, Fleet 4.82 and later (kind: report)
  fleet/policies.yml     fleetctl apply -f: one policy per detection, passing
                         while the detection finds nothing
  fleet/gitops.yml       queries and policies to merge into a GitOps file

The output depends only on the queries, so it can be committed and checked:
--check writes nothing and exits 1 when a file under --out is stale.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Value: "packs", Usage: "the `DIR` to write"},
			&cli.BoolFlag{Name: "check", Usage: "compare with --out instead of writing; exit 1 when stale"},
			&cli.StringFlag{Name: "queries", Usage: "a `DIR` of .sql query files instead of the built-in ones"},
		},
		Action: runPacks,
	}
}

func runPacks(c *cli.Context) error {
	if c.NArg() > 0 {
		return &exitError{2, fmt.Errorf("packs takes no arguments (got %q)", c.Args().First())}
	}
	qs, err := loadQueries(c)
	if err != nil {
		return &exitError{2, err}
	}
	out, err := packs.Generate(qs, registry.Tables())
	if err != nil {
		return &exitError{1, fmt.Errorf("packs: %w", err)}
	}
	dir := c.String("out")
	if c.Bool("check") {
		stale, err := out.Stale(dir)
		if err != nil {
			return &exitError{1, fmt.Errorf("packs: %w", err)}
		}
		if len(stale) > 0 {
			return &exitError{1, fmt.Errorf("%s is stale (%s): run make packs", dir, strings.Join(stale, ", "))}
		}
		fmt.Fprintf(c.App.Writer, "%s: %d files up to date\n", dir, len(out))
		return nil
	}
	if err := out.Write(dir); err != nil {
		return &exitError{1, fmt.Errorf("packs: %w", err)}
	}
	for _, n := range out.Names() {
		fmt.Fprintln(c.App.Writer, filepath.Join(dir, n))
	}
	return nil
}
