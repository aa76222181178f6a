// Package newterms is Elastic's "RPM Package Installed by Unusual Parent
// Process" rule, and its dpkg, pacman and apk twins, as a new-terms detection over the
// install events osqueryd logged (the pm-installs query, or pkg-installs
// on hosts without the pkgpersist extension): an install whose parent
// executable was not seen installing packages during the history window
// before the look-back is an alert.
package newterms

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

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

// Rule is one of the rules, one per package manager.
type Rule struct {
	ID, Name, Tool string
}

// Rules are the rpm rule and its dpkg, pacman and apk twins: one per tool
// installargv classifies.
var Rules = []Rule{
	{ID: "pkgpersist-rpm-unusual-parent", Name: "RPM Package Installed by Unusual Parent Process", Tool: "rpm"},
	{ID: "pkgpersist-dpkg-unusual-parent", Name: "DPKG Package Installed by Unusual Parent Process", Tool: "dpkg"},
	{ID: "pkgpersist-pacman-unusual-parent", Name: "Pacman Package Installed by Unusual Parent Process", Tool: "pacman"},
	{ID: "pkgpersist-apk-unusual-parent", Name: "APK Package Installed by Unusual Parent Process", Tool: "apk"},
}

// ruleOf is the rule of a tool's installs.
func ruleOf(tool string) (Rule, bool) {
	for _, r := range Rules {
		if r.Tool == tool {
			return r, true
		}
	}
	return Rule{}, false
}

// Attack is the rules' ATT&CK technique: Installer Packages.
var Attack = []string{"T1546.016"}

// Detect returns the alerts of one run at o.Now over events, oldest
// first: per rule, the first install of each parent executable (per host
// with PerHost) in the look-back that no install in the history window
// had. Events whose argv is not an install of the rule's tool, or without
// a parent executable (the new term is missing), do not count. It reads
// events in memory: Find is the same over the store's install terms.
func Detect(events []store.LoggedEvent, o Options) []store.Change {
	from := o.Now.Add(-o.Lookback)
	histFrom := from.Add(-o.History)
	type install struct {
		at time.Time
		store.TermEvent
	}
	var installs []install
	for _, e := range events {
		if t, ok := store.TermOf(e.Row, e.Logged.Unix()); ok {
			installs = append(installs, install{time.Unix(t.At, 0), store.TermEvent{LoggedEvent: e, Term: t}})
		}
	}
	sort.SliceStable(installs, func(i, j int) bool { return installs[i].at.Before(installs[j].at) })
	seen := map[string]bool{}
	for _, i := range installs {
		if !i.at.Before(histFrom) && i.at.Before(from) {
			seen[termKey(i.TermEvent, o)] = true
		}
	}
	var news []store.TermEvent
	for _, i := range installs {
		if !i.at.Before(from) && !i.at.After(o.Now) {
			news = append(news, i.TermEvent)
		}
	}
	return alerts(news, seen, o)
}

// Store is what Find reads: the install terms the store keeps, or
// where it cannot keep them the events (store.DB).
type Store interface {
	Logged
	EnsureTerms(ctx context.Context, queryIDs ...string) error
	NewTermEvents(ctx context.Context, w store.TermWindows) ([]store.TermEvent, error)
}

// Found is what one run of Find found.
type Found struct {
	Alerts []store.Change
	// Read is how many installs in the look-back had a new term, or
	// with Fallback how many events were read.
	Read int
	// Fallback says why the install terms could not be kept (a database
	// opened read-only before they were): every event was read
	// instead, as Detect reads them.
	Fallback error
}

// Find returns the alerts of one run at o.Now, as Detect over the events
// Load reads, from the store's install terms: the database finds the
// installs in the look-back whose term the history lacks, and reads only
// their rows.
func Find(ctx context.Context, st Store, o Options) (Found, error) {
	from := o.Now.Add(-o.Lookback)
	histFrom := from.Add(-o.History)
	if err := st.EnsureTerms(ctx, QueryIDs...); err != nil {
		evs, lerr := Load(ctx, st, histFrom)
		return Found{Alerts: Detect(evs, o), Read: len(evs), Fallback: err}, lerr
	}
	evs, err := st.NewTermEvents(ctx, store.TermWindows{
		QueryIDs: QueryIDs, Since: histFrom.Unix(),
		// whole seconds: an event at second t is before a time x when
		// t < x, that is t < ceil(x)
		HistFrom: ceilUnix(histFrom), From: ceilUnix(from), Now: o.Now.Unix(),
		PerHost: o.PerHost,
	})
	if err != nil {
		return Found{}, err
	}
	return Found{Alerts: alerts(evs, map[string]bool{}, o), Read: len(evs)}, nil
}

func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// termKey is an install's new term: the tool and the parent executable,
// and the host with PerHost.
func termKey(e store.TermEvent, o Options) string {
	k := e.Term.Install.Tool + "\x00" + e.Term.Parent
	if o.PerHost {
		k += "\x00" + e.Host
	}
	return k
}

// alerts are the first install of each term in news (the look-back's,
// by time) that seen lacks, at most o.MaxAlerts.
func alerts(news []store.TermEvent, seen map[string]bool, o Options) []store.Change {
	var out []store.Change
	for _, e := range news {
		k := termKey(e, o)
		rule, known := ruleOf(e.Term.Install.Tool)
		if seen[k] || !known {
			continue
		}
		if len(out) >= o.MaxAlerts {
			break
		}
		seen[k] = true
		row := store.Row{}
		for k, v := range e.Row {
			row[k] = v
		}
		row["install_form"] = e.Term.Install.Form
		row["published_rule_matches"] = strconv.FormatBool(e.Term.Install.Rule)
		out = append(out, store.Change{
			Host: e.Host, QueryID: rule.ID, Kind: store.New, At: time.Unix(e.Term.At, 0), Row: row, RowHash: row.Hash(),
			Query: store.Query{ID: rule.ID, Title: rule.Name, Kind: "detection", Attack: Attack},
		})
	}
	return out
}
