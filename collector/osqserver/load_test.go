package osqserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
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

// TestLoad: 5,000 hosts enroll, fetch the config, send 10 log batches each
// and answer one distributed hunt, over loopback TLS. Every row must
// arrive exactly once and no request may fail.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	opt := DefaultOptions
	opt.NewHostRate = 0 // the whole fleet enrolls at once here
	s := start(t, opt)
	client := sharedClient(t, s, 64)
	var failed atomic.Int64
	var firstErr atomic.Value
	hosts := make([]*osqueryd, loadHosts)
	for i := range hosts {
		hosts[i] = &osqueryd{t: t, http: client, base: s.url, host: fmt.Sprintf("host-%05d", i), prefix: "/api/osquery/"}
	}
	// each worker drives its share of the hosts through fn
	each := func(fn func(o *osqueryd) error) {
		var wg sync.WaitGroup
		jobs := make(chan *osqueryd)
		for w := 0; w < 64; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for o := range jobs {
					if err := fn(o); err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Errorf("%s: %w", o.host, err))
					}
				}
			}()
		}
		for _, o := range hosts {
			jobs <- o
		}
		close(jobs)
		wg.Wait()
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
			var data []any
			for r := 0; r < loadBatchRows; r++ {
				data = append(data, map[string]any{"name": "pack_pkgpersist_unowned-hooks", "hostIdentifier": o.host,
					"unixTime": 1795377600 + b, "epoch": 0, "counter": b, "action": "added",
					"columns": map[string]any{"path": fmt.Sprintf("/etc/apt/apt.conf.d/%02d-%d", b, r), "line": r}})
			}
			if _, err := ok(o, "log", map[string]any{"log_type": "result", "data": data}); err != nil {
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

	// one distributed hunt of two queries across every host
	nodes, err := s.st.Nodes(context.Background())
	if err != nil || len(nodes) != loadHosts {
		t.Fatalf("%d nodes, %v", len(nodes), err)
	}
	var targets []hunt.Target
	for _, n := range nodes {
		targets = append(targets, &hunt.Enrolled{Queue: s.st, Host: n.Host, HostID: n.HostID, Poll: time.Second})
	}
	qs := []*querydef.Query{
		{ID: "q1", Kind: "detection", SQL: "SELECT 1"},
		{ID: "q2", Kind: "inventory", SQL: "SELECT 2"},
	}
	type summary struct {
		sum hunt.Summary
		err error
	}
	done := make(chan summary, 1)
	go func() {
		sum, err := hunt.Run(context.Background(), s.st, targets, qs, hunt.Options{Parallel: loadHosts, Timeout: 5 * time.Minute, Transport: "osquery-tls"})
		done <- summary{sum, err}
	}()
	each(func(o *osqueryd) error {
		for deadline := time.Now().Add(4 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			r, err := ok(o, "distributed/read", map[string]any{})
			if err != nil {
				return err
			}
			queries, _ := r["queries"].(map[string]any)
			answers, statuses := map[string]any{}, map[string]any{}
			hunted := false
			for id := range queries {
				rows := []map[string]string{}
				if _, q, ok := store.ParseDistributedID(id); ok {
					hunted = true
					if q == hunt.CoverageID {
						// the coverage query every hunt runs: all read
						rows = append(rows, map[string]string{"source": "apt_hooks", "path": "", "status": "complete", "cause": "", "reason": ""})
					} else {
						for i := 0; i < loadHuntRows; i++ {
							rows = append(rows, map[string]string{"host": o.host, "query": q, "i": fmt.Sprint(i)})
						}
					}
				}
				answers[id], statuses[id] = rows, "0"
			}
			if len(queries) > 0 {
				if _, err := ok(o, "distributed/write", map[string]any{"queries": answers, "statuses": statuses}); err != nil {
					return err
				}
			}
			if hunted {
				return nil
			}
		}
		return fmt.Errorf("no hunt arrived")
	})
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d hosts failed in the hunt; first: %v", n, firstErr.Load())
	}
	rows := 0
	for _, h := range res.sum.Hosts {
		if h.State != store.StateOK {
			t.Fatalf("%s: %s: %q", h.Host, h.State, h.Reasons)
		}
		rows += h.Rows
	}
	// each host: loadHuntRows a query, and one coverage row
	want := loadHosts * (len(qs)*loadHuntRows + 1)
	if rows != want {
		t.Errorf("hunt stored %d rows, want %d", rows, want)
	}
	changes, err := s.st.Diff(context.Background(), store.Window{Run: res.sum.RunID})
	if err != nil || len(changes) != want {
		t.Errorf("diff of the hunt: %d changes, want %d (%v)", len(changes), want, err)
	}
	if n := s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="rate_limited"`); n != 0 {
		t.Errorf("%d requests rate limited", n)
	}
}
