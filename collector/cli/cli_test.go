package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/hunt/hunttest"
	"github.com/pkgpersist/pkgpersist/collector/report"
	"github.com/pkgpersist/pkgpersist/collector/report/ecscheck"
)

const planted = "../../test/roots/planted"

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestQueryFormats(t *testing.T) {
	sql := "SELECT hook, command FROM apt_hooks WHERE active = 1 AND hook = 'DPkg::Pre-Invoke' ORDER BY position"
	code, out, errs := runCLI("query", "--root", planted, "--format", "json", sql)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 3 || rows[1]["command"] != "echo replaced" {
		t.Fatalf("json: %v %q", err, out)
	}
	_, out, _ = runCLI("query", "--root", planted, "--format", "ndjson", sql)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], `{"hook":"DPkg::Pre-Invoke"`) {
		t.Fatalf("ndjson: %q", out)
	}
	_, out, _ = runCLI("query", "--root", planted, "--format", "csv", sql)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][0] != "hook" {
		t.Fatalf("csv: %v %q", err, out)
	}
	_, out, _ = runCLI("query", "--root", planted, "--format", "table", sql)
	if !strings.Contains(out, "| DPkg::Pre-Invoke | echo replaced") {
		t.Fatalf("table: %q", out)
	}
	file := filepath.Join(t.TempDir(), "q.sql")
	if err := os.WriteFile(file, []byte(sql), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI("query", "--root", planted, "--format", "json", "--file", file); code != 0 || !strings.Contains(out, "echo replaced") {
		t.Fatalf("--file: %d %q", code, out)
	}
}

// TestErrorsAreOneLine: usage and SQL errors exit 2 with one line.
func TestErrorsAreOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"query", "SELEC nothing"},
		{"query", "SELECT * FROM file"},
		{"query", "--format", "xml", "SELECT 1"},
		{"query"},
		{"query", "--root", "/nonexistent", "SELECT 1"},
		{"query", "--file", "/nonexistent.sql"},
	} {
		code, _, errs := runCLI(args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		last := lines[len(lines)-1]
		if code != 2 || !strings.HasPrefix(last, "pkgpersist: ") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
	}
	_, _, errs := runCLI("query", "SELECT * FROM file")
	if !strings.Contains(errs, "file: a constraint on path or directory is required") {
		t.Errorf("required constraint: %q", errs)
	}
}

// TestErrorMidStream: a query that fails after rows were written says so
// in one line and exits 2; the rows written stay, and a JSON array is
// left open, so that it does not parse as a whole answer.
func TestErrorMidStream(t *testing.T) {
	sql := "SELECT 'first' AS path UNION ALL SELECT path FROM file"
	for _, format := range []string{"json", "ndjson", "csv"} {
		code, out, errs := runCLI("query", "--root", planted, "--format", format, sql)
		if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "file: a constraint on path or directory is required") {
			t.Errorf("%s: exit %d, stderr %q", format, code, errs)
		}
		if !strings.Contains(out, "first") {
			t.Errorf("%s: the row before the error is missing: %q", format, out)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); format == "json" && err == nil {
			t.Errorf("json: %q parses as a whole answer", out)
		}
	}
}

// TestHuntLocal: hunting a root twice reports its findings as new, then as
// present; diff lists what the first run added; usage errors exit 2.
func TestHuntLocal(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	kinds := func() map[string]int {
		code, out, errs := runCLI("hunt", "--db", db, "--root", planted, "--format", "json")
		hunttest.WantClean(t, code, errs)
		var rows []report.Record
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		k := map[string]int{}
		for _, r := range rows {
			k[r.Change]++
		}
		return k
	}
	first := kinds()
	if first["new"] < 20 || first["present"] != 0 {
		t.Fatalf("first hunt: %v", first)
	}
	second := kinds()
	if second["new"] != 0 || second["present"] != first["new"] {
		t.Fatalf("second hunt: %v (first %v)", second, first)
	}
	code, out, _ := runCLI("diff", "--db", db, "--run", "1", "--format", "ndjson", "--ecs")
	if code != 0 || !strings.Contains(out, `"kind":"alert"`) || !strings.Contains(out, `"subtechnique":{"id":["T1546.016"]`) {
		t.Fatalf("diff: %d %.300s", code, out)
	}
	ecscheck.Check(t, []byte(out))
	if code, _, _ := runCLI("diff", "--db", db, "--run", "1", "--fail-on-new", "--format", "csv"); code != 1 {
		t.Fatalf("--fail-on-new with new rows: exit %d", code)
	}
	if code, _, _ := runCLI("diff", "--db", db, "--run", "2", "--fail-on-new", "--format", "csv"); code != 0 {
		t.Fatalf("--fail-on-new without new rows: exit %d", code)
	}
	for _, args := range [][]string{
		{"hunt", "--db", db, "http://not-ssh"},
		{"diff", "--db", filepath.Join(t.TempDir(), "none.db")},
		{"hunt", "--db", db, "--remote-engine", "bogus", "ssh://x"},
	} {
		if code, _, errs := runCLI(args...); code != 2 {
			t.Errorf("%q: exit %d (%s)", args, code, errs)
		}
	}
}

// TestPacksCommand: packs writes the files, --check passes on them and
// fails, naming the file, once one is edited; arguments are usage errors.
func TestPacksCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI("packs", "--out", dir)
	if code != 0 || !strings.Contains(out, filepath.Join(dir, "fleet/reports.yml")) {
		t.Fatalf("packs: %d %q %q", code, out, errs)
	}
	if code, out, errs := runCLI("packs", "--out", dir, "--check"); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("check of fresh packs: %d %q %q", code, out, errs)
	}
	if err := os.WriteFile(filepath.Join(dir, "pkgpersist.conf"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("packs", "--out", dir, "--check"); code != 1 || !strings.Contains(errs, "pkgpersist.conf") || strings.Count(errs, "\n") != 1 {
		t.Errorf("check of an edited pack: %d %q", code, errs)
	}
	if code, _, _ := runCLI("packs", "extra"); code != 2 {
		t.Errorf("packs extra: exit %d, want 2", code)
	}
}

// TestIngestCommand: files and stdin are stored; a missing file is exit 1
// with its name; no file is a usage error.
func TestIngestCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	code, _, errs := runCLI("ingest", "--db", db, "../ingest/testdata/osqueryd.results.log")
	if code != 0 || !strings.Contains(errs, "5 rows, 5 new, 1 not results") {
		t.Fatalf("ingest: %d %q", code, errs)
	}
	if code, _, errs := runCLI("ingest", "--db", db, "../ingest/testdata/osqueryd.results.log", "/nonexistent.log"); code != 1 || !strings.Contains(errs, "5 rows, 0 new") || !strings.Contains(errs, "/nonexistent.log") {
		t.Errorf("ingest again with a missing file: %d %q", code, errs)
	}
	if code, _, _ := runCLI("ingest", "--db", db); code != 2 {
		t.Errorf("ingest without files: exit %d, want 2", code)
	}
	// a line over --max-line-bytes and a .gz cut short: what was read is
	// stored, each loss is a line, and the exit status says partial
	data, err := os.ReadFile("../ingest/testdata/osqueryd.results.log")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	cut := filepath.Join(t.TempDir(), "cut.log.gz")
	if err := os.WriteFile(cut, gz.Bytes()[:gz.Len()-12], 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI("ingest", "--db", filepath.Join(t.TempDir(), "q.db"), "--max-line-bytes", "370", "../ingest/testdata/osqueryd.results.log", cut)
	for _, want := range []string{
		"osqueryd.results.log:1: line longer than 370 bytes: skipped",
		"1 skipped", "partial: 1 lines skipped",
		"cut.log.gz:7: unexpected EOF: the input ends there",
	} {
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("ingest over the limits: exit %d, want 1 and %q in\n%s", code, want, errs)
		}
	}
}

// TestNewTermsCommand: ingest the fixture, replay the rule at its time,
// fleet-wide and per host (hostK's alert from its pm-installs events).
func TestNewTermsCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	if code, _, errs := runCLI("ingest", "--db", db, "../newterms/testdata/installs.results.log"); code != 0 {
		t.Fatalf("ingest: %q", errs)
	}
	for flags, want := range map[string]int{"": 5, "--per-host": 8} {
		args := []string{"report", "new-terms", "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", "csv"}
		if flags != "" {
			args = append(args, flags)
		}
		code, out, errs := runCLI(args...)
		if code != 0 || strings.Count(out, "\n") != want+1 || !strings.Contains(errs, fmt.Sprintf("%d alerts", want)) {
			t.Errorf("new-terms %s: %d %q %q", flags, code, out, errs)
		}
	}
	if code, _, _ := runCLI("report", "new-terms", "--db", filepath.Join(t.TempDir(), "none.db")); code != 2 {
		t.Errorf("missing db: exit %d, want 2", code)
	}
}

// TestStacksCommand: the fixture's seven groups (three from the
// extension's queries or a parent now in the defaults), and a flag that
// changes a threshold.
func TestStacksCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	if code, _, errs := runCLI("ingest", "--db", db, "../stacks/testdata/hunt.results.log"); code != 0 {
		t.Fatalf("ingest: %q", errs)
	}
	for flags, want := range map[string]int{"": 7, "--file-max-hosts=5": 8} {
		args := []string{"report", "stacks", "--db", db, "--now", "2026-11-22T12:00:00Z", "--since", "24h", "--format", "csv"}
		if flags != "" {
			args = append(args, flags)
		}
		if code, out, errs := runCLI(args...); code != 0 || strings.Count(out, "\n") != want+1 {
			t.Errorf("stacks %s: %d %q %q", flags, code, out, errs)
		}
	}
}
