package osqserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/test/pgtest"
)

// The replica load test's shape: the log batches each host sends before
// the hunts, and the workers driving the hosts.
const (
	fleetBatches = 2
	fleetWorkers = 96
)

// TestLoadReplicas: 20,000 hosts over two serve processes on one
// PostgreSQL, switching replica at every request. They enroll, fetch the
// config and send their log batches; then three pkgpersist hunt
// --enrolled processes hunt them all at once while they keep checking
// in, and one replica is killed (SIGKILL) mid-hunt: its hosts carry on
// through the other. Every log row a host had acknowledged is stored
// exactly once, every host each hunt printed ok is stored ok, and the
// hunts' answers are all there. It takes minutes: make test-load runs it.
func TestLoadReplicas(t *testing.T) {
	if os.Getenv("PKGPERSIST_LOAD") == "" {
		t.Skip("the 20,000-host replica load test runs with make test-load (PKGPERSIST_LOAD=1)")
	}
	began := time.Now()
	ctx := context.Background()
	pg := pgtest.Start(t, "fsync=off", "synchronous_commit=off", "max_connections=200", "shared_buffers=256MB")
	dsn := pg.NewDatabase(t)
	dir := t.TempDir()
	crt, err := Certificate("", "", filepath.Join(dir, "replicas"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "secret"), []byte(secret), 0o600)
	os.WriteFile(filepath.Join(dir, "token"), []byte("metrics-token"), 0o600)
	var replicas []*serveProc
	for i := 0; i < 2; i++ {
		replicas = append(replicas, startServe(t, "--db", dsn, "--enroll-secret-file", filepath.Join(dir, "secret"),
			"--tls-cert", crt.Path, "--tls-key", strings.TrimSuffix(crt.Path, ".crt")+".key", "--metrics-token-file", filepath.Join(dir, "token"),
			"--new-host-rate", "0", "--max-concurrent", "16"))
	}
	f := newFleet(t, crt.Path, []string{replicas[0].url, replicas[1].url}, fleetHosts)
	phase := func(name string, workers int, fn func(o *osqueryd) error) {
		t.Helper()
		start, before := time.Now(), f.requests.Load()
		if n, err := drive(f.hosts, workers, fn); n > 0 {
			t.Fatalf("%s: %d hosts failed; first: %v", name, n, err)
		}
		d := time.Since(start)
		t.Logf("%s: %d requests in %v (%.0f/s), %d retries so far", name, f.requests.Load()-before, d.Round(time.Millisecond),
			float64(f.requests.Load()-before)/d.Seconds(), f.retries.Load())
	}
	phase("enroll", fleetWorkers, func(o *osqueryd) error {
		r, err := f.send(o, "enroll", map[string]any{"enroll_secret": secret, "host_identifier": o.host,
			"host_details": map[string]any{"osquery_info": map[string]string{"version": "5.12.1"}}})
		if err == nil {
			o.nodeKey, _ = r["node_key"].(string)
		}
		return err
	})
	phase("config and logs", fleetWorkers, func(o *osqueryd) error {
		if _, err := f.send(o, "config", map[string]any{}); err != nil {
			return err
		}
		for b := 0; b < fleetBatches; b++ {
			if _, err := f.send(o, "log", logBatch(o.host, b, loadBatchRows)); err != nil {
				return err
			}
		}
		return nil
	})

	// three hunts at once, each its own process, while the hosts check in
	// round after round; a replica is killed mid-way through the hunts
	qdir := huntQueries(t)
	type hunted struct {
		runID     int64
		printedOK []string
		out       string
		err       error
		took      time.Duration
	}
	hunts := make([]hunted, 3)
	var huntsDone sync.WaitGroup
	huntStart := time.Now()
	for i := range hunts {
		huntsDone.Add(1)
		go func(h *hunted) {
			defer huntsDone.Done()
			start := time.Now()
			h.runID, h.printedOK, h.out, h.err = huntEnrolled(dsn, fleetHosts, qdir)
			h.took = time.Since(start)
		}(&hunts[i])
	}
	stop := make(chan struct{})
	go func() { huntsDone.Wait(); close(stop) }()
	var answered atomic.Int64
	killedAt := time.Duration(0)
	var kill sync.Once
	checkins := 0
	for round := 0; ; round++ {
		select {
		case <-stop:
		default:
			phase(fmt.Sprintf("check-in round %d", round), fleetWorkers, func(o *osqueryd) error {
				err := checkIn(o, func(o *osqueryd, path string, body map[string]any) (map[string]any, error) {
					r, err := f.send(o, path, body)
					if path == "distributed/write" && err == nil {
						// half the fleet answered: the first replica dies
						if answered.Add(1) == int64(fleetHosts/2) {
							kill.Do(func() {
								replicas[0].kill()
								killedAt = time.Since(huntStart)
							})
						}
					}
					return r, err
				}, round)
				return err
			})
			checkins++
			continue
		}
		break
	}
	if killedAt == 0 {
		t.Errorf("the hunts ended before half the fleet answered: no replica was killed")
	}
	t.Logf("hunts: %d check-in rounds; replica 0 killed (SIGKILL) %v into the hunts", checkins, killedAt.Round(time.Millisecond))

	st, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	storeRetries := 0
	for i, h := range hunts {
		if h.err != nil {
			t.Fatalf("hunt %d: %v", i, h.err)
		}
		if len(h.printedOK) != fleetHosts {
			t.Errorf("hunt %d: %d of %d hosts ok\n%s", i, len(h.printedOK), fleetHosts, tail(h.out, 20))
		}
		outcomes, err := st.HostOutcomes(ctx, h.runID)
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]string{}
		for _, o := range outcomes {
			stored[o.Host] = o.State
		}
		for _, host := range h.printedOK {
			if stored[host] != store.StateOK {
				t.Fatalf("hunt %d: %s printed ok, stored %q", i, host, stored[host])
			}
		}
		storeRetries += waitedRetries(h.out)
		t.Logf("hunt %d: run %d, %d hosts ok in %v", i, h.runID, len(h.printedOK), h.took.Round(time.Second))
	}
	huntRows := fleetHosts * (len(huntFiles)*loadHuntRows + 1)
	if cur, err := st.Current(ctx, "", ""); err != nil || len(cur) != huntRows {
		t.Errorf("%d current rows after the hunts, want %d (%v)", len(cur), huntRows, err)
	}

	// every log row a host had acknowledged is stored, once
	var acked, lost, extra atomic.Int64
	var firstWrong atomic.Value
	if n, err := drive(f.hosts, 8, func(o *osqueryd) error {
		n, err := st.CountLogged(ctx, store.EnrolledHost(o.host))
		if err != nil {
			return err
		}
		want := f.state[o].acked
		acked.Add(int64(want))
		if n < want {
			lost.Add(int64(want - n))
		} else {
			extra.Add(int64(n - want))
		}
		if n != want {
			firstWrong.CompareAndSwap(nil, fmt.Sprintf("%s: %d rows stored, %d acknowledged", o.host, n, want))
		}
		return nil
	}); n > 0 {
		t.Fatal(err)
	}
	if lost.Load() > 0 || extra.Load() > 0 {
		t.Errorf("of %d log rows acknowledged, %d are not stored and %d stored beyond them; first: %v", acked.Load(), lost.Load(), extra.Load(), firstWrong.Load())
	}
	if !replicas[0].killed() {
		t.Errorf("replica 0 was not killed: %v", err)
	}
	survivor := metrics(t, f.clients[1], replicas[1].url)
	if strings.Contains(replicas[1].logs(), "level=ERROR") {
		t.Errorf("the surviving replica logged errors:\n%s", tail(grepLines(replicas[1].logs(), "level=ERROR"), 20))
	}
	t.Logf("figures: %d hosts, 2 replicas on PostgreSQL, one killed mid-hunt; %d requests acknowledged, %d re-sent to the other replica; "+
		"%d log rows stored once each, %d hunt rows current (3 hunts); store retries: %d in the hunts, %s in the surviving replica; %v in all",
		fleetHosts, f.requests.Load(), f.retries.Load(), acked.Load(), huntRows, storeRetries, survivor["pkgpersist_store_retries_total"],
		time.Since(began).Round(time.Second))
}
