package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestOverview: Findings, HostStates and FirstSeenPerDay read what the
// web report shows, on both engines.
func TestOverview(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		day1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		day3 := day1.Add(48 * time.Hour)
		inv := Query{ID: "inv", Kind: "inventory", SQL: "SELECT 1"}
		save := func(at time.Time, hs ...HostResult) {
			t.Helper()
			id := must(s.BeginRun(ctx, Run{Started: at, Transport: "local"}, []Query{q1, inv}))
			for _, h := range hs {
				if err := s.SaveHost(ctx, id, h); err != nil {
					t.Fatal(err)
				}
			}
		}
		withInv := func(h HostResult) HostResult {
			h.Queries = append(h.Queries, QueryResult{QueryID: "inv", Rows: rows("inventory")})
			return h
		}
		save(day1, withInv(host("a", rows("x", "y"))), host("b", rows("x")))
		a := host("a", rows("x", "z")) // y gone, z new on day 3
		a.State = StateOK
		b := HostResult{Host: "b", State: StateIncomplete, Reasons: []string{"cannot read"},
			Queries: []QueryResult{{QueryID: "q1", Rows: rows("x"), Problems: []Problem{{Path: "/p", Cause: "permission"}}}}}
		save(day3, a, b, HostResult{Host: "c", State: StateFailed, Err: "unreachable", Reasons: []string{"unreachable"}})

		fs := must(s.Findings(ctx, "detection"))
		got := map[string][2]time.Time{}
		for _, f := range fs {
			got[f.Host+" "+f.Row["command"]] = [2]time.Time{f.First.UTC(), f.At.UTC()}
		}
		want := map[string][2]time.Time{"a x": {day1, day3}, "a z": {day3, day3}, "b x": {day1, day3}}
		if len(fs) != len(want) {
			t.Fatalf("findings %v, want %v", got, want)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: first/last %v, want %v", k, got[k], w)
			}
		}

		hs := must(s.HostStates(ctx))
		if len(hs) != 3 {
			t.Fatalf("hosts %+v", hs)
		}
		for i, w := range []HostState{{Host: "a", State: StateOK}, {Host: "b", State: StateIncomplete, Problems: 1}, {Host: "c", State: StateFailed, Err: "unreachable"}} {
			if h := hs[i]; h.Host != w.Host || h.State != w.State || h.Problems != w.Problems || h.Err != w.Err || !h.Started.Equal(day3) {
				t.Errorf("host %d: %+v, want %+v at %v", i, h, w, day3)
			}
		}

		days := must(s.FirstSeenPerDay(ctx, "detection"))
		// day 1: a x, a y, b x; day 3: a z
		if len(days) != 2 || !days[0].Day.Equal(day1.Truncate(24*time.Hour)) || days[0].Count != 3 || !days[1].Day.Equal(day3.Truncate(24*time.Hour)) || days[1].Count != 1 {
			t.Fatalf("per day %+v", days)
		}
	})
}

// TestHostStatesPlan: HostStates reads each host's latest run and its
// problems through indexes (SQLite's plan): no scan of every run or
// every problem stored, which grow with each hunt.
func TestHostStatesPlan(t *testing.T) {
	s := openSQLite(t)
	rs, err := s.db.Query("EXPLAIN QUERY PLAN " + hostStatesSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var plan []string
	for rs.Next() {
		var id, parent, unused int
		var detail string
		if err := rs.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	for _, step := range plan {
		for _, table := range []string{"problems", "host_runs", "scheduled_results"} {
			if strings.HasPrefix(step, "SCAN "+table) {
				t.Errorf("%s: every row of %s read\n%s", step, table, strings.Join(plan, "\n"))
			}
		}
	}
}

// TestLoggedOverview: what enrolled hosts log of a detection is their
// findings, on both engines: a differential query's rows added more
// often than removed, a snapshot query's rows in its latest snapshot; a
// row both hunted and logged on a host is one finding, first seen at
// the earlier; the chart counts every row first logged; HostStates says
// when a host last logged and whether it is enrolled.
func TestLoggedOverview(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		day1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		day2, day3 := day1.Add(24*time.Hour), day1.Add(48*time.Hour)
		id := must(s.BeginRun(ctx, Run{Started: day2, Transport: "local"}, []Query{q1}))
		if err := s.SaveHost(ctx, id, host("both", rows("hunted"))); err != nil {
			t.Fatal(err)
		}
		r := func(c string) Row { return rows(c)[0] }
		ev := func(action string, at time.Time, counter int64, c string) Logged {
			return Logged{Name: "pack_pkgpersist_q1", Action: action, UnixTime: at.Unix(), Counter: counter, Row: r(c)}
		}
		logs := map[string][]Logged{
			"diff": {ev("added", day1, 0, "kept"), ev("added", day1, 0, "back"), ev("added", day1, 0, "gone"),
				ev("removed", day2, 1, "back"), ev("removed", day2, 1, "gone"), ev("added", day3, 2, "back")},
			"snap": {ev("snapshot", day1, 0, "old"), ev("snapshot", day1, 0, "still"), ev("snapshot", day3, 0, "still")},
			"both": {ev("added", day1, 0, "hunted")},
		}
		if _, err := s.SaveLogsByHost(ctx, logs, map[string]int64{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnrollNode(ctx, Enrollment{Identifier: "quiet", KeyHash: KeyHash("quiet"), At: day1, Remote: "10.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		got := map[string][2]time.Time{}
		for _, f := range must(s.Findings(ctx, "detection")) {
			got[f.Host+" "+f.Row["command"]] = [2]time.Time{f.First.UTC(), f.At.UTC()}
		}
		want := map[string][2]time.Time{"diff kept": {day1, day1}, "diff back": {day1, day3}, "snap still": {day1, day3}, "both hunted": {day1, day2}}
		if len(got) != len(want) {
			t.Errorf("findings %v, want %v", got, want)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: first/last %v, want %v", k, got[k], w)
			}
		}
		days := map[string]int{}
		for _, d := range must(s.FirstSeenPerDay(ctx, "detection")) {
			days[d.Day.Format("01-02")] = d.Count
		}
		// day 1: six rows first logged (kept, back, gone, old, still,
		// hunted); day 2: hunted, first seen by the hunt
		if days["03-01"] != 6 || days["03-02"] != 1 || len(days) != 2 {
			t.Errorf("first seen per day %v", days)
		}
		states := map[string]HostState{}
		for _, h := range must(s.HostStates(ctx)) {
			states[h.Host] = h
		}
		if h := states["diff"]; h.Run != 0 || !h.Logged.Equal(day3) || h.Enrolled {
			t.Errorf("diff: %+v", h)
		}
		if h := states["both"]; h.Run == 0 || !h.Logged.Equal(day1) {
			t.Errorf("both: %+v", h)
		}
		var quiet *HostState
		for name, h := range states {
			if strings.HasSuffix(name, "quiet") {
				quiet = &h
			}
		}
		if quiet == nil || !quiet.Enrolled || !quiet.Logged.IsZero() || quiet.Run != 0 {
			t.Errorf("the enrolled host that never logged: %+v", quiet)
		}
	})
}
