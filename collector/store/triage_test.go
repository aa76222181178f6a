package store

import (
	"context"
	"testing"
	"time"
)

// TestHashUnchanged: stores made before volatile columns keep matching,
// so a row's hash without volatile columns is what it always was.
func TestHashUnchanged(t *testing.T) {
	r := Row{"a": "1", "b": "x y"}
	const was = "8cae66cfa3d19807f340d5238d5d55e6e2ea4aed21ff8be79e5f5782b410a27c" // sha256 of [["a","1"],["b","x y"]]
	if r.Hash() != was || r.Identity(nil) != was || r.Identity([]string{"c"}) != was {
		t.Fatalf("hash changed: %s", r.Hash())
	}
	if r.Identity([]string{"b"}) == was || r.Identity([]string{"b"}) != (Row{"a": "1", "b": "other"}).Identity([]string{"b"}) {
		t.Fatal("a volatile column is part of the identity")
	}
	if (Row{"a": "1", "b": ""}).Identity([]string{"b"}) == (Row{"a": "1"}).Identity([]string{"b"}) {
		t.Fatal("a row without the volatile column shares the identity of one with it")
	}
}

var files = Query{ID: "files", Title: "files", Kind: "inventory", SQL: "SELECT 1", Attack: []string{"T1546.016"}}

func fileRows(atime, size string) []Row {
	return []Row{{"path": "/etc/apt/apt.conf.d/a", "atime": atime, "size": size}, {"path": "/etc/apt/apt.conf.d/b", "atime": atime, "size": size}}
}

func runQuery(t *testing.T, s *DB, q Query, host string, r []Row) int64 {
	t.Helper()
	ctx := context.Background()
	id := must(s.BeginRun(ctx, Run{Started: time.Now()}, []Query{q}))
	if err := s.SaveHost(ctx, id, HostResult{Host: host, State: StateOK, Queries: []QueryResult{{QueryID: q.ID, Rows: r}}}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestVolatileColumns(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		v := files
		v.Volatile = []string{"atime"}
		runQuery(t, s, v, "h", fileRows("1", "10"))
		second := runQuery(t, s, v, "h", fileRows("2", "10"))
		if d := must(s.Diff(ctx, Window{Run: second})); len(d) != 0 {
			t.Fatalf("a changed access time made changes: %v", kinds(d))
		}
		cur := must(s.Current(ctx, "h", "files"))
		if len(cur) != 2 || cur[0].Row["atime"] != "2" {
			t.Fatalf("the stored row does not show the latest access time: %+v", cur)
		}
		third := runQuery(t, s, v, "h", fileRows("3", "11"))
		if d := must(s.Diff(ctx, Window{Run: third})); len(d) != 4 {
			t.Fatalf("a changed size is not a change: %v", kinds(d))
		}
	})
}

// TestVolatileDeclaredLater: rows stored under their full hash, before
// the query named volatile columns, are the same rows afterwards.
func TestVolatileDeclaredLater(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		runQuery(t, s, files, "h", fileRows("1", "10"))
		v := files
		v.Volatile = []string{"atime"}
		second := runQuery(t, s, v, "h", fileRows("2", "10"))
		if d := must(s.Diff(context.Background(), Window{Run: second})); len(d) != 0 {
			t.Fatalf("declaring a column volatile made changes: %v", kinds(d))
		}
		third := runQuery(t, s, v, "h", fileRows("3", "10"))
		if d := must(s.Diff(context.Background(), Window{Run: third})); len(d) != 0 {
			t.Fatalf("changes after the volatile rows were stored: %v", kinds(d))
		}
		gone := runQuery(t, s, v, "h", nil)
		if d := must(s.Diff(context.Background(), Window{Run: gone})); len(d) != 2 || d[0].Kind != Gone {
			t.Fatalf("rows that went are not gone: %v", kinds(d))
		}
	})
}

// TestMigrateToTriage opens a database made by the schema before triage,
// with results in it.
func TestMigrateToTriage(t *testing.T) {
	path, old := storeBefore(t, triageSchema)
	db := old.db
	if _, err := db.Exec(`INSERT INTO hosts (name) VALUES ('h');
		INSERT INTO runs (started) VALUES (1);
		INSERT INTO queries (id, sql) VALUES ('files', 'SELECT 1');
		INSERT INTO query_runs (run_id, host_id, query_id, rows) VALUES (1, 1, 'files', 1);
		INSERT INTO results (host_id, query_id, hash, row, first_run, last_run) VALUES (1, 'files', ?, ?, 1, 1)`,
		Row{"path": "/x", "atime": "1"}.Hash(), `{"path":"/x","atime":"1"}`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v := files
	v.Volatile = []string{"atime"}
	second := runQuery(t, s, v, "h", []Row{{"path": "/x", "atime": "2"}})
	if d := must(s.Diff(context.Background(), Window{Run: second})); len(d) != 0 {
		t.Fatalf("the migrated store's row is new: %v", kinds(d))
	}
	if _, err := s.AddTriage(context.Background(), Triage{QueryID: "files", Hash: "x", Reason: "r", Who: "w", Verdict: "benign"}); err != nil {
		t.Fatal(err)
	}
}

func TestTriageStore(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		until := time.Now().Add(time.Hour).Round(0)
		id := must(s.AddTriage(ctx, Triage{QueryID: "q1", Hash: "abc", Host: "h", Row: Row{"command": "x"}, Verdict: "benign", Reason: "ours", Who: "ann", Created: time.Now(), Until: until}))
		ts := must(s.Triages(ctx))
		if len(ts) != 1 || ts[0].ID != id || ts[0].Row["command"] != "x" || !ts[0].Until.Equal(until) || ts[0].Who != "ann" || ts[0].Host != "h" {
			t.Fatalf("%+v", ts)
		}
		if err := s.RemoveTriage(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveTriage(ctx, id); err == nil {
			t.Fatal("removing a decision twice succeeded")
		}
	})
}

// TestVolatileColumnsFailure: a failed look-up of a query's volatile
// columns is an error, not "none": on PostgreSQL it aborts the write's
// transaction, and a write that went on met "current transaction is
// aborted" instead of the retry the failure asked for.
func TestVolatileColumnsFailure(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if v, err := volatileColumns(ctx, s.db, "files"); err == nil {
			t.Errorf("a look-up that failed: %v, no error", v)
		}
	})
}
