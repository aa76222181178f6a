package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// churnStore fills s with runs a day apart ending yesterday: each run,
// each host returns perHost rows of which a tenth were not in its
// previous run; and each host logs a row a day as osqueryd would. It
// returns the runs' ids and start times, oldest first.
func churnStore(t testing.TB, s *DB, hosts, perHost, runs int) ([]int64, []time.Time) {
	t.Helper()
	ctx := context.Background()
	day := 24 * time.Hour
	start := time.Now().Add(-time.Duration(runs+1) * day).Truncate(time.Second)
	var ids []int64
	var at []time.Time
	for k := 0; k < runs; k++ {
		when := start.Add(time.Duration(k) * day)
		id, err := s.BeginRun(ctx, Run{Started: when, Transport: "local"}, []Query{q1})
		if err != nil {
			t.Fatal(err)
		}
		for h := 0; h < hosts; h++ {
			// row i of run k: the rows k*perHost/10 .. +perHost
			base := k * perHost / 10
			rs := make([]Row, perHost)
			for i := range rs {
				rs[i] = Row{"command": fmt.Sprintf("cmd %d", base+i), "path": fmt.Sprintf("/etc/apt/apt.conf.d/%d", (base+i)%97)}
			}
			if err := s.SaveHost(ctx, id, HostResult{Host: fmt.Sprint("h", h), State: StateOK, Queries: []QueryResult{{QueryID: "q1", Rows: rs}}}); err != nil {
				t.Fatal(err)
			}
		}
		logs := map[string][]Logged{}
		for h := 0; h < hosts; h++ {
			logs[fmt.Sprint("h", h)] = []Logged{
				{Name: "pack_pkgpersist_q1", Action: "added", UnixTime: when.Unix(), Counter: int64(k), Row: Row{"command": fmt.Sprint("logged ", k)}},
				{Name: "pack_pkgpersist_q1", Action: "removed", UnixTime: when.Unix(), Counter: int64(k), Row: Row{"command": fmt.Sprint("logged ", k-1)}},
			}
		}
		if _, err := s.SaveLogsByHost(ctx, logs, map[string]int64{}); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRun(ctx, id); err != nil {
			t.Fatal(err)
		}
		ids, at = append(ids, id), append(at, when)
	}
	return ids, at
}

// diffs is every diff a user of the kept range can ask for: each kept
// run, the window since each kept run's start, and the current rows.
func diffs(t testing.TB, s *DB, ids []int64, at []time.Time) map[string][]Change {
	t.Helper()
	ctx := context.Background()
	out := map[string][]Change{}
	for i, id := range ids {
		d, err := s.Diff(ctx, Window{Run: id})
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint("run ", id)] = d
		if d, err = s.Diff(ctx, Window{Since: at[i]}); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint("since ", at[i])] = d
	}
	cur, err := s.Current(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	out["current"] = cur
	return out
}

func storeRows(t testing.TB, s *DB) int {
	n := 0
	for _, tb := range []string{"runs", "host_runs", "query_runs", "results", "changes", "scheduled_results", "status_logs"} {
		var c int
		if err := s.db.QueryRow("SELECT count(*) FROM " + tb).Scan(&c); err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}

// testPrune: prune keeps every diff of the kept window identical, keeps
// the next run comparable with the last, deletes the rest and shrinks the
// file.
func testPrune(t *testing.T, hosts, perHost, runs, keep, minRows int) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Now()
	ids, at := churnStore(t, s, hosts, perHost, runs)
	total := storeRows(t, s)
	t.Logf("%d rows stored in %s", total, time.Since(t0).Round(time.Millisecond))
	if total < minRows {
		t.Fatalf("store holds %d rows, the test needs %d", total, minRows)
	}
	kept := runs - keep
	before := diffs(t, s, ids[kept:], at[kept:])
	if _, err := s.Compact(ctx, false); err != nil {
		t.Fatal(err)
	}
	sizeBefore := FileSize(path)

	t1 := time.Now()
	p, err := s.Prune(ctx, at[kept])
	if err != nil {
		t.Fatal(err)
	}
	if done, err := s.Compact(ctx, false); err != nil || !done {
		t.Fatalf("compact: %v %v (a new database must be incremental)", done, err)
	}
	sizeAfter := FileSize(path)
	t.Logf("pruned %+v in %s; file %d -> %d bytes", p, time.Since(t1).Round(time.Millisecond), sizeBefore, sizeAfter)

	after := diffs(t, s, ids[kept:], at[kept:])
	for k, b := range before {
		if !reflect.DeepEqual(b, after[k]) {
			t.Errorf("%s: %d changes before prune, %d after", k, len(b), len(after[k]))
		}
	}
	if p.HostRuns != int64(hosts*kept) || p.Changes == 0 || p.Results == 0 || p.Logged != int64(2*hosts*kept) {
		t.Errorf("pruned %+v, want %d runs and their rows", p, kept)
	}
	if sizeAfter >= sizeBefore {
		t.Errorf("file %d bytes after prune, %d before", sizeAfter, sizeBefore)
	}
	var old int
	s.db.QueryRow(`SELECT count(*) FROM changes c JOIN runs r ON r.id = c.run_id WHERE r.started < ?`, at[kept].UnixNano()).Scan(&old)
	if old != 0 {
		t.Errorf("%d changes of pruned runs left", old)
	}
	if err := integrity(s.db); err != nil {
		t.Fatal(err)
	}
	// pruning again deletes nothing more
	if p2, err := s.Prune(ctx, at[kept]); err != nil || p2.Total() != 0 {
		t.Fatalf("second prune: %+v %v", p2, err)
	}
}

func integrity(db *sql.DB) error {
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		return fmt.Errorf("integrity_check: %s %v", res, err)
	}
	rs, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rs.Close()
	if rs.Next() {
		return fmt.Errorf("foreign key violations after prune")
	}
	return nil
}

func TestPrune(t *testing.T) { testPrune(t, 4, 500, 10, 4, 9000) }

// TestPruneMillion is the acceptance case: a store of 1,000,000 rows
// (PKGPERSIST_LOAD=1, make test-load: it takes minutes to build).
func TestPruneMillion(t *testing.T) {
	if os.Getenv("PKGPERSIST_LOAD") == "" {
		t.Skip("PKGPERSIST_LOAD=1 builds a 1,000,000-row store (make test-load)")
	}
	testPrune(t, 10, 10000, 30, 10, 1000000)
}

// A host whose last run is older than the kept window keeps that run and
// its rows: its next run reports nothing new.
func TestPruneKeepsLatestRun(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		old := time.Now().Add(-100 * 24 * time.Hour)
		id, _ := s.BeginRun(ctx, Run{Started: old}, []Query{q1})
		if err := s.SaveHost(ctx, id, host("quiet", rows("x", "y"))); err != nil {
			t.Fatal(err)
		}
		id2, _ := s.BeginRun(ctx, Run{Started: old.Add(time.Hour)}, []Query{q1})
		if err := s.SaveHost(ctx, id2, host("quiet", rows("x"))); err != nil {
			t.Fatal(err)
		}
		p, err := s.Prune(ctx, time.Now().Add(-90*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		// the first run goes but stays as the run that first saw x
		if p.Changes != 2 || p.Results != 0 || count(t, s, "runs") != 2 || count(t, s, "query_runs") != 1 {
			t.Fatalf("pruned %+v; %d runs, %d query_runs left", p, count(t, s, "runs"), count(t, s, "query_runs"))
		}
		r3 := run(t, s, host("quiet", rows("x")))
		if d, _ := s.Diff(ctx, Window{Run: r3}); len(d) != 0 {
			t.Fatalf("after prune the same rows are new: %v", kinds(d))
		}
	})
}

// A database made before pkgpersist set incremental auto-vacuum shrinks
// only by a full VACUUM, which also makes it incremental.
func TestCompactOldDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE made_before (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	churnStore(t, s, 2, 300, 4)
	if _, err := s.Prune(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if done, err := s.Compact(ctx, false); err != nil || done {
		t.Fatalf("compact without full on a non-incremental database: %v %v", done, err)
	}
	size := FileSize(path)
	if done, err := s.Compact(ctx, true); err != nil || !done {
		t.Fatalf("full compact: %v %v", done, err)
	}
	var mode int
	s.db.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode)
	if mode != 2 || FileSize(path) >= size {
		t.Fatalf("auto_vacuum %d, size %d -> %d", mode, size, FileSize(path))
	}
}

// A backup taken while the store is open holds the same diffs, passes
// SQLite's integrity check, and never replaces a file.
func TestBackup(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		open := openSQLite
		ctx := context.Background()
		s := open(t)
		ids, at := churnStore(t, s, 2, 200, 3)
		dest := filepath.Join(t.TempDir(), "copy.db")
		if err := s.Backup(ctx, dest); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("backup file: %v %v", fi, err)
		}
		b, err := Open(dest)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := integrity(b.db); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(diffs(t, s, ids, at), diffs(t, b, ids, at)) {
			t.Fatal("the backup's diffs differ from the store's")
		}
		if err := s.Backup(ctx, dest); err == nil {
			t.Fatal("backup over an existing file succeeded")
		}
	})
	t.Run("postgres", func(t *testing.T) {
		err := openPostgresTest(t).Backup(context.Background(), filepath.Join(t.TempDir(), "copy.db"))
		if err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("backup of a PostgreSQL store: %v, want an error pointing to pg_dump", err)
		}
	})
}
