// Package webreport is the store as one self-contained HTML page: each
// host's latest hunt, the findings by detection with their triage state
// and provenance, new findings per day as an SVG chart, and the hunt's
// two stacks. pkgpersist report html writes it to a file; serve shows it
// at /ui/. The page loads nothing: styles and the small sorting script
// are inline under a nonce, the chart is SVG drawn here, and its
// Content-Security-Policy forbids every fetch. Every value a host sent is
// text to html/template, which escapes it for where it stands.
package webreport

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/stacks"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/collector/triage"
)

// Store is what the page reads.
type Store interface {
	HostStates(ctx context.Context) ([]store.HostState, error)
	Findings(ctx context.Context, kind string, ids ...string) ([]store.Change, error)
	FirstSeenPerDay(ctx context.Context, kind string, ids ...string) ([]store.DayCount, error)
	triage.Store
	stacks.Store
}

// Options shape the page.
type Options struct {
	// DB names the store in the page's heading (store.Describe: no
	// password).
	DB string
	// Queries are the detections' definitions (title, severity, next
	// step); a detection the store knows and these do not is shown with
	// what the store keeps of it.
	Queries []*querydef.Query
	// Now is the time the page is made at (zero: time.Now).
	Now time.Time
	// StacksSince is the stacks' window before Now.
	StacksSince time.Duration
	Stacks      stacks.Options
	// MaxHosts and MaxFindings bound the rows shown inline; the page
	// says how many more there are and where to read them.
	MaxHosts, MaxFindings int
	// Days bounds the chart: the last Days days with new findings.
	Days int
}

// Defaults are the page's bounds: the page of 10,000 hosts and 100,000
// findings is then 1 MB, which headless Chromium loads in a few seconds
// on a small machine (make bench: BenchmarkChromiumLoad); twice the rows
// took about twice as long.
func Defaults() Options {
	return Options{StacksSince: 30 * 24 * time.Hour, Stacks: stacks.Defaults, MaxHosts: 1000, MaxFindings: 1000, Days: 120}
}

// Page is what the template shows.
type Page struct {
	Generated string
	DB        string

	Hosts       []HostView
	HostsHidden int
	HostCount   int
	States      []StateCount

	Detections    []DetectionView
	Findings      []FindingView
	FindingsTotal int // distinct findings (a row of a detection, on any number of hosts)
	HostRows      int // findings counted per host
	Hidden        int // distinct findings not shown
	Triaged       int // host findings a triage decision covers

	// the commands that write the page with every host, every finding
	HostsCommand, FindingsCommand string

	Chart Chart

	Stacks     stacks.Result
	StacksNote string
}

// HostView is a host's row.
type HostView struct {
	Name, LastHunt, LastLogged, State string
	Reasons                           []string
	Problems, Findings, Triaged       int
}

// StateCount is how many hosts ended a hunt in a state.
type StateCount struct {
	State string
	Count int
}

// DetectionView is a detection with its findings counted.
type DetectionView struct {
	ID, Title, Severity, Attack, Next  string
	Findings, HostRows, Hosts, Triaged int
	FirstSeen, LastSeen                string
}

// FindingView is one distinct row of a detection over every host that
// returned it.
type FindingView struct {
	Detection, Severity         string
	Values                      []Field // the row's columns other than the provenance ones
	File, Line, Package, SHA256 string
	Hosts                       int
	HostList                    string // the first hosts, by name
	FirstSeen, LastSeen         string
	Triage                      string // "" untriaged
}

// Field is a column and its value.
type Field struct{ Name, Value string }

// provenance are the columns shown in their own cells.
var provenance = []string{"path", "line", "package", "sha256"}

const timeLayout = "2006-01-02 15:04Z"

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// Load reads the page from the store.
func Load(ctx context.Context, st Store, o Options) (*Page, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	p := &Page{Generated: stamp(o.Now), DB: o.DB}
	hosts, err := st.HostStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	// the detections by their definitions too: a store that only
	// received logs has no query stored
	var detections []string
	for _, q := range o.Queries {
		if q.Kind == "detection" {
			detections = append(detections, q.ID)
		}
	}
	findings, err := st.Findings(ctx, "detection", detections...)
	if err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	decisions, err := triage.Load(ctx, st)
	if err != nil {
		return nil, err
	}
	days, err := st.FirstSeenPerDay(ctx, "detection", detections...)
	if err != nil {
		return nil, fmt.Errorf("findings per day: %w", err)
	}
	p.Stacks, err = stacks.Compute(ctx, st, o.Stacks, o.Now.Add(-o.StacksSince), o.Now)
	if err != nil {
		return nil, fmt.Errorf("stacks: %w", err)
	}
	if p.Stacks.Unprepared != nil {
		p.StacksNote = fmt.Sprintf("rollups not kept in the store (%v): every event was grouped", p.Stacks.Unprepared)
	}
	covered := make([]string, len(findings)) // each host finding's decision ("" none)
	for i, f := range findings {
		if d, ok := decisions.Cover(f, o.Now); ok {
			covered[i] = d.Mark()
		}
	}
	p.hosts(hosts, findings, covered, o.MaxHosts)
	p.findings(findings, covered, o)
	p.HostsCommand, p.FindingsCommand = command(o.DB, "--max-hosts", p.HostCount), command(o.DB, "--max-findings", p.FindingsTotal)
	p.Chart = chart(days, o.Days)
	return p, nil
}

// stateOrder puts the hosts that need a look first.
var stateOrder = map[string]int{store.StateFailed: 0, store.StateIncomplete: 1, "unknown": 2, store.StateOK: 3, stateLogging: 4, stateEnrolled: 5, stateNever: 6}

// The states of a host never hunted: it logs the pack's queries (an
// osqueryd host enrolled over the TLS API, or whose results were
// ingested), it is enrolled but has logged nothing yet, or neither.
const (
	stateLogging  = "logging"
	stateEnrolled = "enrolled"
	stateNever    = "never hunted"
)

func (p *Page) hosts(hs []store.HostState, fs []store.Change, covered []string, limit int) {
	found, triaged := map[string]int{}, map[string]int{}
	for i, f := range fs {
		found[f.Host]++
		if covered[i] != "" {
			triaged[f.Host]++
		}
	}
	states := map[string]int{}
	views := make([]HostView, len(hs))
	for i, h := range hs {
		state := h.State
		switch {
		case h.Run == 0 && !h.Logged.IsZero():
			state = stateLogging
		case h.Run == 0 && h.Enrolled:
			state = stateEnrolled
		case h.Run == 0:
			state = stateNever
		case state == "":
			state = "unknown"
		}
		states[state]++
		reasons := h.Reasons
		if h.Err != "" && !slices.Contains(reasons, h.Err) {
			reasons = append([]string{h.Err}, reasons...)
		}
		views[i] = HostView{Name: h.Host, LastHunt: stamp(h.Started), LastLogged: stamp(h.Logged), State: state, Reasons: reasons,
			Problems: h.Problems, Findings: found[h.Host], Triaged: triaged[h.Host]}
	}
	// failed and incomplete hosts first, then the most untriaged findings
	slices.SortStableFunc(views, func(a, b HostView) int {
		return cmp.Or(cmp.Compare(min(stateOrder[a.State], 2), min(stateOrder[b.State], 2)), cmp.Compare(b.Findings-b.Triaged, a.Findings-a.Triaged),
			cmp.Compare(stateOrder[a.State], stateOrder[b.State]), strings.Compare(a.Name, b.Name))
	})
	for _, s := range []string{store.StateOK, store.StateIncomplete, store.StateFailed, "unknown", stateLogging, stateEnrolled, stateNever} {
		if states[s] > 0 || s == store.StateOK || s == store.StateIncomplete || s == store.StateFailed {
			p.States = append(p.States, StateCount{s, states[s]})
		}
	}
	p.HostCount = len(views)
	if len(views) > limit {
		p.HostsHidden = len(views) - limit
		views = views[:limit]
	}
	p.Hosts = views
}

var severityOrder = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3}

func (p *Page) findings(fs []store.Change, covered []string, o Options) {
	defs := map[string]*querydef.Query{}
	for _, q := range o.Queries {
		defs[q.ID] = q
	}
	type group struct {
		view         FindingView
		first, last  time.Time
		names        []string
		triaged      int
		mark         string
		severity, id string
	}
	type detection struct {
		view        DetectionView
		hosts       map[string]bool
		first, last time.Time
	}
	dets := map[string]*detection{}
	detection1 := func(c store.Change) *detection {
		d := dets[c.QueryID]
		if d == nil {
			q := defs[c.QueryID]
			if q == nil {
				q = &querydef.Query{ID: c.QueryID, Title: c.Query.Title, Attack: c.Query.Attack}
			}
			d = &detection{view: DetectionView{ID: q.ID, Title: q.Title, Severity: q.Severity, Attack: strings.Join(q.Attack, ", "), Next: q.Next}, hosts: map[string]bool{}}
			dets[c.QueryID] = d
		}
		return d
	}
	for _, q := range o.Queries {
		if q.Kind == "detection" {
			detection1(store.Change{QueryID: q.ID})
		}
	}
	groups := map[[2]string]*group{}
	var order []*group
	for i, f := range fs {
		d := detection1(f)
		d.view.HostRows++
		d.hosts[f.Host] = true
		d.first, d.last = earliest(d.first, f.First), latest(d.last, f.At)
		k := [2]string{f.QueryID, f.RowHash}
		g := groups[k]
		if g == nil {
			g = &group{view: fieldsOf(f.Row), severity: d.view.Severity, id: f.QueryID}
			g.view.Detection, g.view.Severity = f.QueryID, d.view.Severity
			groups[k] = g
			order = append(order, g)
			d.view.Findings++
		}
		g.names = append(g.names, f.Host)
		g.first, g.last = earliest(g.first, f.First), latest(g.last, f.At)
		if covered[i] != "" {
			g.triaged++
			g.mark = covered[i]
			d.view.Triaged++
			p.Triaged++
		}
	}
	for _, d := range dets {
		d.view.Hosts = len(d.hosts)
		d.view.FirstSeen, d.view.LastSeen = stamp(d.first), stamp(d.last)
		p.Detections = append(p.Detections, d.view)
	}
	slices.SortFunc(p.Detections, func(a, b DetectionView) int {
		return cmp.Or(cmp.Compare(b.HostRows-b.Triaged, a.HostRows-a.Triaged), cmp.Compare(sev(a.Severity), sev(b.Severity)), strings.Compare(a.ID, b.ID))
	})
	// those not triaged on every host first, the most hosts left to
	// triage first, then the most severe, then the newest
	fully := func(g *group) int {
		if g.triaged == len(g.names) {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(order, func(a, b *group) int {
		return cmp.Or(cmp.Compare(fully(a), fully(b)), cmp.Compare(len(b.names)-b.triaged, len(a.names)-a.triaged),
			cmp.Compare(sev(a.severity), sev(b.severity)), b.first.Compare(a.first), strings.Compare(a.id, b.id))
	})
	p.FindingsTotal, p.HostRows = len(order), len(fs)
	if len(order) > o.MaxFindings {
		p.Hidden = len(order) - o.MaxFindings
		order = order[:o.MaxFindings]
	}
	for _, g := range order {
		v := g.view
		v.Hosts = len(g.names)
		slices.Sort(g.names)
		v.HostList = strings.Join(g.names[:min(len(g.names), 5)], ", ")
		if len(g.names) > 5 {
			v.HostList += fmt.Sprintf(" and %d more", len(g.names)-5)
		}
		v.FirstSeen, v.LastSeen = stamp(g.first), stamp(g.last)
		switch {
		case g.triaged == len(g.names):
			v.Triage = g.mark
		case g.triaged > 0:
			v.Triage = fmt.Sprintf("on %d of %d hosts: %s", g.triaged, len(g.names), g.mark)
		}
		p.Findings = append(p.Findings, v)
	}
}

// command is pkgpersist report html on db with flag n: the page with
// the rows a bound left out (a PostgreSQL URL as the page names it,
// without its password).
func command(db, flag string, n int) string {
	return fmt.Sprintf("pkgpersist report html --db %s %s %d", shellQuote(db), flag, n)
}

// shellQuote quotes s for a POSIX shell where it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func sev(s string) int {
	if n, ok := severityOrder[s]; ok {
		return n
	}
	return len(severityOrder)
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// fieldsOf splits a row into its provenance and its other columns.
func fieldsOf(r store.Row) FindingView {
	v := FindingView{File: r["path"], Line: r["line"], Package: r["package"], SHA256: r["sha256"]}
	for k, val := range r {
		if !slices.Contains(provenance, k) {
			v.Values = append(v.Values, Field{k, val})
		}
	}
	slices.SortFunc(v.Values, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	return v
}
