package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/report/ecscheck"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/queries"
)

// changeWords are the change words of every command.
var changeWords = []string{store.New, store.Present, store.Gone}

// projectQueries are the hunt's queries as the store keeps them.
func projectQueries(t *testing.T) []store.Query {
	t.Helper()
	files, err := fs.Glob(queries.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("queries: %v %v", files, err)
	}
	var qs []store.Query
	for _, f := range files {
		data, err := queries.FS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		q, err := querydef.Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, store.Query{ID: q.ID, Title: q.Title, Kind: q.Kind, SQL: q.SQL, Attack: q.Attack})
	}
	return qs
}

// goldenRows are the rows a query returns on the fixture roots (its
// goldens), so that the documents carry real values.
func goldenRows(t *testing.T, id string) []store.Row {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("../../queries/testdata/golden", id, "*.jsonl"))
	var rows []store.Row
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var r store.Row
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// TestECSValidates: every document the mapping makes — each query's golden
// rows, under every change word, command and host-name form — conforms to
// the pinned ECS release, type by type.
func TestECSValidates(t *testing.T) {
	cmds := []Command{Hunt, Diff, NewTerms}
	hosts := []string{"web1", "vm:test/roots/planted", "root@127.0.0.1:22422?root=/tmp/r", "127.0.0.1:22422", "[::1]:22"}
	var cs []store.Change
	var buf bytes.Buffer
	at := time.Date(2026, 11, 22, 11, 51, 0, 123, time.UTC)
	for _, q := range projectQueries(t) {
		rows := goldenRows(t, q.ID)
		if len(rows) == 0 {
			rows = []store.Row{{"path": "/etc/apt/apt.conf.d/99x", "command": "id"}}
		}
		// every row once, and the first row under every change word and command
		for i, r := range rows {
			cs = append(cs, store.Change{Host: hosts[i%len(hosts)], QueryID: q.ID, Kind: changeWords[i%len(changeWords)], RunID: int64(i), At: at, Row: r, Query: q})
		}
		for _, cmd := range cmds {
			for _, k := range changeWords {
				c := store.Change{Host: hosts[0], QueryID: q.ID, Kind: k, RunID: 1, At: at, Row: rows[0], Query: q}
				if err := WriteECS(&buf, Options{Command: cmd}, []store.Change{c}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := WriteECS(&buf, Options{Command: Diff}, cs); err != nil {
		t.Fatal(err)
	}
	n := ecscheck.Check(t, buf.Bytes())
	t.Logf("%d ECS documents valid against ECS %s", n, ECSVersion)
	if n < 500 {
		t.Errorf("only %d documents", n)
	}
}

// TestGoldenECSValidates: the ECS goldens other packages keep conform too.
func TestGoldenECSValidates(t *testing.T) {
	files, _ := filepath.Glob("../*/testdata/*.ecs.ndjson")
	if len(files) == 0 {
		t.Fatal("no ECS goldens")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if ecscheck.Check(t, data) == 0 {
			t.Errorf("%s: no documents", f)
		}
	}
}

// TestECSVersionIsPinned: the version the documents claim is the release
// they are validated against.
func TestECSVersionIsPinned(t *testing.T) {
	v, err := os.ReadFile(filepath.Join(ecscheck.Dir(), "version"))
	if err != nil || strings.TrimSpace(string(v)) != ECSVersion {
		t.Fatalf("testdata has ECS %q (%v), documents claim %s", v, err, ECSVersion)
	}
}

func get(doc map[string]any, path string) any {
	var v any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestECSMapping: what each field says, per query kind and change word.
func TestECSMapping(t *testing.T) {
	det := store.Query{ID: "unowned-hooks", Title: "Unowned hooks", Kind: "detection", Attack: []string{"T1546.016", "T1105"}}
	inv := store.Query{ID: "hooks-inventory", Title: "Hooks", Kind: "inventory", Attack: []string{"T1546.016"}}
	evq := store.Query{ID: "pkg-installs", Title: "Installs", Kind: "event", Attack: []string{"T1546.016"}}
	row := store.Row{"path": "/etc/apt/apt.conf.d/99x", "command": "curl x|sh"}
	for _, c := range []struct {
		q                store.Query
		change, cmd      string
		kind, typ        string
		severity, threat bool
	}{
		{det, "new", "hunt", "alert", "creation", true, true},
		{det, "present", "hunt", "alert", "info", true, true},
		{det, "new", "diff", "alert", "creation", true, true},
		{det, "gone", "diff", "event", "deletion", false, false},
		{det, "new", "new_terms", "alert", "creation", true, true},
		{inv, "new", "diff", "event", "creation", false, false},
		{inv, "present", "hunt", "state", "info", false, false},
		{inv, "gone", "diff", "event", "deletion", false, false},
		{evq, "present", "diff", "event", "info", false, false},
		{evq, "new", "diff", "event", "creation", false, false},
	} {
		name := c.q.Kind + "/" + c.change
		d := ECS(store.Change{Host: "web1", QueryID: c.q.ID, Kind: c.change, Row: row, Query: c.q}, Command(c.cmd), "")
		if got := fmt.Sprint(get(d, "event.kind"), get(d, "event.type"), get(d, "event.dataset"), get(d, "event.action")); got != fmt.Sprint(c.kind, []string{c.typ}, "pkgpersist."+c.cmd, c.change) {
			t.Errorf("%s: event %s", name, got)
		}
		if (get(d, "event.severity") != nil) != c.severity || (get(d, "threat") != nil) != c.threat {
			t.Errorf("%s: severity %v threat %v", name, get(d, "event.severity"), get(d, "threat"))
		}
		if get(d, "ecs.version") != ECSVersion || get(d, "rule.id") != c.q.ID || get(d, "rule.name") != c.q.Title {
			t.Errorf("%s: %v", name, d)
		}
	}
	d := ECS(store.Change{Host: "web1", QueryID: det.ID, Kind: "new", Row: row, Query: det}, Hunt, "")
	want := map[string]any{
		"framework": "MITRE ATT&CK",
		"technique": map[string]any{
			"id": []string{"T1546", "T1105"}, "name": []string{"Event Triggered Execution", "Ingress Tool Transfer"},
			"reference": []string{"https://attack.mitre.org/techniques/T1546/", "https://attack.mitre.org/techniques/T1105/"},
			"subtechnique": map[string]any{"id": []string{"T1546.016"}, "name": []string{"Installer Packages"},
				"reference": []string{"https://attack.mitre.org/techniques/T1546/016/"}},
		},
		"tactic": map[string]any{
			"id": []string{"TA0004", "TA0003", "TA0011"}, "name": []string{"Privilege Escalation", "Persistence", "Command and Control"},
			"reference": []string{"https://attack.mitre.org/tactics/TA0004/", "https://attack.mitre.org/tactics/TA0003/", "https://attack.mitre.org/tactics/TA0011/"},
		},
	}
	if fmt.Sprint(d["threat"]) != fmt.Sprint(want) {
		t.Errorf("threat:\n got %v\nwant %v", d["threat"], want)
	}
	if get(d, "event.severity") != severities["high"] || get(d, "file.path") != row["path"] || get(d, "process.command_line") != row["command"] {
		t.Errorf("alert: %v", d)
	}
	// an id the table does not know keeps its id and reference; no names
	u := threatECS([]string{"T9999.001"})
	if fmt.Sprint(u) != "map[framework:MITRE ATT&CK technique:map[id:[T9999] reference:[https://attack.mitre.org/techniques/T9999/] subtechnique:map[id:[T9999.001] reference:[https://attack.mitre.org/techniques/T9999/001/]]]]" {
		t.Errorf("unknown id: %v", u)
	}
}

// TestHostECS: host.name is the host's name; the root hunted goes in
// pkgpersist.root.
func TestHostECS(t *testing.T) {
	for host, want := range map[string][2]string{
		"web1":                                 {"web1", ""},
		"vm:test/roots/planted":                {"vm", "test/roots/planted"},
		"vm:/srv/image":                        {"vm", "/srv/image"},
		"root@127.0.0.1:22422?root=/tmp/a%20b": {"root@127.0.0.1:22422", "/tmp/a b"},
		"127.0.0.1:22422":                      {"127.0.0.1:22422", ""},
		"root@10.0.0.1:22":                     {"root@10.0.0.1:22", ""},
		"[::1]:22":                             {"[::1]:22", ""},
		"[::1]:22?root=/mnt":                   {"[::1]:22", "/mnt"},
	} {
		name, root := hostECS(host)
		if name != want[0] || root != want[1] {
			t.Errorf("%s: %q %q, want %q", host, name, root, want)
		}
		d := ECS(store.Change{Host: host, Kind: "new"}, Hunt, "")
		if get(d, "host.name") != want[0] || (want[1] != "") != (get(d, "pkgpersist.root") == want[1]) {
			t.Errorf("%s: %v %v", host, get(d, "host.name"), get(d, "pkgpersist.root"))
		}
	}
}

// TestAttackTableCoversQueries: every ATT&CK id a query cites, its parent
// and their tactics have names, so no document lacks them.
func TestAttackTableCoversQueries(t *testing.T) {
	for _, q := range projectQueries(t) {
		for _, id := range q.Attack {
			id = strings.TrimSpace(id)
			parent, _, _ := strings.Cut(id, ".")
			for _, x := range []string{id, parent} {
				te, ok := techniques[x]
				if !ok || len(te.tactics) == 0 {
					t.Errorf("%s: %s unknown", q.ID, x)
				}
				for _, ta := range te.tactics {
					if tactics[ta] == "" {
						t.Errorf("%s: tactic %s unknown", x, ta)
					}
				}
			}
		}
	}
}

// TestECSExtensionEvents: a pm_file_events row is a file event with the
// process that made it; the extension's exact argv is process.args, where
// osquery's cmdline would split a file name with a space in two.
func TestECSExtensionEvents(t *testing.T) {
	evq := store.Query{ID: "pm-writes", Title: "Writes", Kind: "event", Attack: []string{"T1546.016"}}
	row := store.Row{"action": "MOVED_TO", "target_path": "/etc/apt/apt.conf.d/99x", "pid": "7", "path": "/usr/bin/mv",
		"cmdline": "mv /tmp/a b /etc/apt/apt.conf.d/99x", "argv": `["mv","/tmp/a b","/etc/apt/apt.conf.d/99x"]`}
	d := ECS(store.Change{Host: "web1", QueryID: evq.ID, Kind: "new", Row: row, Query: evq}, Diff, "")
	if got := fmt.Sprintf("%v %v %v %v %v %v", get(d, "event.category"), get(d, "event.type"), get(d, "file.path"), get(d, "process.executable"), get(d, "process.pid"), get(d, "process.args")); got != "[file] [creation] /etc/apt/apt.conf.d/99x /usr/bin/mv 7 [mv /tmp/a b /etc/apt/apt.conf.d/99x]" || len(get(d, "process.args").([]string)) != 3 {
		t.Errorf("file event: %s", got)
	}
	row = store.Row{"path": "/usr/bin/rpm", "cmdline": "rpm -i /tmp/x -q.rpm", "argv": `["rpm","-i","/tmp/x -q.rpm"]`, "parent_path": "/usr/sbin/cron"}
	d = ECS(store.Change{Host: "web1", QueryID: "pm-installs", Kind: "new", Row: row, Query: evq}, Diff, "")
	if args := get(d, "process.args").([]string); len(args) != 3 || args[2] != "/tmp/x -q.rpm" || get(d, "process.parent.executable") != "/usr/sbin/cron" {
		t.Errorf("process event: %v", d["process"])
	}
}
