package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Findings returns the rows of each host's latest successful run of each
// query of kind (a detection's findings), each with when it was first
// seen on its host (Change.First).
func (s *DB) Findings(ctx context.Context, kind string) ([]Change, error) {
	return s.scanChanges(ctx, true, currentSQL(", fr.started", " JOIN runs fr ON fr.id = r.first_run", "q.kind = ?"), kind)
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
}

// HostStates returns every host with its latest hunt, by name.
func (s *DB) HostStates(ctx context.Context) ([]HostState, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT h.name, coalesce(hr.run_id, 0), coalesce(ru.started, 0), coalesce(hr.state, ''), coalesce(hr.error, ''),
			coalesce(hr.reasons, '[]'), coalesce(p.n, 0)
		FROM hosts h
		LEFT JOIN (SELECT host_id, max(run_id) AS run_id FROM host_runs GROUP BY host_id) last ON last.host_id = h.id
		LEFT JOIN host_runs hr ON hr.host_id = last.host_id AND hr.run_id = last.run_id
		LEFT JOIN runs ru ON ru.id = hr.run_id
		LEFT JOIN (SELECT run_id, host_id, count(*) AS n FROM problems GROUP BY run_id, host_id) p ON p.run_id = hr.run_id AND p.host_id = hr.host_id
		ORDER BY h.name`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []HostState
	for rs.Next() {
		var h HostState
		var started int64
		var reasons string
		if err := rs.Scan(&h.Host, &h.Run, &started, &h.State, &h.Err, &reasons, &h.Problems); err != nil {
			return nil, err
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

// FirstSeenPerDay counts the rows of queries of kind by the UTC day of
// the run that first saw them on their host: what was new each day,
// gone rows included.
func (s *DB) FirstSeenPerDay(ctx context.Context, kind string) ([]DayCount, error) {
	const day = int64(24 * time.Hour)
	rs, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT ru.started / %d, count(*) FROM results r
		JOIN runs ru ON ru.id = r.first_run
		JOIN queries q ON q.id = r.query_id
		WHERE q.kind = ? GROUP BY ru.started / %[1]d ORDER BY 1`, day), kind)
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
