package packs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/tables"
	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/queries"
)

// committed is the repository's packs/ directory.
const committed = "../../packs"

func generate(t *testing.T) Output {
	t.Helper()
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(qs, registry.Tables())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCommittedPacksAreCurrent fails when packs/ differs from what the
// queries generate: run make packs and commit.
func TestCommittedPacksAreCurrent(t *testing.T) {
	out := generate(t)
	again := generate(t)
	for name, data := range out {
		if !bytes.Equal(data, again[name]) {
			t.Fatalf("%s: two generations differ", name)
		}
	}
	stale, err := out.Stale(committed)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Fatalf("packs/ is stale (run make packs): %s", strings.Join(stale, ", "))
	}
}

// TestStale: a changed, a missing and an extra file are each reported.
func TestStale(t *testing.T) {
	out := generate(t)
	dir := t.TempDir()
	if err := out.Write(dir); err != nil {
		t.Fatal(err)
	}
	if s, err := out.Stale(dir); err != nil || len(s) != 0 {
		t.Fatalf("fresh output is stale: %v %v", s, err)
	}
	os.WriteFile(filepath.Join(dir, "pkgpersist.conf"), []byte("{}"), 0o644)
	os.Remove(filepath.Join(dir, "fleet/policies.yml"))
	os.WriteFile(filepath.Join(dir, "fleet/old.yml"), nil, 0o644)
	s, err := out.Stale(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "fleet/old.yml fleet/policies.yml pkgpersist.conf"; strings.Join(s, " ") != want {
		t.Errorf("stale = %q, want %q", s, want)
	}
	if s, err := out.Stale(filepath.Join(dir, "absent")); err != nil || len(s) != len(out) {
		t.Errorf("absent dir: %d stale of %d, %v", len(s), len(out), err)
	}
}

func TestValidate(t *testing.T) {
	ok := querydef.Query{ID: "ok", Interval: 3600, Platform: "linux"}
	if err := Validate([]*querydef.Query{&ok}); err != nil {
		t.Fatalf("valid query rejected: %v", err)
	}
	multi := ok
	multi.Platform = "linux,posix"
	if err := Validate([]*querydef.Query{&multi}); err != nil {
		t.Errorf("comma list rejected: %v", err)
	}
	for _, bad := range []func(q *querydef.Query){
		func(q *querydef.Query) { q.Interval = 0 },
		func(q *querydef.Query) { q.Interval = MaxInterval + 1 },
		func(q *querydef.Query) { q.ID = "last-epoch" },
		func(q *querydef.Query) { q.ID = "runcounter" },
		func(q *querydef.Query) { q.ID = "query.x" },
		func(q *querydef.Query) { q.ID = "caf\u00e9" },
		func(q *querydef.Query) { q.Platform = "freebsd" },
		func(q *querydef.Query) { q.Platform = "linux,ubuntu-ish" },
	} {
		q := ok
		bad(&q)
		if err := Validate([]*querydef.Query{&q}); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
}

func TestFleetPlatform(t *testing.T) {
	for in, want := range map[string]string{"linux": "linux", "posix": "darwin,linux", "linux,posix": "linux,darwin", "all": "", "windows, any": ""} {
		if got := fleetPlatform(in); got != want {
			t.Errorf("fleetPlatform(%q) = %q, want %q", in, got, want)
		}
	}
}

func readJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(committed, name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func newEngine(t *testing.T, root string) *engine.Engine {
	t.Helper()
	e, err := engine.New(tables.Engine(), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func runSQL(t *testing.T, e *engine.Engine, what, sql string) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.Query(ctx, sql)
	var nes *engine.NoEventSource
	if errors.As(err, &nes) {
		// a query over events: the engine refuses to run it, and
		// compiles it
		if err := e.Explain(ctx, sql); err != nil {
			t.Fatalf("%s does not compile in the engine: %v", what, err)
		}
		return nil
	}
	if err != nil {
		t.Fatalf("%s does not run in the engine: %v", what, err)
	}
	return res.Rows
}

// packFiles are the committed osquery packs, by the name the example
// configuration loads them under.
func packFiles(t *testing.T) map[string]map[string]any {
	t.Helper()
	cfg := readJSON(t, "osquery.conf.example")
	out := map[string]map[string]any{}
	for name, path := range cfg["packs"].(map[string]any) {
		out[name] = readJSON(t, filepath.Base(path.(string)))
	}
	if len(out) != 2 {
		t.Fatalf("the example loads %d packs, want 2", len(out))
	}
	return out
}

// TestPackQueriesRun: every query of every committed pack and Fleet file,
// the discovery and decorator queries, parse and run in the engine, on the
// planted root where the detections find something. The evented tables
// exist with their schemas, so the event queries are compiled (the engine
// refuses to run them).
func TestPackQueriesRun(t *testing.T) {
	e := newEngine(t, "../../test/roots/planted")
	n := 0
	for name, p := range packFiles(t) {
		for _, d := range asList(p["discovery"]) {
			if rows := runSQL(t, e, name+" discovery", d.(string)); len(rows) == 0 {
				t.Errorf("%s: discovery %q returns no row where the extension's tables exist", name, d)
			}
		}
		for id, q := range p["queries"].(map[string]any) {
			runSQL(t, e, name+"/"+id, q.(map[string]any)["query"].(string))
			n++
		}
	}
	qs, _ := querydef.Load(queries.FS)
	if n != len(qs) {
		t.Errorf("packs hold %d queries, queries/ has %d", n, len(qs))
	}
	// decorators on an image that names itself
	img := t.TempDir()
	os.MkdirAll(filepath.Join(img, "etc"), 0o755)
	os.WriteFile(filepath.Join(img, "etc/hostname"), []byte("web1.example.org\n"), 0o644)
	os.WriteFile(filepath.Join(img, "etc/machine-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o644)
	var decorated []string
	for _, d := range readJSON(t, "osquery.conf.example")["decorators"].(map[string]any)["load"].([]any) {
		rows := runSQL(t, newEngine(t, img), "decorator", d.(string))
		if len(rows) != 1 {
			t.Fatalf("decorator %q: %q, want one row", d, rows)
		}
		decorated = append(decorated, rows[0]...)
	}
	if got, want := strings.Join(decorated, " "), "01234567-89AB-CDEF-0123-456789ABCDEF web1.example.org"; got != want {
		t.Errorf("decorations %q, want %q", got, want)
	}
	for _, f := range []string{"queries.yml", "reports.yml", "policies.yml", "gitops.yml"} {
		for _, q := range fleetQueries(t, f) {
			runSQL(t, e, f+" "+q[0], q[1])
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestPoliciesInvertDetections: a policy passes (returns a row) exactly
// when its detection finds nothing, on a root where detections fire and on
// an empty one.
func TestPoliciesInvertDetections(t *testing.T) {
	qs, _ := querydef.Load(queries.FS)
	fired := 0
	for _, root := range []string{"../../test/roots/planted", t.TempDir()} {
		e := newEngine(t, root)
		for _, q := range qs {
			if q.Kind != "detection" {
				continue
			}
			found := len(runSQL(t, e, q.ID, q.SQL)) > 0
			passes := len(runSQL(t, e, q.ID+" policy", PolicySQL(q))) > 0
			if found == passes {
				t.Errorf("%s on %s: detection found rows %t, policy passes %t", q.ID, root, found, passes)
			}
			if found {
				fired++
			}
		}
	}
	if fired == 0 {
		t.Error("no detection fired on the planted root: the inverse case went untested")
	}
}

// TestExampleConfigSchema checks the example configuration and both packs
// against testdata/osquery-config.schema.json, which encodes the rules
// osquery applies when it loads a config (each rule cites its source in
// the schema's $comment), and checks the schema rejects breaches of them.
func TestExampleConfigSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	data, err := os.ReadFile("testdata/osquery-config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://pkgpersist.invalid/osquery-config.schema.json"
	if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	config := c.MustCompile(url)
	pack := c.MustCompile(url + "#/$defs/pack")

	cfg := readJSON(t, "osquery.conf.example")
	if err := config.Validate(cfg); err != nil {
		t.Errorf("osquery.conf.example: %v", err)
	}
	if err := config.Validate(readJSON(t, ConfFragment)); err != nil {
		t.Errorf("%s: %v", ConfFragment, err)
	}
	if fim := asList(cfg["file_paths"].(map[string]any)[FIMCategory]); len(fim) == 0 {
		t.Error("no FIM paths for file_events")
	}
	for name, p := range packFiles(t) {
		if err := pack.Validate(p); err != nil {
			t.Errorf("pack %s: %v", name, err)
		}
	}

	breaches := map[string]string{
		"root not an object":       `[]`,
		"CLI-only flag in options": `{"options": {"extensions_require": "pkgpersist"}}`,
		"parser key not a list":    `{"file_paths": "/etc/%%"}`,
		"FIM pattern not a string": `{"file_paths": {"x": [1]}}`,
		"decorator not SQL":        `{"decorators": {"load": "SELECT 1"}}`,
		"decorator interval name":  `{"decorators": {"interval": {"hourly": ["SELECT 1"]}}}`,
		"pack is a number":         `{"packs": {"p": 3}}`,
		"interval above a week":    `{"packs": {"p": {"queries": {"q": {"query": "SELECT 1", "interval": 604801}}}}}`,
		"interval zero":            `{"schedule": {"q": {"query": "SELECT 1", "interval": 0}}}`,
		"query missing":            `{"schedule": {"q": {"interval": 60}}}`,
		"unknown platform":         `{"schedule": {"q": {"query": "SELECT 1", "interval": 60, "platform": "freebsd"}}}`,
		"name ending in epoch":     `{"schedule": {"qepoch": {"query": "SELECT 1", "interval": 60}}}`,
		"blacklist key":            `{"schedule": {"q": {"query": "SELECT 1", "interval": 60, "blacklist": false}}}`,
		"discovery not a list":     `{"packs": {"p": {"discovery": "SELECT 1", "queries": {"q": {"query": "SELECT 1", "interval": 60}}}}}`,
	}
	for what, doc := range breaches {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if config.Validate(v) == nil {
			t.Errorf("schema accepts %s: %s", what, doc)
		}
	}
}

// TestConfFragment: the conf.d fragment a host with its own osquery.conf
// adds holds the example's packs and FIM paths and nothing else, so it
// changes none of the host's options or decorations.
func TestConfFragment(t *testing.T) {
	frag, example := readJSON(t, ConfFragment), readJSON(t, "osquery.conf.example")
	for key := range frag {
		if key != "packs" && key != "file_paths" {
			t.Errorf("%s sets %q: it may hold only packs and file_paths", ConfFragment, key)
		}
	}
	for _, key := range []string{"packs", "file_paths"} {
		got, _ := json.Marshal(frag[key])
		want, _ := json.Marshal(example[key])
		if len(got) < 3 || !bytes.Equal(got, want) {
			t.Errorf("%s %s = %s, want the example's %s", ConfFragment, key, got, want)
		}
	}
	// osquery reads <config_path>.d/%.conf (plugins/config/filesystem_config.cpp)
	if filepath.Dir(ConfFragment) != "osquery.conf.d" || filepath.Ext(ConfFragment) != ".conf" {
		t.Errorf("%s is not a file osquery's filesystem plugin reads beside osquery.conf", ConfFragment)
	}
}

// flagNames reads a committed flag file: the name of each flag line, in
// order; any other line but a comment fails (gflags takes a line that is
// neither for a program name and skips the flags after it).
func flagNames(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(committed, name))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "--") && strings.Contains(line, "=") && strings.TrimSpace(line) == line:
			names = append(names, strings.SplitN(line[2:], "=", 2)[0])
		default:
			t.Errorf("%s: %q is neither a comment nor --name=value", name, line)
		}
	}
	return names
}

// TestFlagFiles: the lines a host adds are the whole example's but its
// config path, each flag in one file only, so adding both files sets each
// flag once.
func TestFlagFiles(t *testing.T) {
	ext, events := flagNames(t, ExtensionFlags), flagNames(t, EventFlags)
	if !slices.Contains(ext, "extensions_require") || !slices.Contains(events, "disable_events") {
		t.Errorf("%s = %q, %s = %q: the extension's and the event flags are apart", ExtensionFlags, ext, EventFlags, events)
	}
	seen := map[string]bool{}
	for _, n := range append(append([]string{}, ext...), events...) {
		if seen[n] {
			t.Errorf("--%s is set twice", n)
		}
		seen[n] = true
	}
	want := append(append([]string{"config_path"}, ext...), events...)
	if got := flagNames(t, "osquery.flags.example"); !slices.Equal(got, want) {
		t.Errorf("osquery.flags.example sets %q, want %q", got, want)
	}
}
