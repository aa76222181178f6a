package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

var q1 = Query{ID: "q1", Title: "hooks", Kind: "detection", SQL: "SELECT 1", Attack: []string{"T1546.016"}}

func run(t *testing.T, s *DB, hosts ...HostResult) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := s.BeginRun(ctx, Run{Started: time.Now(), Transport: "local"}, []Query{q1})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if err := s.SaveHost(ctx, id, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishRun(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func rows(cmds ...string) []Row {
	var out []Row
	for _, c := range cmds {
		out = append(out, Row{"command": c, "path": "/etc/apt/apt.conf.d/x"})
	}
	return out
}

func host(name string, r []Row) HostResult {
	return HostResult{Host: name, Queries: []QueryResult{{QueryID: "q1", Rows: r}}}
}

func count(t *testing.T, s *DB, table string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func kinds(cs []Change) map[string][]string {
	out := map[string][]string{}
	for _, c := range cs {
		out[c.Kind] = append(out[c.Kind], c.Host+" "+c.Row["command"])
	}
	return out
}

func TestAppearDisappear(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		r1 := run(t, s, host("a", rows("x", "y")), host("b", rows("x")))
		d, _ := s.Diff(ctx, Window{Run: r1})
		if k := kinds(d); len(k[New]) != 3 || len(k[Gone]) != 0 {
			t.Fatalf("first run: %v", k)
		}
		// the same rows again: nothing new, no new result rows
		r2 := run(t, s, host("a", rows("y", "x")), host("b", rows("x")))
		if d, _ := s.Diff(ctx, Window{Run: r2}); len(d) != 0 {
			t.Fatalf("repeat run changed: %v", kinds(d))
		}
		if n := count(t, s, "results"); n != 3 {
			t.Fatalf("%d result rows after a repeat", n)
		}
		// one new, one gone, on host a only
		r3 := run(t, s, host("a", rows("x", "z")), host("b", rows("x")))
		k := kinds(must(s.Diff(ctx, Window{Run: r3})))
		if len(k[New]) != 1 || k[New][0] != "a z" || len(k[Gone]) != 1 || k[Gone][0] != "a y" {
			t.Fatalf("third run: %v", k)
		}
		// a failed query is no disappearance, and a reappearing row appears
		r4 := run(t, s, HostResult{Host: "a", Queries: []QueryResult{{QueryID: "q1", Err: "boom"}}}, host("b", rows("x")))
		if d := must(s.Diff(ctx, Window{Run: r4})); len(d) != 0 {
			t.Fatalf("failed query made changes: %v", kinds(d))
		}
		r5 := run(t, s, host("a", rows("x", "y")), host("b", rows("x")))
		k = kinds(must(s.Diff(ctx, Window{Run: r5})))
		if len(k[New]) != 1 || k[New][0] != "a y" || len(k[Gone]) != 1 || k[Gone][0] != "a z" {
			t.Fatalf("fifth run: %v", k)
		}
		// --host and --query filters, and the window by time
		if d := must(s.Diff(ctx, Window{Since: time.Unix(0, 0), Host: "b"})); len(d) != 1 {
			t.Fatalf("host b: %v", kinds(d))
		}
		cur := must(s.Current(ctx, "a", ""))
		if len(cur) != 2 {
			t.Fatalf("current rows of a: %v", kinds(cur))
		}
	})
}

// A store opened again holds what it held; one whose schema a newer
// pkgpersist wrote is refused with a message that says so.
func TestReopen(t *testing.T) {
	eachDSN(t, func(t *testing.T, newDSN func(t *testing.T) string) {
		dsn := newDSN(t)
		s := mustOpen(t, dsn)
		run(t, s, host("a", rows("x")))
		s.Close()
		s = mustOpen(t, dsn)
		if d := must(s.Diff(context.Background(), Window{Since: time.Unix(0, 0)})); len(d) != 1 {
			t.Fatalf("after reopening: %v", kinds(d))
		}
		if _, err := s.db.Exec(`INSERT INTO schema_version (version) VALUES (?)`, len(migrations)+1); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(dsn)
		want := fmt.Sprintf("database schema version %d is newer than this pkgpersist (%d)", len(migrations)+1, len(migrations))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("a newer schema: %v, want %q", err, want)
		}
	})
}

// Processes that open a new store at once migrate it once, and every one
// of them opens it.
func TestConcurrentMigrations(t *testing.T) {
	eachDSN(t, func(t *testing.T, newDSN func(t *testing.T) string) {
		dsn := newDSN(t)
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				s, err := Open(dsn)
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		s := mustOpen(t, dsn)
		var n, v int
		if err := s.db.QueryRow(`SELECT count(*), max(version) FROM schema_version`).Scan(&n, &v); err != nil || n != len(migrations) || v != len(migrations) {
			t.Fatalf("schema_version: %d rows up to %d (%v), want %d", n, v, err, len(migrations))
		}
	})
}

func TestRowHashIsCanonical(t *testing.T) {
	a := Row{"a": "1", "b": "2"}
	b := Row{"b": "2", "a": "1"}
	c := Row{"a": "1", "b": "2 "}
	if a.Hash() != b.Hash() || a.Hash() == c.Hash() {
		t.Fatal("hash is not canonical")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
