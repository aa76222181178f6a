package osqserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/queries"
)

// Load-test shape: hosts, log batches per host, event rows per batch, and
// the rows each host returns to each of the hunt's queries.
const (
	loadHosts     = 5000
	loadBatches   = 10
	loadBatchRows = 5
	loadHuntRows  = 3
)

// sharedClient is one transport for many simulated hosts, as a few hundred
// connections carry them (a process cannot hold 5,000 of its own).
func sharedClient(t testing.TB, s *testServer, conns int) *http.Client {
	pem, err := os.ReadFile(s.certs)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
}

// TestLoad: 5,000 hosts enroll, fetch the config and send 10 log batches
// each over loopback TLS; then they keep checking in while pkgpersist hunt
// --enrolled hunts them three times in a row, as its own process on the
// same database. Every row must arrive exactly once, no request may fail,
// every host the hunt printed ok is stored, and nothing anywhere says
// "database is locked". It takes minutes: make test-load runs it.
func TestLoad(t *testing.T) {
	if os.Getenv("PKGPERSIST_LOAD") == "" {
		t.Skip("the 5,000-host load test runs with make test-load (PKGPERSIST_LOAD=1)")
	}
	opt := DefaultOptions
	opt.NewHostRate = 0 // the whole fleet enrolls at once here
	s := start(t, opt)
	client := sharedClient(t, s, 64)
	hosts := make([]*osqueryd, loadHosts)
	for i := range hosts {
		hosts[i] = &osqueryd{t: t, http: client, base: s.url, host: fmt.Sprintf("host-%05d", i), prefix: "/api/osquery/"}
	}
	// each worker drives its share of the hosts through fn
	var failed atomic.Int64
	var firstErr atomic.Value
	each := func(fn func(o *osqueryd) error) {
		n, err := drive(hosts, 64, fn)
		if failed.Add(n); n > 0 {
			firstErr.CompareAndSwap(nil, err)
		}
	}
	ok := func(o *osqueryd, path string, body map[string]any) (map[string]any, error) {
		body["node_key"] = o.nodeKey
		code, r, err := o.try(path, body)
		if err != nil {
			return nil, err
		}
		if code != 200 || r["error"] != nil || r["node_invalid"] == true {
			return nil, fmt.Errorf("%s: %d %v", path, code, r)
		}
		return r, nil
	}
	each(func(o *osqueryd) error {
		_, err := ok(o, "enroll", map[string]any{"enroll_secret": secret, "host_identifier": o.host,
			"host_details": map[string]any{"osquery_info": map[string]string{"version": "5.12.1"}}})
		return err
	})
	each(func(o *osqueryd) error {
		if _, err := ok(o, "config", map[string]any{}); err != nil {
			return err
		}
		for b := 0; b < loadBatches; b++ {
			if _, err := ok(o, "log", logBatch(o.host, b, loadBatchRows)); err != nil {
				return err
			}
		}
		return nil
	})
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d hosts failed before the hunt; first: %v", n, firstErr.Load())
	}
	if n, _ := s.st.CountLogged(context.Background(), ""); n != loadHosts*loadBatches*loadBatchRows {
		t.Errorf("stored %d logged rows, want %d", n, loadHosts*loadBatches*loadBatchRows)
	}

	// the hosts keep checking in (distributed reads, answers, a log batch
	// now and then) while pkgpersist hunt --enrolled, a process of its
	// own on the same database, hunts them three times in a row
	stop := make(chan struct{})
	checkins := make(chan struct{})
	go func() {
		defer close(checkins)
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			each(func(o *osqueryd) error { return checkIn(o, ok, round) })
		}
	}()
	qdir := huntQueries(t)
	for round := 1; round <= 3; round++ {
		start := time.Now()
		runID, printedOK, out, err := huntEnrolled(s.db, loadHosts, qdir)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("hunt %d: %s (%v)", round, regexp.MustCompile(`(?m)^pkgpersist: run \d+: .*$`).FindString(out), time.Since(start).Round(time.Second))
		if l := regexp.MustCompile(`(?m)^pkgpersist: .* was held by other writers: .*$`).FindString(out); l != "" {
			t.Log(l)
		}
		if strings.Contains(out, "locked") {
			t.Errorf("hunt %d: %s", round, out)
		}
		if len(printedOK) != loadHosts {
			t.Errorf("hunt %d: %d of %d hosts ok", round, len(printedOK), loadHosts)
		}
		outcomes, err := s.st.HostOutcomes(context.Background(), runID)
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]string{}
		for _, o := range outcomes {
			stored[o.Host] = o.State
		}
		for _, h := range printedOK {
			if stored[h] != store.StateOK {
				t.Fatalf("hunt %d: %s printed ok, stored %q", round, h, stored[h])
			}
		}
		// each host: loadHuntRows a query, and one coverage row, all new
		// in the first hunt and unchanged after
		want := loadHosts * (len(huntFiles)*loadHuntRows + 1)
		if round > 1 {
			want = 0
		}
		changes, err := s.st.Diff(context.Background(), store.Window{Run: runID})
		if err != nil || len(changes) != want {
			t.Errorf("hunt %d: diff of the run: %d changes, want %d (%v)", round, len(changes), want, err)
		}
		cur, err := s.st.Current(context.Background(), "", "")
		if err != nil || len(cur) != loadHosts*(len(huntFiles)*loadHuntRows+1) {
			t.Errorf("hunt %d: %d current rows, want %d (%v)", round, len(cur), loadHosts*(len(huntFiles)*loadHuntRows+1), err)
		}
	}
	close(stop)
	<-checkins
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d check-ins failed during the hunts; first: %v", n, firstErr.Load())
	}
	if strings.Contains(s.logs.String(), "locked") {
		t.Errorf("the server logged 'locked'")
	}
	t.Logf("store contention in the server: %+v", s.st.Contention())
	if n := s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="rate_limited"`); n != 0 {
		t.Errorf("%d requests rate limited", n)
	}
}

// checkIn is one round of a host's check-in: a distributed read, the
// answers to what it handed out (a hunt's queries: loadHuntRows rows each,
// the coverage query all complete), and every fourth round a log batch.
func checkIn(o *osqueryd, ok func(*osqueryd, string, map[string]any) (map[string]any, error), round int) error {
	r, err := ok(o, "distributed/read", map[string]any{})
	if err != nil {
		return err
	}
	handed, _ := r["queries"].(map[string]any)
	answers, statuses := map[string]any{}, map[string]any{}
	for id := range handed {
		rows := []map[string]string{}
		if _, q, ok := store.ParseDistributedID(id); ok {
			if q == hunt.CoverageID {
				rows = append(rows, map[string]string{"source": "apt_hooks", "path": "", "status": "complete", "cause": "", "reason": ""})
			} else {
				for i := 0; i < loadHuntRows; i++ {
					rows = append(rows, map[string]string{"host": o.host, "query": q, "i": fmt.Sprint(i)})
				}
			}
		}
		answers[id], statuses[id] = rows, "0"
	}
	if len(handed) > 0 {
		if _, err := ok(o, "distributed/write", map[string]any{"queries": answers, "statuses": statuses}); err != nil {
			return err
		}
	}
	if round%4 != 3 {
		return nil
	}
	data := []any{map[string]any{"name": "pack_pkgpersist_unowned-hooks", "hostIdentifier": o.host,
		"unixTime": 1795400000 + round, "epoch": 0, "counter": round, "action": "added",
		"columns": map[string]any{"path": fmt.Sprintf("/etc/apt/apt.conf.d/checkin-%d", round)}}}
	_, err = ok(o, "log", map[string]any{"log_type": "result", "data": data})
	return err
}

// huntFiles are the built-in queries the load test's hunts run (the hosts
// answer any query alike).
var huntFiles = []string{"unowned-hooks.sql", "download-in-hooks.sql"}

// huntQueries is a --queries directory of huntFiles.
func huntQueries(t *testing.T) string {
	dir := t.TempDir()
	for _, name := range huntFiles {
		b, err := fs.ReadFile(queries.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// huntEnrolled runs pkgpersist hunt --enrolled on db in a process of its
// own (this test binary as the command line, TestCLIHelper) and returns
// the run, the hosts it printed ok, and all it printed. A host has 15
// minutes to answer: on a busy machine a check-in round of 20,000 hosts
// beside three hunts' writes took over 5.
func huntEnrolled(db string, parallel int, qdir string) (int64, []string, string, error) {
	args := []string{"hunt", "--enrolled", "--db", db, "--queries", qdir, "--parallel", fmt.Sprint(parallel),
		"--timeout", "15m", "--format", "json"}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCLIHelper$")
	env, _ := json.Marshal(args)
	cmd.Env = append(os.Environ(), "PKGPERSIST_CLI_ARGS="+string(env))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	out := stderr.String()
	if err != nil {
		return 0, nil, out, fmt.Errorf("pkgpersist hunt --enrolled: %v\n%s", err, tail(out, 40))
	}
	m := regexp.MustCompile(`(?m)^pkgpersist: run (\d+): .*$`).FindStringSubmatch(out)
	if m == nil {
		return 0, nil, out, fmt.Errorf("no run summary:\n%s", tail(out, 40))
	}
	runID, _ := strconv.ParseInt(m[1], 10, 64)
	var printedOK []string
	for _, l := range regexp.MustCompile(`(?m)^pkgpersist: (\S+): ok \(`).FindAllStringSubmatch(out, -1) {
		printedOK = append(printedOK, l[1])
	}
	return runID, printedOK, out, nil
}

// waitedRetries is how many writes a command said waited for other
// writers and were tried again.
func waitedRetries(out string) int {
	m := regexp.MustCompile(`(\d+) writes waited and retried`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
