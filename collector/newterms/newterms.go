// Package newterms is Elastic's "RPM Package Installed by Unusual Parent
// Process" rule, and its dpkg twin, as a new-terms detection over the
// install events osqueryd logged (the pm-installs query, or pkg-installs
// on hosts without the pkgpersist extension): an install whose parent
// executable was not seen installing packages during the history window
// before the look-back is an alert.
package newterms

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/installargv"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// QueryIDs are the queries whose events the rules read, preferred first:
// pm-installs (the extension's events: the parent as it was at the exec,
// the exact argv) and pkg-installs (osquery's process_events, whose parent
// is missing when its exec was not captured too).
var QueryIDs = []string{"pm-installs", "pkg-installs"}

// Logged reads a query's logged rows (the store's LoggedRows).
type Logged interface {
	LoggedRows(ctx context.Context, queryID string, since time.Time) ([]store.LoggedEvent, error)
}

// Load reads the install events logged since a time, each host's from the
// first of QueryIDs it logged rows of: a host that runs both queries
// counts each install once.
func Load(ctx context.Context, l Logged, since time.Time) ([]store.LoggedEvent, error) {
	var out []store.LoggedEvent
	done := map[string]bool{}
	for _, id := range QueryIDs {
		evs, err := l.LoggedRows(ctx, id, since)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		these := map[string]bool{}
		for _, e := range evs {
			if !done[e.Host] {
				these[e.Host] = true
				out = append(out, e)
			}
		}
		for h := range these {
			done[h] = true
		}
	}
	return out, nil
}

// argv is the row's exact argv (pm-installs' JSON array), else its
// cmdline split on spaces, with the executable's path first.
func argv(row store.Row) []string {
	var exact []string
	args := installargv.Split(row["cmdline"])
	if err := json.Unmarshal([]byte(row["argv"]), &exact); err == nil && len(exact) > 0 {
		args = exact
	}
	if len(args) > 0 && row["path"] != "" {
		args[0] = row["path"]
	}
	return args
}

// Options are the rule's windows, as Elastic's rule sets them by default.
type Options struct {
	Now time.Time
	// Lookback is the window alerts come from (the rule's interval plus
	// its 4 minutes of look-back: 9m).
	Lookback time.Duration
	// History is the new-terms history window before the look-back (5d).
	History time.Duration
	// PerHost keeps a history per host; the published rule's is
	// fleet-wide.
	PerHost bool
	// MaxAlerts caps one run (the rule's max_signals, 100).
	MaxAlerts int
}

// Defaults are the published rule's settings.
var Defaults = Options{Lookback: 9 * time.Minute, History: 5 * 24 * time.Hour, MaxAlerts: 100}

// Rule is one of the two rules.
type Rule struct {
	ID, Name, Tool string
}

// Rules are the rpm rule and its dpkg twin.
var Rules = []Rule{
	{ID: "pkgpersist-rpm-unusual-parent", Name: "RPM Package Installed by Unusual Parent Process", Tool: "rpm"},
	{ID: "pkgpersist-dpkg-unusual-parent", Name: "DPKG Package Installed by Unusual Parent Process", Tool: "dpkg"},
}

// Attack is the rules' ATT&CK technique: Installer Packages.
var Attack = []string{"T1546.016"}

// eventTime is when the process started (process_events' time column),
// else when osqueryd logged it.
func eventTime(e store.LoggedEvent) time.Time {
	if n, err := strconv.ParseInt(e.Row["time"], 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0)
	}
	return e.Logged
}

// Detect returns the alerts of one run at o.Now over events, oldest
// first: per rule, the first install of each parent executable (per host
// with PerHost) in the look-back that no install in the history window
// had. Events whose argv is not an install of the rule's tool, or without
// a parent executable (the new term is missing), do not count.
func Detect(events []store.LoggedEvent, o Options) []store.Change {
	from := o.Now.Add(-o.Lookback)
	histFrom := from.Add(-o.History)
	type install struct {
		at   time.Time
		ev   store.LoggedEvent
		in   installargv.Install
		term string
	}
	var installs []install
	for _, e := range events {
		in, ok := installargv.Classify(argv(e.Row))
		parent := e.Row["parent_path"]
		if !ok || parent == "" {
			continue
		}
		term := in.Tool + "\x00" + parent
		if o.PerHost {
			term += "\x00" + e.Host
		}
		installs = append(installs, install{eventTime(e), e, in, term})
	}
	sort.SliceStable(installs, func(i, j int) bool { return installs[i].at.Before(installs[j].at) })
	seen := map[string]bool{}
	for _, i := range installs {
		if !i.at.Before(histFrom) && i.at.Before(from) {
			seen[i.term] = true
		}
	}
	var alerts []store.Change
	for _, i := range installs {
		if i.at.Before(from) || i.at.After(o.Now) || seen[i.term] {
			continue
		}
		if len(alerts) >= o.MaxAlerts {
			break
		}
		seen[i.term] = true
		rule := Rules[0]
		if i.in.Tool == "dpkg" {
			rule = Rules[1]
		}
		row := store.Row{}
		for k, v := range i.ev.Row {
			row[k] = v
		}
		row["install_form"] = i.in.Form
		row["published_rule_matches"] = strconv.FormatBool(i.in.Rule)
		alerts = append(alerts, store.Change{
			Host: i.ev.Host, QueryID: rule.ID, Kind: store.New, At: i.at, Row: row, RowHash: row.Hash(),
			Query: store.Query{ID: rule.ID, Title: rule.Name, Kind: "detection", Attack: Attack},
		})
	}
	return alerts
}
