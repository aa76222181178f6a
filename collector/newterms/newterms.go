// Package newterms is Elastic's "RPM Package Installed by Unusual Parent
// Process" rule, and its dpkg twin, as a new-terms detection over the
// install events osqueryd logged (the pkg-installs query): an install
// whose parent executable was not seen installing packages during the
// history window before the look-back is an alert.
package newterms

import (
	"sort"
	"strconv"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/installargv"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// QueryID is the query whose events the rules read.
const QueryID = "pkg-installs"

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
		argv := installargv.Split(e.Row["cmdline"])
		if len(argv) > 0 && e.Row["path"] != "" {
			argv[0] = e.Row["path"]
		}
		in, ok := installargv.Classify(argv)
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
