// Package watch runs the extension's event queries over a capture in this
// process and logs their rows as osqueryd logs scheduled results (the
// packs' names, action "added"), so that what reads osqueryd's results
// (report stacks, report new-terms) reads them unchanged.
//
// A query over an evented ring sees, each run, only the events added
// since the previous run (a window of eids, as osqueryd's evented tables
// keep a cursor per query): no event is logged twice and none is skipped.
// Events the ring pushed out before a run read them are a loss, logged as
// a row of the query over pm_event_status with its error saying which
// eids, never silent. A query over a table that is not a ring
// (pm_event_status) logs, as differential packs do, the rows that were
// not in its previous run.
package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/packs"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/extension/tables/pmeventstatus"
	"github.com/pkgpersist/pkgpersist/extension/tables/pmfileevents"
	"github.com/pkgpersist/pkgpersist/extension/tables/pmprocessevents"
)

// Watcher runs the event queries; its methods are not safe for
// concurrent use.
type Watcher struct {
	eng     *engine.Engine
	queries []*watched
	// windows are the rings' cursors, by table name
	windows map[string]*window
	// status is the query over pm_event_status, nil when none is watched
	status *watched
	// read are the tables the running query read
	read  map[string]bool
	epoch int64
	now   func() time.Time
}

// watched is one query and what it logged.
type watched struct {
	q    *querydef.Query
	name string // as osqueryd logs it
	// windowed: it reads a ring, each run only the events since the last
	windowed bool
	// prev are the row hashes of the previous run (not windowed)
	prev    map[string]bool
	columns []string
	counter int64
}

// window is the eids a run of the queries reads from one ring: (lo, hi].
type window struct {
	ring   *events.Ring
	lo, hi int64
	// first is the lowest eid the ring still had in the window when a
	// query read it (hi+1 when none): below it, events were pushed out
	// unread
	first int64
}

// Loss is a run of events a ring pushed out before the queries read them.
type Loss struct {
	Source   string
	From, To int64 // eids, inclusive
}

func (l Loss) String() string {
	return fmt.Sprintf("%d %s events (eid %d to %d) were pushed out of the ring before they were read: raise --events-max or shorten --interval", l.To-l.From+1, l.Source, l.From, l.To)
}

// New prepares the queries of qs that run on the extension's evented
// tables (kind event, reading a pkgpersist table) over src. epoch is
// logged with every row, as osqueryd logs its configured epoch; a
// watcher's counters start again with each epoch.
func New(src *events.Sources, qs []*querydef.Query, epoch int64) (*Watcher, error) {
	w := &Watcher{windows: map[string]*window{}, read: map[string]bool{}, epoch: epoch, now: time.Now}
	rings := map[string]*events.Ring{pmprocessevents.Name: src.Process, pmfileevents.Name: src.File}
	ext := registry.WithEvents(src)
	tabs := make([]*table.Table, len(ext))
	for i, t := range ext {
		tabs[i] = t
		if t.Evented {
			tabs[i] = w.wrap(t, rings[t.Name])
		}
	}
	e, err := engine.New(tabs, "", engine.Capturing())
	if err != nil {
		return nil, err
	}
	w.eng = e
	for _, q := range qs {
		if q.Kind != "event" || !packs.NeedsExtension(q, ext) {
			continue
		}
		// a first run says what the query reads: its windows are empty
		// (lo = hi = 0) so it logs nothing yet
		clear(w.read)
		res, err := e.Query(context.Background(), q.SQL)
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("%s: %w", q.ID, err)
		}
		wq := &watched{q: q, name: packs.LoggedName(q, ext), prev: map[string]bool{}, columns: res.Columns}
		for name := range w.windows {
			wq.windowed = wq.windowed || w.read[name]
		}
		if !wq.windowed && w.read[pmeventstatus.Name] {
			w.status = wq
		}
		w.queries = append(w.queries, wq)
	}
	if len(w.queries) == 0 {
		e.Close()
		return nil, errors.New("no event query reads the extension's tables")
	}
	return w, nil
}

// Close releases the engine.
func (w *Watcher) Close() error { return w.eng.Close() }

// Queries are the ids of the queries watched.
func (w *Watcher) Queries() []string {
	var ids []string
	for _, q := range w.queries {
		ids = append(ids, q.q.ID)
	}
	return ids
}

// wrap returns t recording that a query read it, answering from ring's
// current window when it is a ring's table (nil: it is not).
func (w *Watcher) wrap(t *table.Table, ring *events.Ring) *table.Table {
	c := *t
	gen := t.Generate
	if ring == nil {
		c.Generate = func(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
			w.read[t.Name] = true
			return gen(ctx, q)
		}
		return &c
	}
	win := &window{ring: ring}
	w.windows[t.Name] = win
	c.Generate = func(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
		w.read[t.Name] = true
		own := len(q.Constraints["eid"]) > 0 || len(q.Constraints["time"]) > 0
		cs := make(map[string][]table.Constraint, len(q.Constraints)+1)
		for k, v := range q.Constraints {
			cs[k] = slices.Clone(v)
		}
		// (lo, hi] only: a row past hi, returned, would count as read
		// (events.Status.EvictedUnread) before this watcher logs it
		cs["eid"] = append(cs["eid"], table.Constraint{Op: table.GreaterThan, Expr: strconv.FormatInt(win.lo, 10)},
			table.Constraint{Op: table.LessThanOrEquals, Expr: strconv.FormatInt(win.hi, 10)})
		rows, err := gen(ctx, table.QueryContext{Constraints: cs})
		if err != nil {
			return nil, err
		}
		first := win.hi + 1
		out := rows[:0]
		for _, r := range rows {
			eid, _ := strconv.ParseInt(r["eid"], 10, 64)
			if eid > win.hi {
				continue
			}
			first = min(first, eid)
			out = append(out, r)
		}
		// a query's own eid or time constraint leaves rows out on
		// purpose: only an unconstrained read shows what was pushed out
		if !own {
			win.first = max(win.first, first)
		}
		return out, nil
	}
	return &c
}

// Run runs every query once over the events added since the previous
// Run, and returns the rows to log and what was lost.
func (w *Watcher) Run(ctx context.Context) ([]store.Logged, []Loss, error) {
	for _, win := range w.windows {
		// eids are 1, 2, ...: the newest is the count ever added
		win.hi, win.first = win.ring.Status().Events, 0
	}
	now := w.now().Unix()
	var out []store.Logged
	for _, q := range w.queries {
		res, err := w.eng.Query(ctx, q.q.SQL)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", q.q.ID, err)
		}
		rows := make([]store.Row, len(res.Rows))
		for i, r := range res.Rows {
			rows[i] = store.Row{}
			for j, col := range res.Columns {
				rows[i][col] = r[j]
			}
		}
		out = append(out, q.log(rows, now, w.epoch)...)
	}
	var lost []Loss
	for _, win := range w.windows {
		if win.first > win.lo+1 {
			l := Loss{Source: win.ring.Source(), From: win.lo + 1, To: win.first - 1}
			lost = append(lost, l)
			if w.status != nil {
				// the status query logs the source's new counters
				// (evicted_unread) too: the loss row, which names the
				// eids, replaces its row
				out = slices.DeleteFunc(out, func(r store.Logged) bool {
					return r.Name == w.status.name && r.Row["source"] == l.Source
				})
				out = append(out, w.status.lossRow(win.ring.Status(), l, now, w.epoch))
			}
		}
		win.lo = win.hi
	}
	return out, lost, nil
}

// log turns a run's rows into logged results: all of them for a windowed
// query, the ones not in the previous run otherwise.
func (q *watched) log(rows []store.Row, now, epoch int64) []store.Logged {
	var out []store.Logged
	seen := map[string]bool{}
	for _, r := range rows {
		h := r.Hash()
		seen[h] = true
		if q.windowed || !q.prev[h] {
			out = append(out, store.Logged{Name: q.name, Action: "added", UnixTime: now, Epoch: epoch, Counter: q.counter, Row: r})
		}
	}
	if !q.windowed {
		q.prev = seen
	}
	q.counter++
	return out
}

// lossRow is a row of the status query (its columns, from
// pm_event_status) for source's ring now, its error saying what was lost.
func (q *watched) lossRow(s events.Status, l Loss, now, epoch int64) store.Logged {
	all := pmeventstatus.Row(s)
	all["error"] = "pkgpersist watch: " + l.String()
	r := store.Row{}
	for _, c := range q.columns {
		r[c] = all[c]
	}
	return store.Logged{Name: q.name, Action: "added", UnixTime: now, Epoch: epoch, Counter: q.counter, Row: r}
}

// resultLine is a logged row as osqueryd's filesystem logger writes it
// (event format), which pkgpersist ingest reads.
type resultLine struct {
	Name           string            `json:"name"`
	HostIdentifier string            `json:"hostIdentifier"`
	CalendarTime   string            `json:"calendarTime"`
	UnixTime       int64             `json:"unixTime"`
	Epoch          int64             `json:"epoch"`
	Counter        int64             `json:"counter"`
	Numerics       bool              `json:"numerics"`
	Columns        map[string]string `json:"columns"`
	Action         string            `json:"action"`
}

// WriteLines writes rows as host's result log lines, one JSON object a
// line.
func WriteLines(out io.Writer, host string, rows []store.Logged) error {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for _, l := range rows {
		line := resultLine{Name: l.Name, HostIdentifier: host, UnixTime: l.UnixTime, Epoch: l.Epoch, Counter: l.Counter,
			CalendarTime: time.Unix(l.UnixTime, 0).UTC().Format("Mon Jan _2 15:04:05 2006 UTC"), Columns: l.Row, Action: l.Action}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}
