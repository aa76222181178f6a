package stacks

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// BenchmarkStacks stacks 10,000,000 stored events (PKGPERSIST_BENCH_EVENTS
// to change) across 10,000 hosts, half file writes and half child
// processes. The baseline, in the same run, is reading the same rows out
// of SQLite (count(*) over the JSON): what any stacking over the store
// pays before grouping.
func BenchmarkStacks(b *testing.B) {
	events := 10_000_000
	if v, err := strconv.Atoi(os.Getenv("PKGPERSIST_BENCH_EVENTS")); err == nil && v > 0 {
		events = v
	}
	dbPath := filepath.Join(b.TempDir(), "p.db")
	st, err := store.Open(dbPath)
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	// filled with SQL: going through the store would time the insert
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?_journal_mode=WAL&_synchronous=OFF")
	if err != nil {
		b.Fatal(err)
	}
	const now = 1795348800
	for _, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
		 INSERT INTO hosts (name) SELECT printf('host-%05d', i) FROM n`,
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		 INSERT INTO scheduled_results (host_id, name, action, unix_time, epoch, counter, hash, row)
		 SELECT 1 + i %% 10000,
		   CASE i %% 2 WHEN 0 THEN 'pack_pkgpersist-core_pm-process-file-events' ELSE 'pack_pkgpersist-core_pm-children' END,
		   'added', %d - i %% 86400, 0, i, printf('%%064d', i),
		   CASE i %% 2
		     WHEN 0 THEN json_object('operation', 'write', 'executable', printf('/usr/bin/tool%%d', i %% 5000), 'path', printf('/etc/apt/apt.conf.d/%%d', i %% 300), 'pid', printf('%%d', i))
		     ELSE json_object('path', printf('/usr/bin/child%%d', i %% 3000), 'parent_path', CASE i %% 3 WHEN 0 THEN '/usr/bin/apt' WHEN 1 THEN '/usr/bin/dnf' ELSE '/usr/bin/cron' END, 'pid', printf('%%d', i))
		   END
		 FROM n`, events-1, now),
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
	st, err = store.Open(dbPath)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	since := time.Unix(now-2*86400, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		var n int
		raw, _ := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
		raw.QueryRow(`SELECT count(*) FROM scheduled_results WHERE unix_time >= ? AND length(row) > 0`, since.Unix()).Scan(&n)
		raw.Close()
		base := time.Since(t0)

		t0 = time.Now()
		until := time.Unix(now, 0)
		files, err := Load(ctx, st, FileSources, since, until)
		if err != nil {
			b.Fatal(err)
		}
		children, err := Load(ctx, st, ChildSources, since, until)
		if err != nil {
			b.Fatal(err)
		}
		f, c := Files(files, Defaults), Children(children, Defaults)
		took := time.Since(t0)
		grouped := 0
		for _, l := range append(files, children...) {
			for _, g := range l.Groups {
				grouped += g.Count
			}
		}
		if grouped != events || n != events {
			b.Fatalf("grouped %d events, scanned %d rows, want %d", grouped, n, events)
		}
		b.ReportMetric(took.Seconds(), "s/stacks")
		b.ReportMetric(took.Seconds()/base.Seconds(), "x-scan-time")
		b.Logf("%d events on 10,000 hosts: stacks %v (%d file groups, %d child groups kept); SQLite scan alone %v", events, took, len(f), len(c), base)
	}
}
