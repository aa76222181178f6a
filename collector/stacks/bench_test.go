package stacks

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/test/pgtest"
)

// benchNow is the benchmark's run time: noon, so the 30-day window has
// half a day of events at each edge that no rollup holds.
const benchNow = 1795348800

// benchHosts log the events.
const benchHosts = 10_000

// BenchmarkReportStacks is `report stacks` (both stacks over their 30-day
// default window) on SQLite and PostgreSQL, at 1,000,000 and 10,000,000
// events (PKGPERSIST_BENCH_EVENTS=N for N alone), on 10,000 hosts. Each size's events are generated once in
// SQL; the baseline is the same stacking by plain GROUP BY over the
// events (no rollups: what Load does on a database that never
// registered them), timed once; then the rollups are registered
// (counting the stored events, timed once) and the stacking timed with
// them. x-faster is the baseline's time over the stacking's.
func BenchmarkReportStacks(b *testing.B) {
	// 10M events take about ten minutes to fill and register on a
	// 2-core machine
	sizes := []int{1_000_000, 10_000_000}
	if v, err := strconv.Atoi(os.Getenv("PKGPERSIST_BENCH_EVENTS")); err == nil && v > 0 {
		sizes = []int{v}
	}
	pg, err := pgtest.StartServer("fsync=off", "synchronous_commit=off", "full_page_writes=off", "shared_buffers=1GB",
		"work_mem=64MB", "maintenance_work_mem=512MB", "max_wal_size=8GB", "max_connections=50")
	if err != nil && os.Getenv("CI") != "" {
		b.Fatal(err)
	}
	if pg != nil {
		defer pg.Stop()
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("sqlite/%dk", n/1000), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "p.db")
			st := mustOpen(b, path)
			benchStacks(b, st, fillSQLite(b, path, n), n, 0)
		})
		b.Run(fmt.Sprintf("postgres/%dk", n/1000), func(b *testing.B) {
			if pg == nil {
				b.Skip(err)
			}
			dsn := pg.NewDatabase(b)
			st := mustOpen(b, dsn)
			raw := fillPostgres(b, dsn, n)
			var backend int
			if err := raw.QueryRow(`SELECT pg_backend_pid()`).Scan(&backend); err != nil {
				b.Fatal(err)
			}
			benchStacks(b, st, raw, n, parentOf(backend))
		})
	}
}

func mustOpen(b *testing.B, dsn string) *store.DB {
	st, err := store.Open(dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// The events, by their number i, in SQL both engines run: host i % hosts;
// times spread evenly over the 30 days before benchNow; file writes and
// child processes in turn; a host in four runs the extension (pm-writes,
// pm-descendants), the others osquery's queries, and one in sixteen logs
// both. Each host writes three files by three programs and starts three
// programs, the same ones day after day, as hooks do; one event in 9,973
// is a rare program.
const (
	benchHost  = `i % 10000`
	benchRound = `(i / 10000)`
	benchExt   = `(i % 4 = 0 AND NOT (i % 16 = 0 AND (i / 10000) % 4 < 2))`
	benchQuery = `CASE WHEN (i / 10000) % 2 = 0 THEN
		CASE WHEN ` + benchExt + ` THEN 'pm-writes' ELSE 'pm-process-file-events' END
	ELSE CASE WHEN ` + benchExt + ` THEN 'pm-descendants' ELSE 'pm-children' END END`
)

// benchRow is the event's row: obj builds a JSON object from key, value
// pairs and str makes a number text.
func benchRow(obj func(kv ...string) string, str func(n string) string) string {
	pick := `(` + benchHost + ` * 7 + ` + benchRound + ` / 2 % 3)`
	exe := `CASE WHEN i % 9973 = 0 THEN '/tmp/rare' || ` + str("i") + ` ELSE '/usr/bin/tool' || ` + str(pick+` % 5000`) + ` END`
	file := `'/etc/apt/apt.conf.d/' || ` + str(pick+` % 300`)
	child := `'/usr/bin/child' || ` + str(pick+` % 3000`)
	parent := `CASE ` + pick + ` % 3 WHEN 0 THEN '/usr/bin/apt' WHEN 1 THEN '/usr/bin/dnf' ELSE '/usr/bin/cron' END`
	return `CASE WHEN ` + benchRound + ` % 2 = 0 THEN
		CASE WHEN ` + benchExt + ` THEN ` + obj("'path'", exe, "'target_path'", file, "'pid'", str("i")) + `
		ELSE ` + obj("'operation'", "'write'", "'executable'", exe, "'path'", file, "'pid'", str("i")) + ` END
	ELSE ` + obj("'path'", child, "'parent_path'", parent, "'pid'", str("i")) + ` END`
}

func benchInsert(series, hash, row string, n int) string {
	return fmt.Sprintf(`INSERT INTO scheduled_results (host_id, name, query_id, action, unix_time, epoch, counter, hash, row)
		SELECT 1 + %s, 'pack_pkgpersist-core_' || q, q, 'added', %d - i * 2592000 / %d, 0, i, %s, %s
		FROM (SELECT i, %s AS q FROM %s) e`, benchHost, benchNow, n, hash, row, benchQuery, series)
}

func fillSQLite(b *testing.B, path string, n int) *sql.DB {
	t0 := time.Now()
	// a cache that holds the indexes: the rows go in in host order, not
	// the unique key's
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF&_cache_size=-2000000")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	obj := func(kv ...string) string {
		return "json_object(" + strings.Join(kv, ", ") + ")"
	}
	str := func(n string) string { return "CAST(" + n + " AS TEXT)" }
	for _, q := range []string{
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		 INSERT INTO hosts (name) SELECT printf('host-%%05d', i) FROM n`, benchHosts-1),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d) `, n-1) +
			benchInsert("n", "printf('%016d', i)", benchRow(obj, str), n),
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("SQLite: %d events generated in %v", n, time.Since(t0).Round(time.Millisecond))
	return db
}

func fillPostgres(b *testing.B, dsn string, n int) *sql.DB {
	t0 := time.Now()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	obj := func(kv ...string) string { return "json_build_object(" + strings.Join(kv, ", ") + ")::text" }
	str := func(n string) string { return "(" + n + ")::text" }
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO hosts (name) SELECT 'host-' || lpad(i::text, 5, '0') FROM generate_series(0, %d) i`, benchHosts-1),
		benchInsert(fmt.Sprintf("generate_series(0::bigint, %d) i", n-1), "lpad(i::text, 16, '0')", benchRow(obj, str), n),
		`VACUUM ANALYZE scheduled_results`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("PostgreSQL: %d events generated in %v", n, time.Since(t0).Round(time.Millisecond))
	return db
}

// stackAll is `report stacks`: both stacks over the 30 days before
// benchNow, and the events they grouped.
func stackAll(b *testing.B, st *store.DB) (kept string, events int) {
	until := time.Unix(benchNow, 0)
	files, children, kept := stacked(b, st, until.Add(-30*24*time.Hour), until)
	for _, l := range append(files, children...) {
		for _, g := range l.Groups {
			events += g.Count
		}
	}
	return kept, events
}

// benchStacks times stacking without rollups, registers them and times
// stacking with them. The machine may be shared: besides the time, the
// CPU time the benchmark and the PostgreSQL server under postmaster
// (when not 0) spent is compared.
func benchStacks(b *testing.B, st *store.DB, raw *sql.DB, n, postmaster int) {
	t0, c0 := time.Now(), cpuTime(b, postmaster)
	wantKept, grouped := stackAll(b, st)
	base, baseCPU := time.Since(t0), cpuTime(b, postmaster)-c0
	// the window holds every event but those at its first second's
	// edge; hosts that log both sources count once
	if grouped < n*9/10 {
		b.Fatalf("grouped %d of %d events", grouped, n)
	}
	t0 = time.Now()
	if err := Prepare(context.Background(), st); err != nil {
		b.Fatal(err)
	}
	prepare := time.Since(t0)
	if postmaster != 0 {
		// what autovacuum does after that many inserts: the planner
		// then knows the rollup's size
		if _, err := raw.Exec(`ANALYZE logged_rollup`); err != nil {
			b.Fatal(err)
		}
	}
	var rollup int
	if err := raw.QueryRow(`SELECT count(*) FROM logged_rollup`).Scan(&rollup); err != nil {
		b.Fatal(err)
	}
	b.Run("rollups", func(b *testing.B) {
		var took, cpu time.Duration
		for i := 0; i < b.N; i++ {
			t0, c0 := time.Now(), cpuTime(b, postmaster)
			kept, events := stackAll(b, st)
			took, cpu = took+time.Since(t0), cpu+cpuTime(b, postmaster)-c0
			if kept != wantKept || events != grouped {
				b.Fatalf("with rollups: %d events grouped, stacks %.300s; without: %d, %.300s", events, kept, grouped, wantKept)
			}
		}
		per, perCPU := took/time.Duration(b.N), cpu/time.Duration(b.N)
		b.ReportMetric(per.Seconds(), "s/stacks")
		b.ReportMetric(base.Seconds(), "s/group-by")
		b.ReportMetric(base.Seconds()/per.Seconds(), "x-faster")
		b.ReportMetric(baseCPU.Seconds()/perCPU.Seconds(), "x-faster-cpu")
		b.ReportMetric(prepare.Seconds(), "s/register")
		b.ReportMetric(float64(rollup), "rollup-rows")
		b.Logf("%d events on %d hosts: stacks %v (CPU %v) with rollups (%d rows), %v (CPU %v) by GROUP BY over the events (%.1fx, CPU %.1fx); registering the rollups took %v",
			n, benchHosts, per.Round(time.Millisecond), perCPU.Round(time.Millisecond), rollup, base.Round(time.Millisecond), baseCPU.Round(time.Millisecond),
			base.Seconds()/per.Seconds(), baseCPU.Seconds()/perCPU.Seconds(), prepare.Round(time.Millisecond))
	})
}

// cpuTime is the CPU time this process and, unless postmaster is 0, the
// PostgreSQL server's processes (postmaster and its children) used so
// far.
func cpuTime(b *testing.B, postmaster int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if postmaster == 0 {
		return total
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		ppid, ticks := procStat(p)
		if pid == postmaster || ppid == postmaster {
			total += time.Duration(ticks) * time.Second / 100 // USER_HZ
		}
	}
	return total
}

// procStat reads a process's parent and its user and system CPU time in
// clock ticks from its /proc stat file.
func procStat(path string) (ppid, ticks int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	// the command name, in parentheses, may hold spaces
	i := strings.LastIndexByte(string(data), ')')
	f := strings.Fields(string(data[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, 0
	}
	ppid, _ = strconv.Atoi(f[1])
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return ppid, u + s
}

// parentOf is a process's parent.
func parentOf(pid int) int {
	ppid, _ := procStat(fmt.Sprintf("/proc/%d/stat", pid))
	return ppid
}
