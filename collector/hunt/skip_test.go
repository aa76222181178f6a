package hunt_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

var eventQ = &querydef.Query{ID: "installs", Title: "installs", Kind: "event", Mode: "differential", SQL: "SELECT pid FROM pm_process_events", File: "installs.sql"}

// TestEventQueriesSkipped: an event query a host skips (nothing there
// captures events) leaves the host ok with the reason among its reasons,
// and the rows it returned before stay its current rows; a skip that also
// answers rows is malformed, and a skipped query that is not an event
// query failed: either host is incomplete.
func TestEventQueriesSkipped(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	qs := []*querydef.Query{hooksQ, eventQ}
	answered := complete("web1", func(rs []hunt.BatchResult) []hunt.BatchResult {
		for i := range rs {
			if rs[i].ID == eventQ.ID {
				rs[i].Rows = []map[string]string{{"pid": "42"}}
			}
		}
		return rs
	})
	skip := func(rows bool) func([]hunt.BatchResult) []hunt.BatchResult {
		return func(rs []hunt.BatchResult) []hunt.BatchResult {
			for i := range rs {
				if rs[i].ID == eventQ.ID {
					rs[i].Skipped = "pm_process_events has no event source"
					if rows {
						rs[i].Rows = []map[string]string{{"pid": "7"}}
					}
				}
			}
			return rs
		}
	}
	if _, err := hunt.Run(ctx, st, []hunt.Target{answered}, qs, hunt.Options{}); err != nil {
		t.Fatal(err)
	}
	notEvent := setHooks(func(r *hunt.BatchResult) { r.Rows, r.Skipped = nil, "no event source" })
	sum, err := hunt.Run(ctx, st, []hunt.Target{complete("web1", skip(false)), complete("web2", skip(true)), complete("web3", notEvent)}, qs, hunt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h := sum.Hosts[0]; h.State != store.StateOK || strings.Join(h.Reasons, "\n") != "query installs skipped: pm_process_events has no event source" {
		t.Errorf("skipped: %s %q", h.State, h.Reasons)
	}
	if h := sum.Hosts[1]; h.State != store.StateIncomplete || !strings.Contains(strings.Join(h.Reasons, "\n"), "malformed answer: skipped, yet with rows") {
		t.Errorf("skipped with rows: %s %q", h.State, h.Reasons)
	}
	if h := sum.Hosts[2]; h.State != store.StateIncomplete || !strings.Contains(strings.Join(h.Reasons, "\n"), "query hooks failed: skipped, and it is not an event query") {
		t.Errorf("a detection skipped: %s %q", h.State, h.Reasons)
	}
	cur, err := st.Current(ctx, "web1", eventQ.ID)
	must(t, err)
	if len(cur) != 1 || cur[0].Row["pid"] != "42" {
		t.Errorf("web1's rows after the skip: %+v", cur)
	}
}

// TestBatchSkipsEvents: the embedded engine skips a query over an evented
// table with the engine's one line; osqueryi, which has captured nothing
// when it starts, is not even run for an event query.
func TestBatchSkipsEvents(t *testing.T) {
	res, err := hunt.RunBatch(context.Background(), "../../test/roots/planted", []hunt.BatchQuery{
		{ID: "osq", SQL: "SELECT count(*) FROM process_events"},
		{ID: "pm", SQL: "SELECT * FROM pm_file_events"},
		{ID: "hooks", SQL: "SELECT count(*) AS n FROM apt_hooks"},
	})
	must(t, err)
	if !strings.HasPrefix(res[0].Skipped, "process_events has no event source") || res[0].Error != "" || res[0].Rows != nil {
		t.Errorf("process_events: %+v", res[0])
	}
	if !strings.HasPrefix(res[1].Skipped, "pm_file_events has no event source") {
		t.Errorf("pm_file_events: %+v", res[1])
	}
	if res[2].Skipped != "" || res[2].Error != "" || len(res[2].Rows) != 1 {
		t.Errorf("apt_hooks: %+v", res[2])
	}
	osq := hunt.Osqueryi{Path: "/nonexistent/osqueryi"}
	res, err = osq.Run(context.Background(), []hunt.BatchQuery{{ID: "e", SQL: "SELECT 1", Event: true}, {ID: "i", SQL: "SELECT 1"}})
	must(t, err)
	if !strings.Contains(res[0].Skipped, "--enrolled") || res[0].Error != "" {
		t.Errorf("osqueryi event query: %+v", res[0])
	}
	if res[1].Skipped != "" || !strings.HasPrefix(res[1].Error, "osqueryi: ") {
		t.Errorf("osqueryi other query: %+v", res[1])
	}
	// the skip crosses the wire from a remote batch
	dec, err := hunt.DecodeBatch([]byte(`[{"id":"e","skipped":"no events here"}]`))
	if err != nil || len(dec) != 1 || dec[0].Skipped != "no events here" {
		t.Errorf("decode: %+v %v", dec, err)
	}
}
