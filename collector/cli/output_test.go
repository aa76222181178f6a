package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/report"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

var formats = []string{"table", "json", "ndjson", "csv"}

// goldenFile compares got with testdata/golden/name
// (PKGPERSIST_UPDATE_GOLDEN=1 rewrites it).
func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if os.Getenv("PKGPERSIST_UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (PKGPERSIST_UPDATE_GOLDEN=1 writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (PKGPERSIST_UPDATE_GOLDEN=1 rewrites it; review the diff):\n%s", p, got)
	}
}

var (
	rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	dashes  = regexp.MustCompile(`-{2,}`)
	spaces  = regexp.MustCompile(` {2,}`)
)

// plantedHost is the name a hunt of the planted root stores: the root
// has no machine-id of its own, so it is this machine's name and the
// root's absolute path.
func plantedHost(t *testing.T) string {
	name, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(planted)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		t.Fatal(err)
	}
	return name + ":" + abs
}

// stable replaces what differs from run to run of a hunt — the host's
// name, the times — and, in a table, the widths those set.
func stable(t *testing.T, format, out string) string {
	out = strings.ReplaceAll(out, plantedHost(t), "HOST")
	out = rfc3339.ReplaceAllString(out, "TIME")
	if format == "table" {
		out = spaces.ReplaceAllString(dashes.ReplaceAllString(out, "--"), " ")
	}
	return out
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCLI(args...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errs)
	}
	return out
}

// TestHuntDiffGolden: every format of hunt (a first hunt of the planted
// root: every finding new) and of diff (every row of that run).
func TestHuntDiffGolden(t *testing.T) {
	var db string
	for _, f := range formats {
		db = filepath.Join(t.TempDir(), "p.db")
		goldenFile(t, "hunt."+f, stable(t, f, mustRun(t, "hunt", "--db", db, "--root", planted, "--format", f)))
	}
	// the inventories' rows hold the checkout's file times and owners:
	// the detections' do not (TestRoundTrip reads back every row)
	for _, f := range formats {
		goldenFile(t, "diff."+f, stable(t, f, mustRun(t, "diff", "--db", db, "--run", "1", "--detections", "--format", f)))
	}
}

// TestReportsGolden: every format of both reports over the fixtures'
// logged events, at a fixed time.
func TestReportsGolden(t *testing.T) {
	for name, log := range map[string]string{"new-terms": "../newterms/testdata/installs.results.log", "stacks": "../stacks/testdata/hunt.results.log"} {
		db := filepath.Join(t.TempDir(), "p.db")
		mustRun(t, "ingest", "--db", db, log)
		for _, f := range formats {
			args := []string{"report", name, "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", f}
			if name == "stacks" {
				args = append(args, "--since", "24h")
			}
			goldenFile(t, name+"."+f, mustRun(t, args...))
		}
	}
}

// storedDiff is run 1's changes as the store holds them.
func storedDiff(t *testing.T, db string) []store.Change {
	t.Helper()
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs, err := st.Diff(context.Background(), store.Window{Run: 1})
	if err != nil || len(cs) < 100 {
		t.Fatalf("stored diff: %d changes, %v", len(cs), err)
	}
	return cs
}

// TestRoundTrip: what diff writes reads back as the stored rows — JSON
// and ndjson exactly; CSV through encoding/csv, one column per field of
// the union of the queries' fields (a field a query does not have is an
// empty cell), and with --out one file per query holding its fields only.
func TestRoundTrip(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	mustRun(t, "hunt", "--db", db, "--root", planted, "--format", "csv")
	want := storedDiff(t, db)
	wantRecords := make([]report.Record, len(want))
	for i, c := range want {
		wantRecords[i] = report.Record{Host: c.Host, Query: c.QueryID, QueryKind: c.Query.Kind, Change: c.Kind, Run: c.RunID, Row: c.Row}
	}
	var got []report.Record
	if err := json.Unmarshal([]byte(mustRun(t, "diff", "--db", db, "--run", "1", "--format", "json")), &got); err != nil {
		t.Fatal(err)
	}
	var nd []report.Record
	for _, l := range strings.Split(strings.TrimSuffix(mustRun(t, "diff", "--db", db, "--run", "1", "--format", "ndjson"), "\n"), "\n") {
		var r report.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("ndjson line %q: %v", l, err)
		}
		nd = append(nd, r)
	}
	for name, recs := range map[string][]report.Record{"json": got, "ndjson": nd} {
		for i := range recs {
			if recs[i].Time == "" {
				t.Errorf("%s #%d: no time", name, i)
			}
			recs[i].Time = ""
		}
		if !reflect.DeepEqual(recs, wantRecords) {
			t.Errorf("%s: %d records differ from the %d stored", name, len(recs), len(wantRecords))
		}
	}

	recs := readCSV(t, strings.NewReader(mustRun(t, "diff", "--db", db, "--run", "1", "--format", "csv")))
	if len(recs) != len(want) {
		t.Fatalf("csv: %d rows, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		c := want[i]
		fixed := fmt.Sprint(c.Host, c.QueryID, c.Query.Kind, c.Kind, c.RunID)
		if fmt.Sprint(r["host"], r["query"], r["query_kind"], r["change"], r["run"]) != fixed {
			t.Errorf("csv #%d: %v, want %s", i, r, fixed)
		}
		for col, v := range r {
			f, ok := strings.CutPrefix(col, report.RowPrefix)
			if ok && c.Row[f] != v {
				t.Errorf("csv #%d %s: %q, stored %q", i, col, v, c.Row[f])
			}
		}
		for f := range c.Row {
			if _, ok := r[report.RowPrefix+f]; !ok {
				t.Errorf("csv #%d: no column for %s", i, f)
			}
		}
	}

	dir := filepath.Join(t.TempDir(), "out")
	files := strings.Fields(mustRun(t, "diff", "--db", db, "--run", "1", "--out", dir))
	var perQuery []store.Row
	for _, file := range files {
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range readCSV(t, fh) {
			if filepath.Base(file) != r["query"]+".csv" {
				t.Errorf("%s holds a row of %s", file, r["query"])
			}
			row := store.Row{}
			for col, v := range r {
				if f, ok := strings.CutPrefix(col, report.RowPrefix); ok {
					row[f] = v
				}
			}
			perQuery = append(perQuery, row)
		}
		fh.Close()
	}
	var wantRows []store.Row
	for _, c := range want {
		wantRows = append(wantRows, c.Row)
	}
	if !reflect.DeepEqual(perQuery, wantRows) {
		t.Errorf("--out: %d rows in %d files differ from the %d stored", len(perQuery), len(files), len(wantRows))
	}
}

// readCSV reads a CSV with a header into one map a record.
func readCSV(t *testing.T, r io.Reader) []map[string]string {
	t.Helper()
	all, err := csv.NewReader(r).ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("csv: %v", err)
	}
	var out []map[string]string
	for _, rec := range all[1:] {
		m := map[string]string{}
		for i, col := range all[0] {
			m[col] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

// TestOutputUsageErrors: --ecs is ndjson only, --out CSV only; the diff
// filters take known kinds.
func TestOutputUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	mustRun(t, "hunt", "--db", db, "--root", planted, "--format", "json")
	for _, args := range [][]string{
		{"diff", "--db", db, "--ecs", "--format", "table"},
		{"diff", "--db", db, "--ecs", "--format", "csv"},
		{"diff", "--db", db, "--ecs", "--format", "json"},
		{"hunt", "--db", db, "--root", planted, "--ecs", "--format", "table"},
		{"report", "new-terms", "--db", db, "--ecs", "--format", "csv"},
		{"diff", "--db", db, "--out", t.TempDir(), "--format", "json"},
		{"diff", "--db", db, "--ecs", "--out", t.TempDir()},
		{"diff", "--db", db, "--kind", "alerts"},
		{"diff", "--db", db, "--detections", "--kind", "inventory"},
	} {
		code, out, errs := runCLI(args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, nothing, one line", args, code, out, errs)
		}
	}
	// --ecs alone is ndjson
	out := mustRun(t, "diff", "--db", db, "--run", "1", "--ecs")
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil || doc["@timestamp"] == nil {
			t.Fatalf("--ecs line %q: %v", l, err)
		}
	}
	// --kind inventory and --detections split diff's rows between them
	count := func(args ...string) int {
		var rs []report.Record
		if err := json.Unmarshal([]byte(mustRun(t, append([]string{"diff", "--db", db, "--run", "1", "--format", "json"}, args...)...)), &rs); err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	all, det, inv := count(), count("--detections"), count("--kind", "inventory")
	if det == 0 || inv == 0 || det+inv != all || count("--kind", "detection") != det {
		t.Errorf("diff: %d rows, %d of detections, %d of inventories", all, det, inv)
	}
}

// TestExplain: a query's header, next step, false positives and SQL; the
// list without an argument; an unknown id is a usage error.
func TestExplain(t *testing.T) {
	out := mustRun(t, "explain", "unowned-hooks")
	for _, want := range []string{
		"unowned-hooks: Package-manager hook commands in files no package owns\n",
		"severity:  high\n", "ATT&CK:    T1546.016\n",
		"\nNext step:\n  read the file in path",
		"\nFalse positives:\n  hooks an administrator or a container image wrote by hand (Docker's Debian images ship /etc/apt/apt.conf.d/docker-clean); pacman",
		"\nSQL:\n  SELECT 'apt' AS manager, hook, command, path, line FROM apt_hooks\n    WHERE active = 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain unowned-hooks: no %q in\n%s", want, out)
		}
	}
	if out := mustRun(t, "explain"); !strings.Contains(out, "| unowned-hooks ") || !strings.Contains(out, "| elastic-pm-files ") {
		t.Errorf("explain: %s", out)
	}
	code, out, errs := runCLI("explain", "unowned-hook")
	if code != 2 || out != "" || !strings.Contains(errs, `no query "unowned-hook"`) {
		t.Errorf("unknown query: %d %q %q", code, out, errs)
	}
	if out := mustRun(t, "hunt", "--db", filepath.Join(t.TempDir(), "p.db"), "--root", planted, "--format", "table"); !strings.Contains(out, "more: pkgpersist explain unowned-hooks\n") {
		t.Errorf("hunt's table does not point to explain:\n%s", out)
	}
}
