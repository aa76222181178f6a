package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// day0 is a UTC midnight; the random events spread over ten days from it.
const day0 = 1795305600

// randomLogs are n logged rows on hosts h0..h<hosts-1>: two queries under
// the pack names osqueryd gives them (both delimiters, and bare), every
// action, columns missing or empty, a value that is not UTF-8.
func randomLogs(rng *rand.Rand, hosts, n int) map[string][]Logged {
	names := []string{"pack_pkgpersist-core_qa", "pack/pkgpersist-core/qa", "pack_pkgpersist_qa", "qa",
		"pack_pkgpersist-core_qb", "pack/pkgpersist/qb", "qc"}
	actions := []string{"added", "added", "snapshot", "removed"}
	vals := []string{"/usr/bin/a", "/usr/bin/b", "/tmp/x y", "", `q"uote`, "bad\xff"}
	out := map[string][]Logged{}
	for i := 0; i < n; i++ {
		h := fmt.Sprintf("h%d", rng.IntN(hosts))
		r := Row{"pid": fmt.Sprint(rng.IntN(1000))}
		for _, c := range []string{"exe", "file", "other"} {
			if rng.IntN(6) > 0 {
				r[c] = vals[rng.IntN(len(vals))]
			}
		}
		out[h] = append(out[h], Logged{Name: names[rng.IntN(len(names))], Action: actions[rng.IntN(len(actions))],
			UnixTime: day0 + rng.Int64N(10*86400), Epoch: 0, Counter: int64(rng.IntN(3)), Row: r})
	}
	return out
}

// oracleGroups is GroupLogged computed in Go from every stored row.
func oracleGroups(t *testing.T, s *DB, queryID string, since, until int64, columns []string, unless ...string) []Group {
	t.Helper()
	rs, err := s.db.Query(`SELECT h.name, r.name, r.action, r.unix_time, r.row FROM scheduled_results r JOIN hosts h ON h.id = r.host_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	type ev struct {
		host, query string
		row         Row
	}
	var evs []ev
	excluded := map[string]bool{}
	for rs.Next() {
		var host, name, action, data string
		var at int64
		if err := rs.Scan(&host, &name, &action, &at, &data); err != nil {
			t.Fatal(err)
		}
		if !logs(action) || at < since || at > until {
			continue
		}
		var r Row
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			t.Fatal(err)
		}
		q := queryIDOf(name)
		if slices.Contains(unless, q) {
			excluded[host] = true
		}
		evs = append(evs, ev{host, q, r})
	}
	byKey := map[string]*Group{}
	for _, e := range evs {
		if e.query != queryID || excluded[e.host] {
			continue
		}
		var vals []string
		for _, c := range columns {
			vals = append(vals, e.row[c])
		}
		k := strings.Join(vals, "\x00")
		g := byKey[k]
		if g == nil {
			g = &Group{Values: vals}
			byKey[k] = g
		}
		g.Count++
		if !slices.Contains(g.Hosts, e.host) {
			g.Hosts = append(g.Hosts, e.host)
		}
	}
	var out []Group
	for _, g := range byKey {
		out = append(out, *g)
	}
	return sortGroups(out)
}

func sortGroups(gs []Group) []Group {
	for i := range gs {
		sort.Strings(gs[i].Hosts)
		if gs[i].Values == nil {
			gs[i].Values = []string{}
		}
	}
	sort.Slice(gs, func(i, j int) bool {
		return strings.Join(gs[i].Values, "\x00") < strings.Join(gs[j].Values, "\x00")
	})
	return gs
}

// save stores logs, each host's in turn through SaveLogs (serve's
// grouped write) or all at once through SaveLogsByHost (ingest).
func save(t *testing.T, s *DB, logs map[string][]Logged, ids map[string]int64, grouped bool) int {
	t.Helper()
	ctx := context.Background()
	if !grouped {
		n, err := s.SaveLogsByHost(ctx, logs, ids)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	total := 0
	for h, rows := range logs {
		if _, ok := ids[h]; !ok {
			if _, err := s.SaveLogsByHost(ctx, map[string][]Logged{h: nil}, ids); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.SaveLogs(ctx, ids[h], rows, nil)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// TestRollupMatchesEvents: grouping through the rollups gives what
// grouping every stored row gives, for windows on and off day boundaries,
// rows stored before the rollups were registered and after, batches sent
// twice, and after a prune that cuts a day.
func TestRollupMatchesEvents(t *testing.T) {
	each(t, testRollupMatchesEvents)
}

func testRollupMatchesEvents(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(18, 1))
	ids := map[string]int64{}
	var sent []map[string][]Logged
	for i := 0; i < 4; i++ {
		b := randomLogs(rng, 12, 400)
		sent = append(sent, b)
		save(t, s, b, ids, i%2 == 1)
	}
	check := func(stage string) {
		t.Helper()
		for i := 0; i < 60; i++ {
			since := day0 - 86400 + rng.Int64N(12*86400)
			until := since + rng.Int64N(6*86400)
			switch i % 4 {
			case 0: // whole days
				since, until = since-since%86400, until-until%86400-1
			case 1: // one day's edge
				until = since - since%86400 + 86400
			}
			cols := [][]string{{"exe", "file"}, {"exe"}, {"file", "exe"}}[i%3]
			for _, unless := range [][]string{nil, {"qb"}, {"qb", "qc"}} {
				got, err := s.GroupLogged(ctx, "qa", time.Unix(since, 0), time.Unix(until, 0), cols, unless...)
				if err != nil {
					t.Fatal(err)
				}
				want := oracleGroups(t, s, "qa", since, until, cols, unless...)
				if fmt.Sprint(sortGroups(got)) != fmt.Sprint(want) {
					t.Fatalf("%s: qa by %v in [%d, %d] unless %v:\n got %v\nwant %v", stage, cols, since, until, unless, sortGroups(got), want)
				}
			}
		}
	}
	check("no rollups")
	for _, r := range []struct {
		q    string
		cols []string
	}{{"qa", []string{"exe", "file"}}, {"qa", []string{"exe"}}, {"qa", []string{}}, {"qb", []string{}}} {
		if err := s.EnsureRollup(ctx, r.q, r.cols); err != nil {
			t.Fatal(err)
		}
	}
	check("rollups of stored rows")
	rollup := snapshotTable(t, s, "logged_rollup")
	for i, b := range sent {
		if n := save(t, s, b, ids, i%2 == 0); n != 0 {
			t.Fatalf("batch %d sent again added %d rows", i, n)
		}
	}
	if again := snapshotTable(t, s, "logged_rollup"); again != rollup {
		t.Fatalf("batches sent again changed the rollup")
	}
	for i := 0; i < 4; i++ {
		b := randomLogs(rng, 15, 400)
		save(t, s, b, ids, i%2 == 0)
		// a batch with rows both new and already stored
		save(t, s, sent[i], ids, i%2 == 1)
	}
	check("rollups kept by writes")
	if _, err := s.Prune(ctx, time.Unix(day0+3*86400+4000, 0)); err != nil {
		t.Fatal(err)
	}
	check("pruned")
}

func snapshotTable(t *testing.T, s *DB, table string) string {
	t.Helper()
	rs, err := s.db.Query(`SELECT * FROM ` + table + ` ORDER BY 1, 2, 3, 4, 5, 6`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var b strings.Builder
	for rs.Next() {
		v := make([]any, len(cols))
		p := make([]any, len(cols))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rs.Scan(p...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, v...)
	}
	return b.String()
}

func TestQueryIDOf(t *testing.T) {
	for name, want := range map[string]string{
		"pack_pkgpersist-core_pm-writes": "pm-writes", "pack/pkgpersist-core/pm-writes": "pm-writes",
		"pack_pkgpersist_pm-writes": "pm-writes", "pack/pkgpersist/pm-writes": "pm-writes",
		"pm-writes": "pm-writes", "pack_other_pm-writes": "pack_other_pm-writes", "pack_pkgpersist-core_": "",
	} {
		if got := queryIDOf(name); got != want {
			t.Errorf("queryIDOf(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestDerivedMigration: rows stored before the migration get the query id
// insert gives them now.
func TestDerivedMigration(t *testing.T) {
	path, old := storeBefore(t, derivedSchema)
	names := []string{"pack_pkgpersist-core_pm-writes", "pack/pkgpersist-core/pm-writes", "pack_pkgpersist_pm-writes",
		"pack/pkgpersist/pm-children", "pm-writes", "pack_other_x", "pack_pkgpersist-core_", "pack_pkgpersist", "päck_pkgpersist_x"}
	if _, err := old.db.Exec(`INSERT INTO hosts (name) VALUES ('h')`); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		if _, err := old.db.Exec(`INSERT INTO scheduled_results (host_id, name, action, unix_time, epoch, counter, hash, row) VALUES (1, ?, 'added', ?, 0, 0, 'x', '{}')`, n, i); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	s := mustOpen(t, path)
	rs, err := s.db.Query(`SELECT name, query_id FROM scheduled_results`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	n := 0
	for ; rs.Next(); n++ {
		var name, id string
		if err := rs.Scan(&name, &id); err != nil {
			t.Fatal(err)
		}
		if id != queryIDOf(name) {
			t.Errorf("%q: migrated query id %q, insert gives %q", name, id, queryIDOf(name))
		}
	}
	if n != len(names) {
		t.Errorf("%d rows, want %d", n, len(names))
	}
}

// BenchmarkSaveLogsDerived: logged rows a second through SaveLogsByHost
// (ingest's write) with the rollups and install terms the reports
// register against none, on SQLite, in the same run: what keeping them
// costs a writer.
func BenchmarkSaveLogsDerived(b *testing.B) {
	ctx := context.Background()
	batch := func(n int) map[string][]Logged {
		out := map[string][]Logged{}
		for i := 0; i < 2000; i++ {
			h := fmt.Sprintf("h%d", i%100)
			q := []string{"pm-writes", "pm-process-file-events", "pm-descendants", "pm-children", "pm-installs"}[i%5]
			out[h] = append(out[h], Logged{Name: "pack_pkgpersist-core_" + q, Action: "added", UnixTime: day0 + int64(n*2000+i), Counter: int64(n),
				Row: Row{"path": fmt.Sprintf("/usr/bin/tool%d", i%7), "target_path": "/etc/apt/apt.conf.d/99x", "executable": "/usr/bin/x",
					"parent_path": "/usr/bin/apt", "cmdline": "dpkg -i x.deb", "pid": fmt.Sprint(i)}})
		}
		return out
	}
	var rate [2]float64
	for k, derived := range []bool{false, true} {
		s, err := Open(filepath.Join(b.TempDir(), "p.db"))
		if err != nil {
			b.Fatal(err)
		}
		if derived {
			for _, q := range []string{"pm-writes", "pm-process-file-events", "pm-descendants", "pm-children"} {
				for _, cols := range [][]string{{"path", "target_path"}, {}} {
					if err := s.EnsureRollup(ctx, q, cols); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.EnsureTerms(ctx, "pm-installs"); err != nil {
				b.Fatal(err)
			}
		}
		ids := map[string]int64{}
		t0 := time.Now()
		for n := 0; n < b.N; n++ {
			if _, err := s.SaveLogsByHost(ctx, batch(n), ids); err != nil {
				b.Fatal(err)
			}
		}
		rate[k] = float64(2000*b.N) / time.Since(t0).Seconds()
		s.Close()
	}
	b.ReportMetric(rate[0], "rows/s-plain")
	b.ReportMetric(rate[1], "rows/s-derived")
	b.ReportMetric(rate[1]/rate[0], "x-of-plain")
}

// TestRollupAfterMerge: a host merged into another (rows both logged kept
// once) is counted as the merged host's rows are.
func TestRollupAfterMerge(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(18, 3))
		ids := map[string]int64{}
		a, b := randomLogs(rng, 1, 300)["h0"], randomLogs(rng, 1, 300)["h0"]
		save(t, s, map[string][]Logged{"a": append(a, b[:100]...), "b": b}, ids, false)
		if err := s.EnsureRollup(ctx, "qa", []string{"exe"}); err != nil {
			t.Fatal(err)
		}
		if err := s.EnsureTerms(ctx, "qa"); err != nil {
			t.Fatal(err)
		}
		if err := s.write(ctx, "merge", func(tx *sql.Tx) error { return mergeHost(ctx, s.d, tx, ids["a"], ids["b"]) }); err != nil {
			t.Fatal(err)
		}
		since, until := int64(day0-86400), int64(day0+12*86400)
		got, err := s.GroupLogged(ctx, "qa", time.Unix(since, 0), time.Unix(until, 0), []string{"exe"})
		if err != nil {
			t.Fatal(err)
		}
		if want := oracleGroups(t, s, "qa", since, until, []string{"exe"}); fmt.Sprint(sortGroups(got)) != fmt.Sprint(want) {
			t.Fatalf("merged:\n got %v\nwant %v", sortGroups(got), want)
		}
		if n := count(t, s, "logged_rollup WHERE host_id = "+fmt.Sprint(ids["a"])); n != 0 {
			t.Errorf("%d rollup rows of the merged host left", n)
		}
	})
}
