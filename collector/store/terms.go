package store

import (
	"context"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/installargv"
)

// Term is what a logged process row gives the new-terms rules: the rpm,
// dpkg, pacman or apk install it is, its parent executable (the new term) and when the
// process started.
type Term struct {
	Install installargv.Install
	Parent  string
	At      int64 // unix seconds
}

// TermOf classifies a logged row, logged (unix seconds) when osqueryd
// logged it: ok is false unless it is an install with a parent
// executable. The time is the row's time column (process_events': when
// the process started), else when it was logged.
func TermOf(r Row, logged int64) (t Term, ok bool) {
	t.Install, ok = installargv.Classify(installargv.Args(r["argv"], r["cmdline"], r["path"]))
	t.Parent = r["parent_path"]
	if !ok || t.Parent == "" {
		return Term{}, false
	}
	t.At = logged
	if n, err := strconv.ParseInt(r["time"], 10, 64); err == nil && n > 0 {
		t.At = n
	}
	return t, true
}

// TermWindows are one new-terms evaluation, in unix seconds: the rows
// logged since Since count; the history is [HistFrom, From), the
// look-back [From, Now].
type TermWindows struct {
	// QueryIDs are read preferred first: a host's rows come from the
	// first of them it logged rows of since Since. Each must be
	// registered (EnsureTerms).
	QueryIDs                   []string
	Since, HistFrom, From, Now int64
	// PerHost: the term is the tool, the parent and the host.
	PerHost bool
}

// TermEvent is a logged install with its term.
type TermEvent struct {
	LoggedEvent
	Term Term
}

// NewTermEvents returns the installs in the look-back whose term no
// install in the history has, by time (ties: by query, logged time, host
// name, row hash). The same term may come more than once: the caller
// alerts on its first.
func (s *DB) NewTermEvents(ctx context.Context, w TermWindows) ([]TermEvent, error) {
	var args []any
	// counts is the condition that term row t counts: its query is the
	// first its host logged since Since
	counts := func(t string, pos int) string {
		args = append(args, w.QueryIDs[pos])
		cond := t + ".query_id = ?"
		if pos > 0 {
			cond += " AND " + t + ".host_id NOT IN (SELECT host_id FROM scheduled_results WHERE query_id IN (?" + strings.Repeat(", ?", pos-1) + ") AND action IN " + loggedActions + " AND unix_time >= ?)"
			for _, q := range w.QueryIDs[:pos] {
				args = append(args, q)
			}
			args = append(args, w.Since)
		}
		return cond
	}
	var branches []string
	for pos := range w.QueryIDs {
		c := counts("t", pos)
		branches = append(branches, `SELECT t.host_id, t.name, t.unix_time, t.epoch, t.counter, t.action, t.hash, t.at, t.tool, t.parent, `+strconv.Itoa(pos)+` AS qpos
			FROM install_terms t WHERE `+c+` AND t.unix_time >= ? AND t.at BETWEEN ? AND ?`)
		args = append(args, w.Since, w.From, w.Now)
	}
	sameHost := ""
	if w.PerHost {
		sameHost = " AND p.host_id = c.host_id"
	}
	var seen []string
	for pos := range w.QueryIDs {
		seen = append(seen, "("+counts("p", pos)+")")
	}
	args = append(args, w.HistFrom, w.From, w.Since)
	rs, err := s.db.QueryContext(ctx, `SELECT h.name, c.unix_time, r.row
		FROM (`+strings.Join(branches, " UNION ALL ")+`) c
		JOIN hosts h ON h.id = c.host_id
		JOIN scheduled_results r ON r.host_id = c.host_id AND r.name = c.name AND r.unix_time = c.unix_time
			AND r.epoch = c.epoch AND r.counter = c.counter AND r.action = c.action AND r.hash = c.hash
		WHERE NOT EXISTS (SELECT 1 FROM install_terms p WHERE p.tool = c.tool AND p.parent = c.parent`+sameHost+`
			AND (`+strings.Join(seen, " OR ")+`) AND p.at >= ? AND p.at < ? AND p.unix_time >= ?)
		ORDER BY c.at, c.qpos, c.unix_time, h.name, c.hash`, args...)
	if err != nil {
		return nil, err
	}
	evs, err := loggedEvents(rs)
	out := make([]TermEvent, len(evs))
	for i, e := range evs {
		// classified again, from the row as stored (and as the oracle
		// reads it)
		out[i].LoggedEvent = e
		out[i].Term, _ = TermOf(e.Row, e.Logged.Unix())
	}
	return out, err
}
