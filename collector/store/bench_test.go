package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// BenchmarkIngest: rows per second through SaveHost (hashing, upsert,
// change detection, one transaction per host) against a plain SQLite
// insert loop of the same rows in one transaction, in the same run.
func BenchmarkIngest(b *testing.B) {
	const hosts, perHost = 20, 1000
	mk := func(h, i int) Row {
		return Row{"hook": "DPkg::Post-Invoke", "command": fmt.Sprintf("cmd %d on %d", i, h), "path": fmt.Sprintf("/etc/apt/apt.conf.d/%03d", i%50), "active": "1"}
	}
	var storeTime, plainTime time.Duration
	for n := 0; n < b.N; n++ {
		dir := b.TempDir()
		s, err := Open(filepath.Join(dir, "s.db"))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		t0 := time.Now()
		run, _ := s.BeginRun(ctx, Run{Started: time.Now()}, []Query{{ID: "q", SQL: "x"}})
		for h := 0; h < hosts; h++ {
			var rows []Row
			for i := 0; i < perHost; i++ {
				rows = append(rows, mk(h, i))
			}
			if err := s.SaveHost(ctx, run, HostResult{Host: fmt.Sprint("h", h), Queries: []QueryResult{{QueryID: "q", Rows: rows}}}); err != nil {
				b.Fatal(err)
			}
		}
		storeTime += time.Since(t0)
		s.Close()

		db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "plain.db")+"?_journal_mode=WAL")
		if err != nil {
			b.Fatal(err)
		}
		db.Exec(`CREATE TABLE r (host TEXT, hook TEXT, command TEXT, path TEXT, active TEXT)`)
		t1 := time.Now()
		for h := 0; h < hosts; h++ {
			tx, _ := db.Begin()
			st, _ := tx.Prepare(`INSERT INTO r VALUES (?, ?, ?, ?, ?)`)
			for i := 0; i < perHost; i++ {
				r := mk(h, i)
				st.Exec(fmt.Sprint("h", h), r["hook"], r["command"], r["path"], r["active"])
			}
			st.Close()
			tx.Commit()
		}
		plainTime += time.Since(t1)
		db.Close()
	}
	rows := float64(hosts * perHost * b.N)
	b.ReportMetric(rows/storeTime.Seconds(), "store-rows/s")
	b.ReportMetric(rows/plainTime.Seconds(), "plain-rows/s")
	b.ReportMetric(float64(storeTime)/float64(plainTime), "store/plain")
}

// BenchmarkDiffMillionRows: diff of one run over 1,000,000 stored rows
// across 1,000 hosts, where each host changed two rows.
func BenchmarkDiffMillionRows(b *testing.B) {
	million.Do(func() { million.db, million.run, million.err = millionRows() })
	if million.err != nil {
		b.Fatal(million.err)
	}
	s, err := Open(million.db)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cs, err := s.Diff(ctx, Window{Run: million.run})
		if err != nil || len(cs) != 2*1000 {
			b.Fatalf("%d changes, %v", len(cs), err)
		}
	}
}

// million is the 1,000,000-row database, built once per test binary (the
// benchmark function runs several times).
var million struct {
	sync.Once
	db  string
	run int64
	err error
}

func millionRows() (string, int64, error) {
	dir, err := os.MkdirTemp("", "pkgpersist-bench")
	if err != nil {
		return "", 0, err
	}
	path := filepath.Join(dir, "m.db")
	s, err := Open(path)
	if err != nil {
		return "", 0, err
	}
	defer s.Close()
	ctx := context.Background()
	const hosts, perHost = 1000, 1000
	save := func(shift int) (int64, error) {
		run, err := s.BeginRun(ctx, Run{Started: time.Now()}, []Query{{ID: "q", SQL: "x"}})
		if err != nil {
			return 0, err
		}
		for h := 0; h < hosts; h++ {
			rows := make([]Row, perHost)
			for i := range rows {
				rows[i] = Row{"command": fmt.Sprint("cmd ", i+shift), "host": fmt.Sprint(h)}
			}
			if err := s.SaveHost(ctx, run, HostResult{Host: fmt.Sprint("h", h), Queries: []QueryResult{{QueryID: "q", Rows: rows}}}); err != nil {
				return 0, err
			}
		}
		return run, nil
	}
	if _, err := save(0); err != nil {
		return "", 0, err
	}
	last, err := save(1) // each host: one row gone, one new
	return path, last, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	testPG.Stop()
	if million.db != "" {
		os.RemoveAll(filepath.Dir(million.db))
	}
	os.Exit(code)
}
