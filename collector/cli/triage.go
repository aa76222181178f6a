package cli

import (
	"fmt"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/collector/triage"
)

// allFlag lists triaged findings, marked, instead of hiding them.
func allFlag() cli.Flag {
	return &cli.BoolFlag{Name: "all", Usage: "also list the findings a triage decision covers, each with its decision in the row's triaged column"}
}

// applyTriage returns the findings no triage decision covers (untriaged)
// and those to show: with --all every finding, the covered ones marked.
// It says on stderr how many it hid.
func applyTriage(c *cli.Context, st triage.Store, cs []store.Change) (show, untriaged []store.Change, err error) {
	set, err := triage.Load(c.Context, st)
	if err != nil {
		return nil, nil, &exitError{1, err}
	}
	now := time.Now()
	untriaged, covered := set.Apply(cs, now, false)
	if !c.Bool("all") {
		if covered > 0 {
			fmt.Fprintf(c.App.ErrWriter, "pkgpersist: %d triaged findings hidden (--all lists them)\n", covered)
		}
		return untriaged, untriaged, nil
	}
	show, _ = set.Apply(cs, now, true)
	return show, untriaged, nil
}

func triageCommand() *cli.Command {
	db := dbFlag()
	return &cli.Command{
		Name:  "triage",
		Usage: "record that findings are benign, so hunt, diff and report stop listing them",
		Description: `A decision covers the rows of one query with one identity (a row's columns,
volatile ones left out) on one host, or on every host: hunt, diff and
report new-terms then hide them (--all lists them marked) and diff
--fail-on-new ignores them. A row that changes (another command, another
path) is a new row no decision covers; a decision expires at --until.
pkgpersist also ships defaults for rows known to be benign (Docker's
docker-clean APT hook); triage list shows them.

Examples:
  pkgpersist triage add unowned-hooks --match path=/etc/apt/apt.conf.d/50local \
      --reason "our cache cleaner, ticket 123" --until 90d
  pkgpersist triage list
  pkgpersist triage remove 3`,
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "record that the rows of QUERY with the --match values are benign",
				ArgsUsage: "QUERY",
				Flags: []cli.Flag{db,
					&cli.StringSliceFlag{Name: "match", Usage: "`COLUMN=VALUE` the rows must have (repeat for more columns)"},
					&cli.StringFlag{Name: "reason", Usage: "why the rows are benign (`TEXT`)"},
					&cli.StringFlag{Name: "host", Usage: "only this `HOST`'s rows, and the decision for it alone (default: every host)"},
					&cli.StringFlag{Name: "until", Value: "90d", Usage: "when the decision expires: a `DURATION` (90d, 12h) or an RFC 3339 time"},
					&cli.StringFlag{Name: "who", Usage: "who decides (`NAME`; default the user running pkgpersist)"},
				},
				Action: triageAdd,
			},
			{
				Name:   "list",
				Usage:  "list the decisions in force and the shipped defaults (--all: expired ones too)",
				Flags:  []cli.Flag{db, &cli.BoolFlag{Name: "all", Usage: "also list expired decisions"}, &cli.StringFlag{Name: "format", Usage: "output `FORMAT`: table, json, csv, ndjson (default table on a terminal, json otherwise)"}},
				Action: triageList,
			},
			{
				Name:      "remove",
				Usage:     "delete a recorded decision",
				ArgsUsage: "ID",
				Flags:     []cli.Flag{db},
				Action: func(c *cli.Context) error {
					id, err := strconv.ParseInt(c.Args().First(), 10, 64)
					if err != nil || c.NArg() != 1 {
						return &exitError{2, fmt.Errorf("give the ID of one decision (pkgpersist triage list)")}
					}
					st, err := openExisting(c, "hunt")
					if err != nil {
						return err
					}
					defer st.Close()
					if err := st.RemoveTriage(c.Context, id); err != nil {
						return &exitError{1, err}
					}
					return nil
				},
			},
		},
	}
}

func triageAdd(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{2, fmt.Errorf("give one query ID")}
	}
	now := time.Now()
	until, err := parseUntil(c.String("until"), now)
	if err != nil {
		return &exitError{2, err}
	}
	match := map[string]string{}
	for _, m := range c.StringSlice("match") {
		k, v, ok := strings.Cut(m, "=")
		if !ok || k == "" {
			return &exitError{2, fmt.Errorf("--match %q is not COLUMN=VALUE", m)}
		}
		match[k] = v
	}
	who := c.String("who")
	if who == "" {
		if u, err := user.Current(); err == nil {
			who = u.Username
		}
	}
	st, err := openExisting(c, "hunt")
	if err != nil {
		return err
	}
	defer st.Close()
	ts, err := triage.Record(c.Context, st, triage.Request{Query: c.Args().First(), Match: match, Host: c.String("host"),
		Reason: c.String("reason"), Who: who, Until: until, Created: now})
	if err != nil {
		return &exitError{2, err}
	}
	for _, t := range ts {
		fmt.Fprintf(c.App.Writer, "triage %d: %s %s benign until %s\n", t.ID, t.QueryID, output.Safe(summarize(t.Row)), t.Until.UTC().Format(time.RFC3339))
	}
	return nil
}

func triageList(c *cli.Context) error {
	st, err := openExisting(c, "hunt")
	if err != nil {
		return err
	}
	defer st.Close()
	set, err := triage.Load(c.Context, st)
	if err != nil {
		return &exitError{1, err}
	}
	stored, err := st.Triages(c.Context)
	if err != nil {
		return &exitError{1, err}
	}
	rows := map[int64]store.Row{}
	for _, t := range stored {
		rows[t.ID] = t.Row
	}
	now := time.Now()
	var out [][]string
	for _, d := range set {
		if !c.Bool("all") && !d.Until.IsZero() && !now.Before(d.Until) {
			continue
		}
		id, host, until, row := "default", d.Host, "never", d.Match
		if d.ID != 0 {
			id, until, row = strconv.FormatInt(d.ID, 10), d.Until.UTC().Format(time.RFC3339), rows[d.ID]
		}
		if host == "" {
			host = "(all)"
		}
		out = append(out, []string{id, d.Query, host, summarize(row), d.Reason, d.Who, until})
	}
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	return output.Write(c.App.Writer, format, []string{"id", "query", "host", "row", "reason", "who", "until"}, out)
}

// summarize is a row as COLUMN=VALUE pairs, in column order.
func summarize(r map[string]string) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + r[k]
	}
	return strings.Join(parts, " ")
}

// parseUntil reads a duration (with d for days) from now, or an RFC 3339
// time.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.AddDate(0, 0, n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("--until %q is neither a positive duration (90d, 12h) nor an RFC 3339 time", s)
}
