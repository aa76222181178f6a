package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
)

func explainCommand() *cli.Command {
	return &cli.Command{
		Name:      "explain",
		Usage:     "what a query finds, what to do about a row, its false positives and its SQL",
		ArgsUsage: "[QUERY]",
		Description: `Prints a query's header (title, kind, severity, ATT&CK techniques, schedule),
what it finds, the next step for a row it returns, its known false positives
and its SQL: the queries are built into pkgpersist, so a host that has no
queries/ directory can still explain a finding. Without QUERY it lists the
queries.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "queries", Usage: "a `DIR` of .sql query files instead of the built-in ones"},
		},
		Action: func(c *cli.Context) error {
			qs, err := loadQueries(c)
			if err != nil {
				return &exitError{2, err}
			}
			switch c.NArg() {
			case 0:
				return listQueries(c.App.Writer, qs)
			case 1:
			default:
				return &exitError{2, errors.New("explain takes one query id")}
			}
			id := c.Args().First()
			for _, q := range qs {
				if q.ID == id {
					_, err := io.WriteString(c.App.Writer, explain(q))
					return err
				}
			}
			ids := make([]string, len(qs))
			for i, q := range qs {
				ids[i] = q.ID
			}
			return &exitError{2, fmt.Errorf("no query %q (one of %s)", id, strings.Join(ids, ", "))}
		},
	}
}

func listQueries(w io.Writer, qs []*querydef.Query) error {
	rows := make([][]string, len(qs))
	for i, q := range qs {
		rows[i] = []string{q.ID, q.Kind, q.Severity, q.Title}
	}
	return output.Write(w, "table", []string{"query", "kind", "severity", "title"}, rows)
}

// explain is a query's header, its guidance and its SQL as text.
func explain(q *querydef.Query) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\n", q.ID, q.Title)
	facts := [][2]string{
		{"kind", q.Kind}, {"severity", q.Severity}, {"ATT&CK", strings.Join(q.Attack, ", ")},
		{"mode", q.Mode}, {"interval", fmt.Sprintf("%d s", q.Interval)}, {"platform", q.Platform}, {"source", q.Source},
	}
	for _, f := range facts {
		if f[1] != "" {
			fmt.Fprintf(&b, "%-10s %s\n", f[0]+":", f[1])
		}
	}
	for _, s := range [][2]string{
		{"What it finds", q.Description}, {"Next step", q.Next},
		{"False positives", q.FalsePositives}, {"Fixes", q.Fixes},
	} {
		if s[1] != "" {
			fmt.Fprintf(&b, "\n%s:\n  %s\n", s[0], s[1])
		}
	}
	fmt.Fprintf(&b, "\nSQL:\n  %s\n", strings.ReplaceAll(q.SQL, "\n", "\n  "))
	return b.String()
}
