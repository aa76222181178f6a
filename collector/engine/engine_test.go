package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

const rootsDir = "../../test/roots"

// TestEngineEqualsExtension: for every extension table, on every fixture
// root, the engine's SELECT * (with the hidden columns) returns the rows the
// table generates for the osquery extension.
func TestEngineEqualsExtension(t *testing.T) {
	e, err := New(registry.Tables(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, tb := range registry.Tables() {
		if tb.Evented {
			// no root; what the engine does with them is its own test
			continue
		}
		for _, root := range []string{"planted", "debian-real", "dnf4", "dnf5", "yum", "dpkg", "dnf-actions"} {
			r := rootsDir + "/" + root
			want, err := tb.Run(context.Background(), table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: r}}}})
			if err != nil {
				t.Fatal(err)
			}
			var cols []string
			for _, c := range tb.Columns {
				cols = append(cols, `"`+c.Name+`"`)
			}
			res, err := e.Query(context.Background(), "SELECT "+strings.Join(cols, ", ")+" FROM "+tb.Name+" WHERE root = '"+r+"'")
			if err != nil {
				t.Fatalf("%s on %s: %v", tb.Name, root, err)
			}
			var wantLines, gotLines []string
			for _, row := range want {
				var vals []string
				for _, c := range tb.Columns {
					vals = append(vals, row[c.Name])
				}
				wantLines = append(wantLines, strings.Join(vals, "\x1f"))
			}
			for _, row := range res.Rows {
				gotLines = append(gotLines, strings.Join(row, "\x1f"))
			}
			sort.Strings(wantLines)
			sort.Strings(gotLines)
			if strings.Join(wantLines, "\n") != strings.Join(gotLines, "\n") {
				t.Errorf("%s on %s: engine returns %d rows, the table %d (or values differ)", tb.Name, root, len(gotLines), len(wantLines))
			}
		}
	}
}

func TestEngineFiltersAndHiddenColumns(t *testing.T) {
	e, err := New(registry.Tables(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Query(context.Background(), "SELECT * FROM apt_hooks WHERE root = '"+rootsDir+"/planted' AND active = 1 AND hook LIKE 'dpkg::post%' ORDER BY position")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Columns {
		if c == "root" || c == "apt_config" {
			t.Errorf("hidden column %s in SELECT *", c)
		}
	}
	if len(res.Rows) != 8 {
		t.Fatalf("%d DPkg::Post-Invoke rows: %v", len(res.Rows), res.Rows)
	}
	// IN on the hidden root column evaluates each root
	res, err = e.Query(context.Background(), "SELECT DISTINCT root FROM dpkg_hooks WHERE root IN ('"+rootsDir+"/dpkg', '"+rootsDir+"/dpkg-broken')")
	if err != nil || len(res.Rows) != 2 {
		t.Fatalf("IN: %v %v", res, err)
	}
	// the engine's default root serves queries that name none
	d, err := New(registry.Tables(), rootsDir+"/dpkg")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err = d.Query(context.Background(), "SELECT count(*) FROM dpkg_hooks WHERE active = 1")
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != "23" {
		t.Fatalf("default root: %v %v", res, err)
	}
	// a root that does not exist is one clear error
	if _, err := e.Query(context.Background(), "SELECT * FROM apt_hooks WHERE root = '/nonexistent'"); err == nil || !strings.Contains(err.Error(), "/nonexistent") {
		t.Fatalf("bad root: %v", err)
	}
}

// TestQueryProblems: a file a table needed and could not read comes back
// with the query's rows, with its cause; the next query starts clean.
func TestQueryProblems(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc/dpkg/dpkg.cfg.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "hook"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(registry.Tables(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Query(context.Background(), "SELECT * FROM dpkg_hooks")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Path != "/etc/dpkg/dpkg.cfg.d/hook" || res.Problems[0].Cause != fsroot.CauseSpecial {
		t.Fatalf("problems: %+v", res.Problems)
	}
	res, err = e.Query(context.Background(), "SELECT 1")
	if err != nil || len(res.Problems) != 0 {
		t.Fatalf("a later query: %+v, %v", res, err)
	}
}

// TestEventedRefused: a statement that reads an evented table fails with
// one line naming the table and what to use instead, however SQLite would
// have run it (scanned, never scanned, joined with no outer rows); the
// same SQL still compiles, a later query runs, and a temporary table that
// shadows the evented one is read as any table.
func TestEventedRefused(t *testing.T) {
	ev := &table.Table{
		Name:    "x_events",
		Columns: []table.Column{{Name: "pid", Type: table.BigInt}, {Name: "time", Type: table.BigInt}},
		Evented: true,
		Instead: "use y_events",
	}
	plain := &table.Table{
		Name:     "plain",
		Columns:  []table.Column{{Name: "pid", Type: table.BigInt}},
		Generate: func(context.Context, table.QueryContext) ([]table.Row, error) { return nil, nil },
	}
	e, err := New([]*table.Table{ev, plain}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	for _, q := range []string{
		"SELECT count(*) FROM x_events",
		"SELECT * FROM x_events WHERE time > 5",
		"SELECT * FROM x_events WHERE 0",
		"SELECT * FROM plain LEFT JOIN x_events USING (pid)",
		"SELECT * FROM plain WHERE pid IN (SELECT pid FROM x_events)",
	} {
		res, err := e.Query(ctx, q)
		var nes *NoEventSource
		if !errors.As(err, &nes) || nes.Table != "x_events" {
			t.Errorf("%s: %v, %v; want a refusal", q, res, err)
			continue
		}
		if want := "x_events has no event source in pkgpersist's engine: use y_events"; err.Error() != want {
			t.Errorf("%s: %q, want %q", q, err, want)
		}
		if err := e.Explain(ctx, q); err != nil {
			t.Errorf("explain %s: %v", q, err)
		}
	}
	if res, err := e.Query(ctx, "SELECT count(*) FROM plain"); err != nil || res.Rows[0][0] != "0" {
		t.Fatalf("a later query: %v %v", res, err)
	}
	if err := e.Exec(ctx, "CREATE TEMP TABLE x_events (pid, time); INSERT INTO x_events VALUES (1, 2)"); err != nil {
		t.Fatal(err)
	}
	if res, err := e.Query(ctx, "SELECT pid FROM x_events"); err != nil || len(res.Rows) != 1 {
		t.Fatalf("shadowed: %v %v", res, err)
	}
}

// TestPMEventsRefused: the extension's evented tables, which the engine
// serves without a capture, are refused as osquery's are.
func TestPMEventsRefused(t *testing.T) {
	e, err := New(registry.Tables(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	n := 0
	for _, tb := range registry.Tables() {
		if !tb.Evented {
			continue
		}
		n++
		_, err := e.Query(context.Background(), "SELECT count(*) FROM "+tb.Name+" WHERE 0")
		var nes *NoEventSource
		if !errors.As(err, &nes) || !strings.HasPrefix(err.Error(), tb.Name+" has no event source") || !strings.Contains(err.Error(), "osqueryd") {
			t.Errorf("%s: %v", tb.Name, err)
		}
	}
	if n < 3 {
		t.Errorf("%d evented tables in the registry", n)
	}
}

// TestCapturing: an engine in a process that captures serves the evented
// tables built over its capture, and refuses those nothing captures for.
func TestCapturing(t *testing.T) {
	live := &table.Table{
		Name: "live_events", Evented: true,
		Columns:  []table.Column{{Name: "pid", Type: table.BigInt}},
		Generate: func(context.Context, table.QueryContext) ([]table.Row, error) { return []table.Row{{"pid": "7"}}, nil },
	}
	dead := &table.Table{Name: "dead_events", Evented: true, Instead: "use live_events", Columns: []table.Column{{Name: "pid", Type: table.BigInt}}}
	e, err := New([]*table.Table{live, dead}, "", Capturing())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if res, err := e.Query(context.Background(), "SELECT pid FROM live_events"); err != nil || len(res.Rows) != 1 || res.Rows[0][0] != "7" {
		t.Errorf("live: %v %v", res, err)
	}
	var nes *NoEventSource
	if _, err := e.Query(context.Background(), "SELECT pid FROM live_events JOIN dead_events USING (pid)"); !errors.As(err, &nes) || nes.Table != "dead_events" {
		t.Errorf("dead: %v", err)
	}
}
