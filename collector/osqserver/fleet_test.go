package osqserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fleetHosts is how many hosts the replica load test simulates: 20,000,
// or PKGPERSIST_LOAD_HOSTS for a quicker run.
var fleetHosts = func() int {
	if n, err := strconv.Atoi(os.Getenv("PKGPERSIST_LOAD_HOSTS")); err == nil && n > 0 {
		return n
	}
	return 20000
}()

// fleet drives simulated osqueryd hosts over replicas, as behind a load
// balancer without stickiness: a host's requests go to the replicas in
// turn, and a request that fails (a replica down, a 5xx) goes to the
// other one, again and again, as osqueryd resends what was not
// acknowledged. It counts the log rows each host had acknowledged.
type fleet struct {
	urls    []string
	clients []*http.Client
	hosts   []*osqueryd
	state   map[*osqueryd]*fleetHost
	// down marks a replica that refused a connection: the hosts go to the
	// others, as a load balancer's health check would send them
	down []atomic.Bool
	// requests acknowledged, attempts that failed and were sent again
	requests, retries atomic.Int64
}

type fleetHost struct {
	turn  int // the host's requests so far: picks the replica
	acked int // log rows acknowledged
}

func newFleet(t testing.TB, certFile string, urls []string, hosts int) *fleet {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	f := &fleet{urls: urls, state: map[*osqueryd]*fleetHost{}, down: make([]atomic.Bool, len(urls))}
	for range urls {
		f.clients = append(f.clients, &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: fleetWorkers, MaxConnsPerHost: fleetWorkers}})
	}
	for i := 0; i < hosts; i++ {
		o := &osqueryd{t: t, host: fmt.Sprintf("host-%05d", i), prefix: "/api/osquery/"}
		f.hosts = append(f.hosts, o)
		f.state[o] = &fleetHost{turn: i}
	}
	return f
}

// send posts body to path for o until a replica acknowledges it (or the
// deadline), and returns the reply; it is the ok function checkIn takes.
func (f *fleet) send(o *osqueryd, path string, body map[string]any) (map[string]any, error) {
	h := f.state[o]
	if path != "enroll" {
		body["node_key"] = o.nodeKey
	}
	deadline := time.Now().Add(5 * time.Minute)
	for attempt := 0; ; attempt++ {
		i := (h.turn + attempt) % len(f.urls)
		if f.down[i].Load() {
			i = (i + 1) % len(f.urls)
		}
		o.http, o.base = f.clients[i], f.urls[i]
		code, r, err := o.try(path, body)
		if errors.Is(err, syscall.ECONNREFUSED) {
			f.down[i].Store(true)
		}
		if err == nil && code == 200 && r["error"] == nil && r["node_invalid"] != true {
			h.turn++
			f.requests.Add(1)
			if path == "log" {
				h.acked += len(body["data"].([]any))
			}
			return r, nil
		}
		if err == nil && code != 503 && code < 500 {
			return nil, fmt.Errorf("%s: %d %v", path, code, r)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: not acknowledged for 5 minutes: %d %v %v", path, code, r, err)
		}
		f.retries.Add(1)
		time.Sleep(time.Duration(attempt%8) * 50 * time.Millisecond)
	}
}

// drive runs fn for every host, workers at a time, and returns how many
// failed and the first failure.
func drive(hosts []*osqueryd, workers int, fn func(o *osqueryd) error) (int64, error) {
	var failed atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	jobs := make(chan *osqueryd)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range jobs {
				if err := fn(o); err != nil {
					failed.Add(1)
					first.CompareAndSwap(nil, fmt.Errorf("%s: %w", o.host, err))
				}
			}
		}()
	}
	for _, o := range hosts {
		jobs <- o
	}
	close(jobs)
	wg.Wait()
	err, _ := first.Load().(error)
	return failed.Load(), err
}

// logBatch is a host's b-th log batch before the hunts: rows events, each
// its own row.
func logBatch(host string, b, rows int) map[string]any {
	var data []any
	for r := 0; r < rows; r++ {
		data = append(data, map[string]any{"name": "pack_pkgpersist_unowned-hooks", "hostIdentifier": host,
			"unixTime": 1795377600 + b, "epoch": 0, "counter": b, "action": "added",
			"columns": map[string]any{"path": fmt.Sprintf("/etc/apt/apt.conf.d/%02d-%d", b, r), "line": r}})
	}
	return map[string]any{"log_type": "result", "data": data}
}
