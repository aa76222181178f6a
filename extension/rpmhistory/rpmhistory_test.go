package rpmhistory

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// dnf5Schema is the part of libdnf5's history schema
// (libdnf5/transaction/db/sql/create_tables.sql) the reader queries.
const dnf5Schema = `
CREATE TABLE trans (id INTEGER PRIMARY KEY AUTOINCREMENT, dt_begin INTEGER NOT NULL, dt_end INTEGER,
	rpmdb_version_begin TEXT, rpmdb_version_end TEXT, releasever TEXT NOT NULL, user_id INTEGER NOT NULL,
	description TEXT, comment TEXT, state_id INTEGER);
CREATE TABLE repo (id INTEGER PRIMARY KEY, repoid TEXT NOT NULL);
CREATE TABLE pkg_name (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE arch (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE item (id INTEGER PRIMARY KEY);
CREATE TABLE trans_item (id INTEGER PRIMARY KEY AUTOINCREMENT, trans_id INTEGER, item_id INTEGER, repo_id INTEGER,
	action_id INTEGER NOT NULL, reason_id INTEGER NOT NULL, state_id INTEGER NOT NULL);
CREATE TABLE rpm (item_id INTEGER NOT NULL UNIQUE, name_id INTEGER NOT NULL, epoch INTEGER NOT NULL,
	version TEXT NOT NULL, release TEXT NOT NULL, arch_id INTEGER NOT NULL);
INSERT INTO repo VALUES (1, 'fedora'), (2, '@commandline'), (3, '@System');
INSERT INTO pkg_name VALUES (1, 'bash'), (2, 'agent'), (3, 'gone');
INSERT INTO arch VALUES (1, 'x86_64');
INSERT INTO item VALUES (1), (2), (3), (4);
INSERT INTO rpm VALUES (1, 1, 0, '5.2', '1.fc41', 1), (2, 2, 3, '1.0', '1', 1), (3, 3, 0, '1', '1', 1), (4, 1, 0, '5.1', '1.fc41', 1);
INSERT INTO trans VALUES (1, 1700000000, 1700000010, '', '', '41', 0, 'dnf5 install bash', '', 2);
INSERT INTO trans VALUES (2, 1700000100, 1700000110, '', '', '41', 1000, 'dnf5 install ./agent.rpm', '', 2);
INSERT INTO trans VALUES (3, 1700000200, 1700000210, '', '', '41', 0, 'dnf5 upgrade', '', 3);
-- bash installed, agent from a file, gone removed (5), bash 5.1 an upgrade that failed (state 3)
INSERT INTO trans_item VALUES (1, 1, 1, 1, 1, 2, 2), (2, 2, 2, 2, 1, 2, 2), (3, 2, 3, 3, 5, 2, 2), (4, 3, 4, 1, 2, 2, 3);
`

// writeDB creates file with the statements; with log set, the database
// is in WAL mode and everything after the schema stays in its log.
func writeDB(t *testing.T, file, schema, rows string, log bool) {
	t.Helper()
	dir := t.TempDir()
	tmp := filepath.Join(dir, "db")
	dsn := tmp
	if log {
		dsn += "?_journal_mode=WAL"
	}
	db, err := sql.Open("sqlite3", dsn)
	must(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec("PRAGMA wal_autocheckpoint=0;" + schema)
	must(t, err)
	if log {
		_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		must(t, err)
	}
	_, err = db.Exec(rows)
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(file), 0o755))
	for _, suffix := range []string{"", "-wal"} {
		if b, err := os.ReadFile(tmp + suffix); err == nil {
			must(t, os.WriteFile(file+suffix, b, 0o644))
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, root string) (*History, []fsroot.Problem) {
	t.Helper()
	probs := &fsroot.Problems{}
	ctx := fsroot.WithProblems(context.Background(), probs)
	fs, err := fsroot.OpenContext(ctx, root)
	must(t, err)
	defer fs.Close()
	h := Load(ctx, fs)
	return h, probs.List()
}

// TestDNF5: the items that put a version on the system, in a history
// whose rows are all in the write-ahead log; removals and failed items
// are not installs.
func TestDNF5(t *testing.T) {
	root := t.TempDir()
	schema, rows, _ := strings.Cut(dnf5Schema, "INSERT")
	writeDB(t, filepath.Join(root, DNF5), schema, "INSERT"+rows, true)
	h, probs := load(t, root)
	if len(probs) != 0 || len(h.Files) != 1 || h.First != 1700000000 {
		t.Fatalf("files %v, first %d, problems %v", h.Files, h.First, probs)
	}
	bash, ok := h.Find(NEVRA{"bash", 0, "5.2", "1.fc41", "x86_64"})
	if !ok || bash.Repo != "fedora" || bash.Cmdline != "dnf5 install bash" || bash.User != "0" || bash.Action != "install" || bash.Reason != "user" || bash.Manager != "dnf5" {
		t.Errorf("bash: %+v", bash)
	}
	agent, ok := h.Find(NEVRA{"agent", 3, "1.0", "1", "x86_64"})
	if !ok || agent.Repo != "@commandline" || !FromFile(agent.Repo) || agent.User != "1000" || agent.Trans != 2 {
		t.Errorf("agent: %+v", agent)
	}
	for _, n := range []NEVRA{{"gone", 0, "1", "1", "x86_64"}, {"bash", 0, "5.1", "1.fc41", "x86_64"}, {"agent", 0, "1.0", "1", "x86_64"}} {
		if r, ok := h.Find(n); ok {
			t.Errorf("%v: %+v, want none (removed, failed, other epoch)", n, r)
		}
	}
}

// TestDNF4Real reads a history Debian's dnf 4.14 wrote (installing
// fromrepo and its dependency base from a repository "local", then a
// file), as its transactions show it (`dnf history info`).
func TestDNF4Real(t *testing.T) {
	root := t.TempDir()
	b, err := os.ReadFile("testdata/dnf4-history.sqlite")
	must(t, err)
	must(t, os.MkdirAll(filepath.Join(root, filepath.Dir(DNF4)), 0o755))
	must(t, os.WriteFile(filepath.Join(root, DNF4), b, 0o644))
	h, probs := load(t, root)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	for name, want := range map[string]string{"base": "local", "fromrepo": "local", "fromfile": "@commandline"} {
		n := NEVRA{name, 0, "2", "3", "noarch"}
		if name == "base" {
			n.Version, n.Release = "1", "1"
		}
		r, ok := h.Find(n)
		if !ok || r.Repo != want || r.User != "" || r.Manager != "dnf" || !strings.Contains(r.Cmdline, "install") {
			t.Errorf("%s: %+v, want repository %s", name, r, want)
		}
	}
}

// TestHostileRows: a row whose columns hold what DNF never writes is a
// problem of the database, and the other rows are still read.
func TestHostileRows(t *testing.T) {
	root := t.TempDir()
	schema, rows, _ := strings.Cut(dnf5Schema, "INSERT")
	writeDB(t, filepath.Join(root, DNF5), schema, "INSERT"+rows+`
		INSERT INTO item VALUES (5), (6);
		INSERT INTO rpm VALUES (5, 1, 'x', '1', '1', 1), (6, 1, -4, '2', '1', 1);
		INSERT INTO trans_item VALUES (5, 1, 5, 1, 1, 2, 2), (6, 1, 6, 1, 1, 2, 2);`, false)
	h, probs := load(t, root)
	if _, ok := h.Find(NEVRA{"bash", 0, "5.2", "1.fc41", "x86_64"}); !ok {
		t.Error("the good rows are not read")
	}
	if len(probs) != 1 || probs[0].Path != DNF5 || !strings.Contains(probs[0].Detail, "transaction item") {
		t.Errorf("problems %v, want one of %s", probs, DNF5)
	}
}

// TestYumDB reads yumdb's per-package attribute files.
func TestYumDB(t *testing.T) {
	root := t.TempDir()
	for dir, attrs := range map[string]map[string]string{
		"b/0123abcd-bash-4.2.46-34.el7-x86_64": {"from_repo": "base", "command_line": "install bash", "installed_by": "4294967295", "reason": "user"},
		"v/89ef-vendor-agent-2.0-1-x86_64":     {"from_repo": "/vendor-agent-2.0-1.x86_64", "installed_by": "1000"},
		"x/not-a-package":                      {"from_repo": "base"},
		"z/0123-bash-1-1-x86_64":               {"from_repo": "base"},
	} {
		p := filepath.Join(root, YumDB, dir)
		must(t, os.MkdirAll(p, 0o755))
		for k, v := range attrs {
			must(t, os.WriteFile(filepath.Join(p, k), []byte(v), 0o644))
		}
	}
	h, probs := load(t, root)
	bash, ok := h.Find(NEVRA{"bash", 0, "4.2.46", "34.el7", "x86_64"})
	if !ok || bash.Repo != "base" || bash.Cmdline != "install bash" || bash.User != "" || bash.Reason != "user" || bash.Manager != "yum" {
		t.Errorf("bash: %+v", bash)
	}
	agent, ok := h.Find(NEVRA{"vendor-agent", 7, "2.0", "1", "x86_64"})
	if !ok || !FromFile(agent.Repo) || agent.User != "1000" {
		t.Errorf("vendor-agent: %+v", agent)
	}
	if len(probs) != 2 {
		t.Errorf("problems %v, want the two misnamed directories", probs)
	}
}

func TestParseYumDBName(t *testing.T) {
	for _, c := range []struct {
		letter, dir string
		want        NEVRA
		bad         bool
	}{
		{"k", "abc-kernel-3.10.0-1160.el7-x86_64", NEVRA{"kernel", -1, "3.10.0", "1160.el7", "x86_64"}, false},
		{"p", "abc-python-libs-2.7.5-90.el7-x86_64", NEVRA{"python-libs", -1, "2.7.5", "90.el7", "x86_64"}, false},
		{"k", "abc-3.10.0-1160.el7-x86_64", NEVRA{}, true},
		{"k", "-kernel-1-1-x86_64", NEVRA{}, true},
		{"k", "abc-kernel--1-x86_64", NEVRA{}, true},
		{"x", "abc-kernel-1-1-x86_64", NEVRA{}, true},
	} {
		got, err := ParseYumDBName(c.letter, c.dir)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("%s/%s: %+v, %v", c.letter, c.dir, got, err)
		}
	}
}
