package hunt_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/hunt/hunttest"
	"github.com/pkgpersist/pkgpersist/collector/report"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/test/aptoracle"
)

// TestOneMachineManyNames: this machine hunted locally, then as
// ssh://root@127.0.0.1:P and ssh://127.0.0.1:P in one run, is one host in
// the store, named by its host name, with each name an alias; hunted
// again by all three names nothing is new and nothing changed.
func TestOneMachineManyNames(t *testing.T) {
	l := startLab(t)
	// osqueryi, where installed, reads more than the embedded engine does
	l.extraArgs = []string{"--remote-engine", "pkgpersist"}
	qdir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
	db := filepath.Join(t.TempDir(), "p.db")
	withUser := fmt.Sprintf("ssh://root@127.0.0.1:%d", l.ports[0])
	without := fmt.Sprintf("ssh://127.0.0.1:%d", l.ports[1])
	local, _ := os.Hostname()
	wantHost := firstLine(t, "/etc/hostname", local)

	hunt := func(round string, targets ...string) map[string]int {
		t.Helper()
		code, out, errs := l.huntOut(t, db, qdir, targets...)
		hunttest.WantClean(t, code, errs)
		var rows []report.Record
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%s: hunt output: %v\n%s", round, err, out)
		}
		n := map[string]int{}
		for _, r := range rows {
			n[r.Host+" "+r.Change]++
		}
		return n
	}
	first := hunt("local")
	if first[wantHost+" new"] == 0 || len(first) != 1 {
		t.Fatalf("local hunt: %v, want new findings on %s", first, wantHost)
	}
	if got := hunt("both SSH names", withUser, without); len(got) != 1 || got[wantHost+" present"] != first[wantHost+" new"] {
		t.Fatalf("this machine over SSH: %v, want only the %d findings of the local hunt present", got, first[wantHost+" new"])
	}
	if got := hunt("local again"); len(got) != 1 || got[wantHost+" present"] != first[wantHost+" new"] {
		t.Fatalf("local again: %v", got)
	}

	sdb, err := sql.Open("sqlite3", db)
	must(t, err)
	var hosts, runs, changes int
	var aliases string
	must(t, sdb.QueryRow(`SELECT count(*), (SELECT group_concat(alias, ' ') FROM (SELECT alias FROM host_aliases ORDER BY alias)),
		(SELECT count(DISTINCT run_id) FROM host_runs), (SELECT count(DISTINCT run_id) FROM changes) FROM hosts`).Scan(&hosts, &aliases, &runs, &changes))
	sdb.Close()
	want := strings.Join([]string{strings.TrimPrefix(without, "ssh://"), strings.TrimPrefix(withUser, "ssh://"), local}, " ")
	if hosts != 1 || aliases != want || runs != 3 || changes != 1 {
		t.Fatalf("store: %d hosts, aliases %q (want %q), %d runs stored, %d with changes (want 1 host, 3 runs, 1)", hosts, aliases, want, runs, changes)
	}
	st, err := store.Open(db)
	must(t, err)
	defer st.Close()
	for _, name := range []string{local, strings.TrimPrefix(withUser, "ssh://"), strings.TrimPrefix(without, "ssh://")} {
		cs, err := st.Diff(context.Background(), store.Window{Run: 2, Host: name})
		must(t, err)
		if len(cs) != 0 {
			t.Errorf("run 2 by %s changed %d rows: %+v", name, len(cs), cs[0])
		}
	}
}

// firstLine is a file's first line, or def when it has none.
func firstLine(t *testing.T, path, def string) string {
	data, err := os.ReadFile(path)
	if line, _, _ := strings.Cut(string(data), "\n"); err == nil && strings.TrimSpace(line) != "" {
		return strings.TrimSpace(line)
	}
	return def
}

// storedName is the name of the host target reached in db: the host of
// its alias, or (a host that said no identity) its own.
func storedName(t *testing.T, db, target string) string {
	t.Helper()
	sdb, err := sql.Open("sqlite3", db)
	must(t, err)
	defer sdb.Close()
	alias := strings.TrimPrefix(target, "ssh://")
	var name string
	must(t, sdb.QueryRow(`SELECT coalesce((SELECT h.name FROM host_aliases a JOIN hosts h ON h.id = a.host_id WHERE a.alias = ?1),
		(SELECT name FROM hosts WHERE name = ?1))`, alias).Scan(&name))
	return name
}

// roots are n copies of the fixture roots fxs: n machines' worth of
// files on this one.
func roots(t testing.TB, n int, fxs ...string) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		for _, fx := range fxs {
			must(t, aptoracle.CopyTree(filepath.Join("../../test/roots", fx), dir))
		}
		out = append(out, dir)
	}
	return out
}
