package cli

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/newterms"
	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/report"
	"github.com/pkgpersist/pkgpersist/collector/stacks"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:        "report",
		Usage:       "detections over the events osqueryd hosts logged (serve or ingest), and the web report (html)",
		Subcommands: []*cli.Command{stacksCommand(), newTermsCommand(), htmlCommand()},
	}
}

func newTermsCommand() *cli.Command {
	d := newterms.Defaults
	return &cli.Command{
		Name:  "new-terms",
		Usage: `"RPM Package Installed by Unusual Parent Process" and its dpkg, pacman and apk twins, as new-terms rules`,
		Description: `Reads the install events in --db (logged by enrolled hosts, or read
with pkgpersist ingest): pm-installs, whose parent is the one at the exec,
or on hosts without the pkgpersist extension pkg-installs. Alerts on each
rpm, dpkg, pacman or apk install whose parent executable did not install packages
during the --history window before the --lookback window; at most
--max-alerts a run. Run it every 5 minutes from a
scheduler (cron, systemd timer), or keep it running with --watch.

Each argv is parsed as rpm, dpkg, pacman and apk parse it: besides the
published rule's -i and --install, it catches clustered options (-ivh,
-Uvh), -U/--upgrade, -F/--freshen, --reinstall, dpkg --unpack, pacman -U
(not --print or --downloadonly) and apk add of a .apk file (not
--simulate); each alert says which form matched and whether the
published rule would have seen it.

The published rule's history is fleet-wide: one administrator's install
from a parent anywhere hides that parent on every host for the whole
history window. --per-host keeps one history per host.`,
		Flags: append(formatFlags(),
			&cli.DurationFlag{Name: "lookback", Value: d.Lookback, Usage: "alert on installs within this `DURATION` before now"},
			&cli.DurationFlag{Name: "history", Value: d.History, Usage: "a parent seen installing within this `DURATION` before the look-back is not new"},
			&cli.BoolFlag{Name: "per-host", Usage: "keep the history per host instead of fleet-wide"},
			&cli.IntFlag{Name: "max-alerts", Value: d.MaxAlerts, Usage: "at most `N` alerts a run"},
			&cli.TimestampFlag{Name: "now", Layout: time.RFC3339, Usage: "evaluate as of `TIME` (RFC 3339), to replay a past window"},
			&cli.DurationFlag{Name: "watch", Usage: "run again every `DURATION` (e.g. 5m) until interrupted, each run's look-back ending at its start"},
			allFlag(),
		),
		Action: runNewTerms,
	}
}

// newTermsRules describes the rules for the table's headings.
func newTermsRules() []*querydef.Query {
	var qs []*querydef.Query
	for _, r := range newterms.Rules {
		qs = append(qs, &querydef.Query{ID: r.ID, Title: r.Name, Kind: "detection", Attack: newterms.Attack,
			Next: "ask who ran parent_path and why it installed the package cmdline names with " + r.Tool})
	}
	return qs
}

func runNewTerms(c *cli.Context) error {
	ro, err := reportOptions(c, report.NewTerms, newTermsRules())
	if err != nil {
		return err
	}
	st, err := openExisting(c, "serve or pkgpersist ingest")
	if err != nil {
		return err
	}
	defer st.Close()
	o := newterms.Options{Lookback: c.Duration("lookback"), History: c.Duration("history"), PerHost: c.Bool("per-host"), MaxAlerts: c.Int("max-alerts")}
	if o.Lookback <= 0 || o.History <= 0 || o.MaxAlerts <= 0 {
		return &exitError{2, fmt.Errorf("--lookback, --history and --max-alerts must be positive")}
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	for {
		o.Now = time.Now()
		if t := c.Timestamp("now"); t != nil {
			o.Now = *t
		}
		found, err := newterms.Find(ctx, st, o)
		if err != nil {
			return &exitError{1, err}
		}
		read := fmt.Sprintf("%d new-term installs in the look-back", found.Read)
		if found.Fallback != nil {
			read = fmt.Sprintf("install terms not kept in %s (%v): read all %d install events", c.String("db"), found.Fallback, found.Read)
		}
		alerts, _, err := applyTriage(c, st, found.Alerts)
		if err != nil {
			return err
		}
		if err := writeReport(c, ro, alerts); err != nil {
			return &exitError{1, err}
		}
		fmt.Fprintf(c.App.ErrWriter, "pkgpersist: new-terms at %s: %s, %d alerts\n", o.Now.UTC().Format(time.RFC3339), output.Safe(read), len(alerts))
		if c.Duration("watch") <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(c.Duration("watch")):
		}
	}
}

func stacksCommand() *cli.Command {
	d := stacks.Defaults
	return &cli.Command{
		Name:  "stacks",
		Usage: `the "Persistence via Package Manager" hunt's two stacking queries`,
		Description: `Stacks the events enrolled or ingested hosts logged within --since:
  files     writes in the package-manager hook and plugin directories, by
            executable and path: pm-writes (package managers' writes of
            files a package owns left out, by executable path), or on hosts
            without the extension pm-process-file-events (processes named
            in --package-managers left out); keeps count <= --file-max-count
            and hosts <= --file-max-hosts
  children  programs started under package managers, by executable:
            pm-descendants (any depth, by executable path), or on hosts
            without the extension pm-children (parents named in --parents);
            keeps hosts <= --child-max-hosts and count < --child-count-below,
            at most --child-limit
A host that logged both queries of a stack is stacked from the first alone.
Both sorted by count, rarest first. Defaults are the hunt's thresholds.`,
		Flags: []cli.Flag{
			dbFlag(),
			&cli.StringFlag{Name: "format", Usage: "output `FORMAT`: table, json, csv, ndjson (default table on a terminal, json otherwise)"},
			&cli.DurationFlag{Name: "since", Value: 30 * 24 * time.Hour, Usage: "events within this `DURATION` before now"},
			&cli.TimestampFlag{Name: "now", Layout: time.RFC3339, Usage: "stack as of `TIME` (RFC 3339) instead of now"},
			&cli.StringSliceFlag{Name: "package-managers", Value: cli.NewStringSlice(d.PackageManagers...), Usage: "process `NAMES` whose writes are expected"},
			&cli.IntFlag{Name: "file-max-count", Value: d.FileMaxCount, Usage: "keep files written at most `N` times"},
			&cli.IntFlag{Name: "file-max-hosts", Value: d.FileMaxHosts, Usage: "keep files written on at most `N` hosts"},
			&cli.StringSliceFlag{Name: "parents", Value: cli.NewStringSlice(d.Parents...), Usage: "parent process `NAMES` whose children are stacked"},
			&cli.IntFlag{Name: "child-max-hosts", Value: d.ChildMaxHosts, Usage: "keep programs started on at most `N` hosts"},
			&cli.IntFlag{Name: "child-count-below", Value: d.ChildCountBelow, Usage: "keep programs started fewer than `N` times"},
			&cli.IntFlag{Name: "child-limit", Value: d.ChildLimit, Usage: "at most `N` programs"},
		},
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			st, err := openExisting(c, "serve or pkgpersist ingest")
			if err != nil {
				return err
			}
			defer st.Close()
			o := stacks.Options{
				PackageManagers: c.StringSlice("package-managers"), FileMaxCount: c.Int("file-max-count"), FileMaxHosts: c.Int("file-max-hosts"),
				Parents: c.StringSlice("parents"), ChildMaxHosts: c.Int("child-max-hosts"), ChildCountBelow: c.Int("child-count-below"), ChildLimit: c.Int("child-limit"),
			}
			now := time.Now()
			if t := c.Timestamp("now"); t != nil {
				now = *t
			}
			r, err := stacks.Compute(c.Context, st, o, now.Add(-c.Duration("since")), now)
			if r.Unprepared != nil {
				// exact without them, only slower
				fmt.Fprintf(c.App.ErrWriter, "pkgpersist: stacks: rollups not kept in %s (%v): grouping every event\n", output.Safe(c.String("db")), output.Safe(r.Unprepared.Error()))
			}
			if err != nil {
				return &exitError{1, err}
			}
			rows := append(stacks.Rows("files", r.Files), stacks.Rows("children", r.Children)...)
			fmt.Fprintf(c.App.ErrWriter, "pkgpersist: stacks: %d of %d file-write groups and %d of %d child groups kept\n",
				len(r.Files), r.FileGroups, len(r.Children), r.ChildGroups)
			return output.Write(c.App.Writer, format, stacks.Columns, rows)
		},
	}
}
