package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/pgtest"
)

// fillEveryTable stores, through the store's own API, rows in every
// table of the schema, with the values a copy may get wrong: NULLs, 64-bit
// times, quotes, non-ASCII text, JSON. It returns the runs it made.
func fillEveryTable(t *testing.T, s *DB) []int64 {
	t.Helper()
	ctx := context.Background()
	qs := []Query{q1, {ID: "files", Title: "it's files", Kind: "hunt", SQL: "SELECT path, mtime FROM file", Volatile: []string{"mtime"}}}
	name, err := s.ResolveHost(ctx, HostKey{Alias: "root@web1:22", Machine: Machine{ID: "machine-id:0123", Hostname: "web1", Root: "/"}})
	if err != nil {
		t.Fatal(err)
	}
	var runs []int64
	for i, cmds := range [][]string{{"x", "y ü"}, {"x", "z 'quoted'"}} {
		id, err := s.BeginRun(ctx, Run{Started: time.Unix(1795377600+int64(i), 123456789), Transport: "ssh", Who: "analyst"}, qs)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, id)
		h := HostResult{Host: name, State: StateIncomplete, Reasons: []string{"a file could not be read"}, Queries: []QueryResult{
			{QueryID: "q1", Rows: rows(cmds...)},
			{QueryID: "files", Rows: []Row{{"path": "/etc/apt/apt.conf.d/99x", "mtime": fmt.Sprint(i)}},
				Problems: []Problem{{Path: "/etc/apt/secret", Cause: "permission", Detail: "open: permission denied"}}},
		}}
		if err := s.SaveHost(ctx, id, h); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveHost(ctx, id, HostResult{Host: "down", Err: "ssh: connection refused", State: StateFailed}); err != nil {
			t.Fatal(err)
		}
		if i == 0 { // the second run stays unfinished: finished is NULL
			if err := s.FinishRun(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	at := time.Unix(1795377700, 0)
	for _, n := range []string{"node-a", "node-b"} {
		if _, err := s.EnrollNode(ctx, Enrollment{Identifier: n, KeyHash: KeyHash(n), OsqueryVersion: "5.12.1", At: at,
			Details: []byte(`{"system_info":{"uuid":"` + n + `"}}`), Hardware: Hardware{UUID: n}}); err != nil {
			t.Fatal(err)
		}
	}
	// node-a again, unasked: refused and recorded in enrollments
	var refused *EnrollRefused
	if _, err := s.EnrollNode(ctx, Enrollment{Identifier: "node-a", KeyHash: "other", At: at.Add(time.Minute), Remote: "10.0.0.9"}); !errors.As(err, &refused) {
		t.Fatalf("unasked re-enrollment: %v", err)
	}
	if err := s.Revoke(ctx, "node-b"); err != nil {
		t.Fatal(err)
	}
	node, err := s.Authenticate(ctx, KeyHash("node-a"), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetExtension(ctx, node.HostID, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	logs := []Logged{
		{Name: "pack_pkgpersist_q1", Action: "added", UnixTime: 1795377800, Epoch: 1, Counter: 2, Row: Row{"command": "curl | sh", "path": "/etc/apt/apt.conf.d/x"}},
		{Name: "pack_pkgpersist_q1", Action: "removed", UnixTime: 1795377900, Epoch: 1, Counter: 3, Row: Row{"command": "x", "path": "/etc/apt/apt.conf.d/x"}},
		{Name: "pack_pkgpersist_q1", Action: "snapshot", UnixTime: 1795378000, Row: Row{"command": "y", "path": "/etc/apt/apt.conf.d/y"}},
	}
	// the reports' derived tables: a rollup and install terms, registered
	// before the rows they derive from are logged
	if err := s.EnsureRollup(ctx, "q1", []string{"command", "path"}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureTerms(ctx, "pm-installs"); err != nil {
		t.Fatal(err)
	}
	logs = append(logs, Logged{Name: "pack_pkgpersist_pm-installs", Action: "added", UnixTime: 1795378100,
		Row: Row{"path": "/usr/bin/rpm", "argv": `["rpm","-i","/tmp/x.rpm"]`, "parent_path": "/usr/sbin/httpd", "time": "1795378090"}})
	if _, err := s.SaveLogs(ctx, node.HostID, logs, []StatusLine{{UnixTime: 1795377800, Severity: 1, Filename: "tls.cpp", Line: 42, Message: "retrying", Version: "5.12.1"}}); err != nil {
		t.Fatal(err)
	}
	// a rate limit in use
	if ok, err := s.Allow(ctx, "node 1", 1, 5, at); err != nil || !ok {
		t.Fatalf("rate limit: %v %v", ok, err)
	}
	if err := s.Queue(ctx, "hunt-1", node.HostID, qs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeQueued(ctx, node.HostID, at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Answer(ctx, node.HostID, "hunt-1", "q1", rows("x"), 0, "", at.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddTriage(ctx, Triage{QueryID: "q1", Hash: rows("x")[0].Hash(), Host: name, Row: rows("x")[0], Verdict: "benign",
		Reason: "our cache cleaner, ticket 123", Who: "analyst", Created: at, Until: at.Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return runs
}

// schemaTables are the tables of a SQLite store, found apart from the
// copier's own reading of the schema.
func schemaTables(t *testing.T, s *DB) []string {
	t.Helper()
	names, err := texts(context.Background(), s.db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name <> 'schema_version' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// tableDump is every row of a table as text, sorted: what two engines
// hold alike when the copy is faithful.
func tableDump(t *testing.T, s *DB, table string) []string {
	t.Helper()
	rs, err := s.db.Query(`SELECT * FROM ` + quoteName(table))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if v.Valid {
				fmt.Fprintf(&b, "%s=%q ", cols[i], v.String)
			} else {
				fmt.Fprintf(&b, "%s=NULL ", cols[i])
			}
		}
		out = append(out, b.String())
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// answers is what the store's reading methods answer: diff, current,
// host outcomes, enrolled hosts, logged rows and their stacks, a hunt's
// answers, triage, new terms, what replicas share.
func answers(t *testing.T, s *DB, runs []int64) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	say := func(what string, v any, err error) {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		fmt.Fprintf(&b, "%s: %+v\n", what, v)
	}
	d, err := s.Diff(ctx, Window{Since: time.Unix(0, 0)})
	say("diff", d, err)
	for _, r := range runs {
		d, err := s.Diff(ctx, Window{Run: r})
		say(fmt.Sprint("diff run ", r), d, err)
		o, err := s.HostOutcomes(ctx, r)
		say(fmt.Sprint("outcomes run ", r), o, err)
	}
	d, err = s.Diff(ctx, Window{Since: time.Unix(0, 0), Host: "web1", Query: "q1"})
	say("diff web1 q1", d, err)
	c, err := s.Current(ctx, "", "")
	say("current", c, err)
	n, err := s.Nodes(ctx)
	say("nodes", n, err)
	l, err := s.LoggedRows(ctx, "q1", time.Unix(0, 0))
	say("logged", l, err)
	g, err := s.GroupLogged(ctx, "q1", time.Unix(0, 0), time.Unix(1<<40, 0), []string{"path"})
	say("stacks", g, err)
	cl, err := s.CountLogged(ctx, "")
	say("count logged", cl, err)
	node, err := s.Authenticate(ctx, KeyHash("node-a"), time.Unix(1795377700, 0).Add(time.Hour))
	say("node-a", node, err)
	a, pending, err := s.Answers(ctx, "hunt-1", node.HostID)
	say("answers", fmt.Sprint(a, pending), err)
	w, err := s.Waiting(ctx, "hunt-1")
	say("waiting", w, err)
	tr, err := s.Triages(ctx)
	say("triage", tr, err)
	te, err := s.NewTermEvents(ctx, TermWindows{QueryIDs: []string{"pm-installs"}, From: 1795378000, Now: 1795379000})
	say("new terms", te, err)
	kr, err := s.KeyRevision(ctx)
	say("key revision", kr, err)
	rb, err := s.RateBuckets(ctx)
	say("rate buckets", rb, err)
	return b.String()
}

// copyInto fills a SQLite store, copies it into dst and checks that
// every table came over whole and that the store answers alike on both,
// then that dst adds rows of its own without colliding with the copied
// ids.
func copyInto(t *testing.T, dst *DB) {
	src := openSQLite(t)
	runs := fillEveryTable(t, src)
	want := keys(t, dst)
	var done []string
	copied, err := Copy(context.Background(), src, dst, CopyOptions{Batch: 2, Progress: func(p CopyProgress) {
		if p.Done {
			done = append(done, fmt.Sprintf("%s %d/%d", p.Table, p.Rows, p.Total))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(t, dst); !slices.Equal(got, want) {
		t.Fatalf("keys after the copy:\n got %q\nwant %q", got, want)
	}
	tables := schemaTables(t, src)
	var names []string
	for _, c := range copied {
		names = append(names, c.Table)
	}
	if got := slices.Sorted(slices.Values(names)); !slices.Equal(got, tables) {
		t.Fatalf("copied tables %v, the schema has %v", got, tables)
	}
	if len(done) != len(tables) {
		t.Fatalf("progress told the end of %d tables of %d: %v", len(done), len(tables), done)
	}
	for _, table := range tables {
		want := tableDump(t, src, table)
		if len(want) == 0 {
			t.Errorf("%s: the fixture left it empty: fill it in fillEveryTable", table)
		}
		if got := tableDump(t, dst, table); !slices.Equal(got, want) {
			t.Errorf("%s differs after the copy:\n got %q\nwant %q", table, got, want)
		}
	}
	if got, want := answers(t, dst, runs), answers(t, src, runs); got != want {
		t.Fatalf("the copy answers otherwise:\n got %s\nwant %s", got, want)
	}
	// new rows get ids past the copied ones
	ctx := context.Background()
	id, err := dst.BeginRun(ctx, Run{Started: time.Now()}, []Query{q1})
	if err != nil {
		t.Fatal(err)
	}
	if id <= slices.Max(runs) {
		t.Fatalf("new run %d collides with the copied runs %v", id, runs)
	}
	if err := dst.SaveHost(ctx, id, host("new-host", rows("x"))); err != nil {
		t.Fatalf("a new host after the copy: %v", err)
	}
	tid, err := dst.AddTriage(ctx, Triage{QueryID: "q1", Hash: "h", Verdict: "benign", Reason: "r", Who: "w"})
	if err != nil || tid <= 1 {
		t.Fatalf("new triage decision %d: %v", tid, err)
	}
}

// newStoreRows counts the rows of each table in a new store (what its
// migrations insert).
func newStoreRows(t *testing.T, tables []string) map[string]int {
	t.Helper()
	s := openSQLite(t)
	seed := map[string]int{}
	for _, table := range tables {
		seed[table] = count(t, s, quoteName(table))
	}
	return seed
}

// emptyEverywhere fails unless every table of the schema is empty in s.
func emptyEverywhere(t *testing.T, s *DB, tables []string) {
	t.Helper()
	seed := newStoreRows(t, tables)
	for _, table := range tables {
		if n := count(t, s, quoteName(table)); n != seed[table] {
			t.Errorf("%s holds %d rows after a copy that failed, a new store %d", table, n, seed[table])
		}
	}
}

// copyFails checks that a copy that fails midway (ctx ended after the
// first batch of a table, or broken by dst) leaves dst empty, and that a
// copy afterwards succeeds.
func copyFails(t *testing.T, dst *DB) {
	src := openSQLite(t)
	fillEveryTable(t, src)
	tables := schemaTables(t, src)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Copy(ctx, src, dst, CopyOptions{Batch: 1, Progress: func(p CopyProgress) {
		if p.Table == "results" {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted copy: %v", err)
	}
	emptyEverywhere(t, dst, tables)

	mend := breakTriage(t, dst)
	if _, err := Copy(context.Background(), src, dst, CopyOptions{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("copy into a failing target: %v", err)
	}
	emptyEverywhere(t, dst, tables)

	if _, err := dst.db.Exec(mend); err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(context.Background(), src, dst, CopyOptions{}); err != nil {
		t.Fatalf("copy after the failures: %v", err)
	}
	if n := count(t, dst, "triage"); n != 1 {
		t.Fatalf("%d triage rows after the copy", n)
	}
}

// copyRefusesData checks that a target that holds anything is refused
// and left as it was.
func copyRefusesData(t *testing.T, dst *DB) {
	src := openSQLite(t)
	fillEveryTable(t, src)
	if _, err := dst.AddTriage(context.Background(), Triage{QueryID: "q", Hash: "h", Verdict: "benign", Reason: "r", Who: "w"}); err != nil {
		t.Fatal(err)
	}
	_, err := Copy(context.Background(), src, dst, CopyOptions{})
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "triage") {
		t.Fatalf("copy into a store with a triage decision: %v", err)
	}
	if n := count(t, dst, "triage"); n != 1 {
		t.Fatalf("the refused target has %d triage rows", n)
	}
	if n := count(t, dst, "hosts"); n != 0 {
		t.Fatalf("the refused target has %d hosts", n)
	}
}

// breakTriage makes dst fail at triage, one of the last tables copied
// (created late, referencing nothing), and returns what mends it.
func breakTriage(t *testing.T, dst *DB) (mend string) {
	t.Helper()
	broken, mend := `CREATE TRIGGER boom BEFORE INSERT ON triage BEGIN SELECT RAISE(ABORT, 'boom'); END`, `DROP TRIGGER boom`
	if dst.d.postgres {
		broken = `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''boom''; END';
			CREATE TRIGGER boom BEFORE INSERT ON triage FOR EACH ROW EXECUTE FUNCTION boom()`
		mend = `DROP TRIGGER boom ON triage`
	}
	if _, err := dst.db.Exec(broken); err != nil {
		t.Fatal(err)
	}
	return mend
}

func TestCopy(t *testing.T) {
	each(t, func(t *testing.T, open opener) { copyInto(t, open(t)) })
}

// keys are the foreign keys of dst's tables as the engine states them,
// and on PostgreSQL (where a copy drops and makes them again) every other
// constraint and index too.
func keys(t *testing.T, dst *DB) []string {
	t.Helper()
	q := `SELECT m.name || ' ' || k."from" || ' ' || k."table" || ' ' || k."to" FROM sqlite_master m, pragma_foreign_key_list(m.name) k WHERE m.type = 'table' ORDER BY 1`
	if dst.d.postgres {
		q = `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
			UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1`
	}
	out, err := texts(context.Background(), dst.db, q)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A row of the source that breaks a foreign key (stored while SQLite did
// not enforce them) fails the copy on either engine, and leaves the
// target empty with its foreign keys whole.
func TestCopyRefusesBrokenForeignKey(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		src := openSQLite(t)
		fillEveryTable(t, src)
		for _, q := range []string{`PRAGMA foreign_keys = OFF`, `INSERT INTO problems (run_id, host_id, query_id, path, cause, detail) VALUES (1, 999, 'q1', '/x', 'io', '')`, `PRAGMA foreign_keys = ON`} {
			if _, err := src.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		dst := open(t)
		want := keys(t, dst)
		if len(want) < 10 {
			t.Fatalf("foreign keys of a new store: %q", want)
		}
		if _, err := Copy(context.Background(), src, dst, CopyOptions{}); err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") && !strings.Contains(err.Error(), "foreign key") {
			t.Fatalf("copy of a row without its host: %v", err)
		}
		emptyEverywhere(t, dst, schemaTables(t, src))
		if got := keys(t, dst); !slices.Equal(got, want) {
			t.Fatalf("keys after a failed copy:\n got %q\nwant %q", got, want)
		}
	})
}

func TestCopyFails(t *testing.T) {
	each(t, func(t *testing.T, open opener) { copyFails(t, open(t)) })
}

func TestCopyRefusesData(t *testing.T) {
	each(t, func(t *testing.T, open opener) { copyRefusesData(t, open(t)) })
}

// An old store is brought up to date by Open before it is copied: the
// copy is of the current schema.
func TestCopyOldStore(t *testing.T) {
	path, old := storeBefore(t, machinesSchema)
	run(t, old, host("vm", rows("x")))
	old.Close()
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := openSQLite(t)
	copied, err := Copy(context.Background(), src, dst, CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(copied); !strings.Contains(got, "{host_aliases 1}") || !strings.Contains(got, "{results 1}") {
		t.Fatalf("copied %s", got)
	}
	if got, want := fmt.Sprint(must(dst.Current(context.Background(), "vm", ""))), fmt.Sprint(must(src.Current(context.Background(), "vm", ""))); got != want {
		t.Fatalf("current after the copy:\n got %s\nwant %s", got, want)
	}
}

func TestParentsFirst(t *testing.T) {
	tables := []copyTable{{name: "child", parents: []string{"parent", "child"}}, {name: "lone"}, {name: "parent", parents: []string{"gone"}}}
	got, err := parentsFirst(tables)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, t := range got {
		names = append(names, t.name)
	}
	if fmt.Sprint(names) != "[lone parent child]" {
		t.Fatalf("order %v", names)
	}
	if _, err := parentsFirst([]copyTable{{name: "a", parents: []string{"b"}}, {name: "b", parents: []string{"a"}}}); err == nil {
		t.Fatal("a cycle was ordered")
	}
}

// BenchmarkCopyMillionRows: the store of 1,000,000 result rows (2,000,000
// with their changes) copied into an empty store of each engine: rows a
// second, and the largest heap seen during the copy, which streaming
// keeps to a few batches whatever the size of the tables.
func BenchmarkCopyMillionRows(b *testing.B) {
	million.Do(func() { million.db, million.run, million.err = millionRows() })
	if million.err != nil {
		b.Fatal(million.err)
	}
	src, err := Open(million.db)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	srv, err := pgtest.StartServer("fsync=off")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var rows int64
			var peak uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dsn := filepath.Join(b.TempDir(), "to.db")
				if engine == "postgres" {
					dsn = srv.NewDatabase(b)
				}
				dst, err := Open(dsn)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				b.StartTimer()
				var ms runtime.MemStats
				copied, err := Copy(context.Background(), src, dst, CopyOptions{Progress: func(p CopyProgress) {
					if p.Rows%(50*DefaultCopyBatch) == 0 {
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}})
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range copied {
					rows += c.Rows
				}
				b.StopTimer()
				dst.Close()
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
		})
	}
}
