package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestHostOutcomes: a host's state, reasons and problems are stored with
// its results and read back.
func TestHostOutcomes(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		p := Problem{Path: "/etc/apt/apt.conf.d/99x", Cause: "permission", Detail: "open: permission denied"}
		r := run(t, s,
			HostResult{Host: "a", State: StateIncomplete, Reasons: []string{"cannot read /etc/apt/apt.conf.d/99x"},
				Queries: []QueryResult{{QueryID: "q1", Rows: rows("x"), Problems: []Problem{p}}}},
			HostResult{Host: "b", State: StateOK, Queries: []QueryResult{{QueryID: "q1"}}},
			HostResult{Host: "c", State: StateFailed, Err: "refused", Reasons: []string{"refused"}})
		got := must(s.HostOutcomes(ctx, r))
		want := fmt.Sprint([]HostOutcome{
			{Host: "a", State: StateIncomplete, Reasons: []string{"cannot read /etc/apt/apt.conf.d/99x"}, Problems: []QueryProblem{{"q1", p}}},
			{Host: "b", State: StateOK, Reasons: []string{}},
			{Host: "c", Err: "refused", State: StateFailed, Reasons: []string{"refused"}},
		})
		if fmt.Sprint(got) != want {
			t.Fatalf("outcomes:\n got %v\nwant %v", got, want)
		}
	})
}

// TestMigrateKeepsOldRuns: a database of the schema before host states
// opens, its runs read as state "" (unknown), and new runs store states.
func TestMigrateKeepsOldRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(`CREATE TABLE schema_version (version INTEGER NOT NULL)`)
	for i, m := range migrations[:2] {
		mustExec(m)
		mustExec(`INSERT INTO schema_version (version) VALUES (?)`, i+1)
	}
	mustExec(`INSERT INTO hosts (id, name) VALUES (1, 'old')`)
	mustExec(`INSERT INTO runs (id, started) VALUES (1, 0)`)
	mustExec(`INSERT INTO host_runs (run_id, host_id, saved) VALUES (1, 1, 0)`)
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := must(s.HostOutcomes(context.Background(), 1))
	if len(got) != 1 || got[0].Host != "old" || got[0].State != "" || len(got[0].Reasons) != 0 {
		t.Fatalf("old run: %+v", got)
	}
	r := run(t, s, HostResult{Host: "old", State: StateOK, Queries: []QueryResult{{QueryID: "q1", Rows: rows("x")}}})
	if got := must(s.HostOutcomes(context.Background(), r)); len(got) != 1 || got[0].State != StateOK {
		t.Fatalf("new run: %+v", got)
	}
}

// TestConcurrentWriters: a hunt saving hosts while another process (serve
// taking check-ins) writes to the same database loses no host.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	id := must(a.BeginRun(ctx, Run{Started: time.Now()}, []Query{q1}))
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for w, s := range []*DB{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 150; i++ {
				if err := s.SaveHost(ctx, id, host(fmt.Sprintf("h%d-%d", w, i), rows("x", fmt.Sprint(i)))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := count(t, a, "host_runs"); n != 300 {
		t.Fatalf("%d of 300 hosts stored", n)
	}
}
