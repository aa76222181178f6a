package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Findings returns each host's current rows of the queries of kind (and,
// of what hosts log, of the queries ids: a store that only received logs
// has no query stored to say its kind), each
// with when it was first seen on its host (Change.First): the rows of its
// latest successful hunt of each query (RunID its run) and what it
// currently logs of them (RunID 0, loggedCurrentSQL). A row both hunted
// and logged is one finding, first seen at the earlier, last at the later.
// Query.SQL is left empty: the report does not show it, and each row
// would carry a copy.
func (s *DB) Findings(ctx context.Context, kind string, ids ...string) ([]Change, error) {
	hunted, err := s.scanChanges(ctx, true, currentSQL("''", ", fr.started", " JOIN runs fr ON fr.id = r.first_run", "q.kind = ?"), kind)
	if err != nil {
		return nil, err
	}
	of, args := loggedOf(kind, ids)
	logged, err := s.scanChanges(ctx, true, loggedCurrentSQL(of), append(args, args...)...)
	if err != nil {
		return nil, fmt.Errorf("logged: %w", err)
	}
	type key struct{ host, query, hash string }
	at := make(map[key]int, len(hunted))
	for i, c := range hunted {
		at[key{c.Host, c.QueryID, c.RowHash}] = i
	}
	out := hunted
	for _, c := range logged {
		i, ok := at[key{c.Host, c.QueryID, c.RowHash}]
		if !ok {
			out = append(out, c)
			continue
		}
		h := &out[i]
		if c.First.Before(h.First) {
			h.First = c.First
		}
		if c.At.After(h.At) {
			h.At, h.RunID = c.At, 0
		}
	}
	slices.SortStableFunc(out, func(a, b Change) int {
		return cmp.Or(strings.Compare(a.Host, b.Host), strings.Compare(a.QueryID, b.QueryID), strings.Compare(a.RowHash, b.RowHash))
	})
	return out, nil
}

// loggedOf is the condition on scheduled_results l (joined to queries lq)
// that its row is of a query of kind or one of ids, and its arguments.
func loggedOf(kind string, ids []string) (string, []any) {
	args := []any{kind}
	cond := "(lq.kind = ?"
	if len(ids) > 0 {
		cond += " OR l.query_id IN (?" + strings.Repeat(", ?", len(ids)-1) + ")"
		for _, id := range ids {
			args = append(args, id)
		}
	}
	return cond + ")", args
}

// loggedCurrentSQL selects, as scanChanges reads them with first, the rows
// of the queries that meet of (loggedOf, whose arguments it takes twice)
// that each host currently logs: of a differential query, the rows
// logged added more often than removed; of a snapshot query, the rows of
// its latest snapshot. First is when the row was first logged, At when
// it was last logged (added or in a snapshot); the query's sql is left
// out (the report does not show it).
func loggedCurrentSQL(of string) string {
	return `SELECT 'current', 0, c.last * 1000000000, h.name, h.hostname, h.root, c.query_id, c.hash, c.row,
		coalesce(q.title, ''), coalesce(q.kind, ''), coalesce(q.attack, ''), '', c.first * 1000000000
	FROM (SELECT l.host_id, l.query_id, l.hash, max(l.row) AS row,
			min(CASE WHEN l.action <> 'removed' THEN l.unix_time END) AS first,
			max(CASE WHEN l.action <> 'removed' THEN l.unix_time END) AS last,
			sum(CASE l.action WHEN 'added' THEN 1 WHEN 'removed' THEN -1 ELSE 0 END) AS net,
			max(CASE WHEN l.action = 'snapshot' THEN l.unix_time END) AS snap
		FROM scheduled_results l LEFT JOIN queries lq ON lq.id = l.query_id
		WHERE ` + of + ` AND l.action IN ('added', 'removed', 'snapshot')
		GROUP BY l.host_id, l.query_id, l.hash) c
	JOIN hosts h ON h.id = c.host_id
	LEFT JOIN queries q ON q.id = c.query_id
	LEFT JOIN (SELECT l.host_id, l.query_id, max(l.unix_time) AS at
		FROM scheduled_results l LEFT JOIN queries lq ON lq.id = l.query_id
		WHERE ` + of + ` AND l.action = 'snapshot'
		GROUP BY l.host_id, l.query_id) s ON s.host_id = c.host_id AND s.query_id = c.query_id
	WHERE c.net > 0 OR c.snap = s.at`
}

// HostState is a host's latest hunt: when it ran, how it ended, and how
// many files its queries could not read or evaluate in full.
type HostState struct {
	Host     string
	Run      int64     // 0: never hunted (an enrolled host that only logged)
	Started  time.Time // the run's start
	State    string    // StateOK, StateIncomplete, StateFailed; "" for runs stored before states were
	Err      string
	Reasons  []string
	Problems int
	Logged   time.Time // when it last logged a scheduled query's rows (zero: never)
	Enrolled bool      // an osqueryd host enrolled over the TLS API
}

// hostStatesSQL selects what HostStates reads: per host, its latest run
// (host_runs_host), that run's problems (problems_run) and its latest
// logged row (scheduled_results_host_time), each an index search: the
// page reads it on each load, and runs, problems and logged rows grow
// with every hunt and every hour.
const hostStatesSQL = `SELECT h.name, coalesce(hr.run_id, 0), coalesce(ru.started, 0), coalesce(hr.state, ''), coalesce(hr.error, ''),
			coalesce(hr.reasons, '[]'),
			CASE WHEN hr.run_id IS NULL THEN 0 ELSE (SELECT count(*) FROM problems p WHERE p.run_id = hr.run_id AND p.host_id = hr.host_id) END,
			coalesce((SELECT max(l.unix_time) FROM scheduled_results l WHERE l.host_id = h.id), 0),
			CASE WHEN EXISTS (SELECT 1 FROM nodes n WHERE n.host_id = h.id) THEN 1 ELSE 0 END
		FROM hosts h
		LEFT JOIN host_runs hr ON hr.host_id = h.id AND hr.run_id = (SELECT max(x.run_id) FROM host_runs x WHERE x.host_id = h.id)
		LEFT JOIN runs ru ON ru.id = hr.run_id
		ORDER BY h.name`

// HostStates returns every host with its latest hunt and when it last
// logged, by name.
func (s *DB) HostStates(ctx context.Context) ([]HostState, error) {
	rs, err := s.db.QueryContext(ctx, hostStatesSQL)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []HostState
	for rs.Next() {
		var h HostState
		var started int64
		var reasons string
		var logged int64
		if err := rs.Scan(&h.Host, &h.Run, &started, &h.State, &h.Err, &reasons, &h.Problems, &logged, &h.Enrolled); err != nil {
			return nil, err
		}
		if logged != 0 {
			h.Logged = time.Unix(logged, 0)
		}
		if h.Run != 0 {
			h.Started = time.Unix(0, started)
		}
		if err := json.Unmarshal([]byte(reasons), &h.Reasons); err != nil {
			return nil, fmt.Errorf("stored reasons of %s: %w", h.Host, err)
		}
		out = append(out, h)
	}
	return out, rs.Err()
}

// DayCount is a number of rows on one UTC day.
type DayCount struct {
	Day   time.Time // midnight UTC
	Count int
}

// FirstSeenPerDay counts the rows of queries of kind (logged ones: or of
// ids, as Findings) by the UTC day they
// were first seen on their host: by the run that first saw them, and by
// when a host first logged them. What was new each day, gone rows
// included; a row both hunted and logged on a host counts twice.
func (s *DB) FirstSeenPerDay(ctx context.Context, kind string, ids ...string) ([]DayCount, error) {
	const day = int64(24 * time.Hour)
	of, args := loggedOf(kind, ids)
	rs, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT d, sum(n) FROM (
		SELECT ru.started / %d AS d, count(*) AS n FROM results r
			JOIN runs ru ON ru.id = r.first_run
			JOIN queries q ON q.id = r.query_id
			WHERE q.kind = ? GROUP BY ru.started / %[1]d
		UNION ALL
		SELECT f.first / %d, count(*) FROM (SELECT min(l.unix_time) AS first FROM scheduled_results l
			LEFT JOIN queries lq ON lq.id = l.query_id
			WHERE `+of+` AND l.action IN `+loggedActions+` GROUP BY l.host_id, l.query_id, l.hash) f
			GROUP BY f.first / %[2]d) days
		GROUP BY d ORDER BY d`, day, daySeconds), append([]any{kind}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []DayCount
	for rs.Next() {
		var d int64
		var c DayCount
		if err := rs.Scan(&d, &c.Count); err != nil {
			return nil, err
		}
		c.Day = time.Unix(0, d*day).UTC()
		out = append(out, c)
	}
	return out, rs.Err()
}
