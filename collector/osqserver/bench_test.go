package osqserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// loadFigures drives n requests from workers clients and returns requests
// a second and the 50th and 99th percentile latencies.
func loadFigures(b *testing.B, client *http.Client, url string, n, workers int, body func(i int) []byte) (rps float64, p50, p99 time.Duration) {
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	next := make(chan int)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body(i)))
				if err != nil {
					b.Error(err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("%s: status %d", url, resp.StatusCode)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(n) / elapsed.Seconds(), lat[n/2], lat[n*99/100]
}

// BenchmarkServer measures config and log requests against pkgpersist
// serve and, in the same run, against a bare net/http TLS handler that
// answers the same bytes (the baseline), over loopback with 32 clients.
func BenchmarkServer(b *testing.B) {
	opt := DefaultOptions
	opt.Rate = 0 // one host sends every request here
	s := start(b, opt)
	client := sharedClient(b, s, 32)
	o := &osqueryd{t: b, http: client, base: s.url, host: "bench", prefix: "/api/osquery/"}
	o.enroll(secret)

	// the baseline: same certificate, same TLS settings, same reply
	crt, err := Certificate("", "", filepath.Join(filepath.Dir(s.certs), "p.db"), nil)
	cert := crt.TLS
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.srv.opt.Config)
	})}
	bare.TLSConfig = s.srv.HTTPServer(&cert).TLSConfig
	go bare.ServeTLS(ln, "", "")
	defer bare.Shutdown(context.Background())
	bareURL := "https://" + ln.Addr().String() + "/"
	// the certificate names 127.0.0.1, so the same client trusts both

	const n, workers = 4000, 32
	configBody := func(int) []byte { return []byte(`{"node_key":"` + o.nodeKey + `"}`) }
	logBody := func(i int) []byte {
		var data []any
		for r := 0; r < 5; r++ {
			data = append(data, map[string]any{"name": "pack_pkgpersist_unowned-hooks", "hostIdentifier": "bench",
				"unixTime": 1795377600 + i, "epoch": 0, "counter": i, "action": "added",
				"columns": map[string]string{"path": fmt.Sprintf("/etc/apt/apt.conf.d/%d-%d", i, r)}})
		}
		body, _ := json.Marshal(map[string]any{"node_key": o.nodeKey, "log_type": "result", "data": data})
		return body
	}
	for i := 0; i < b.N; i++ {
		for _, c := range []struct {
			name string
			body func(int) []byte
		}{{"config", configBody}, {"log", logBody}} {
			brps, bp50, bp99 := loadFigures(b, client, bareURL, n, workers, c.body)
			rps, p50, p99 := loadFigures(b, client, s.url+"/api/osquery/"+c.name, n, workers, c.body)
			b.ReportMetric(rps, c.name+"-req/s")
			b.ReportMetric(float64(p50.Microseconds()), c.name+"-p50-µs")
			b.ReportMetric(float64(p99.Microseconds()), c.name+"-p99-µs")
			b.ReportMetric(rps/brps, c.name+"-req/s-ratio-to-bare")
			b.ReportMetric(float64(p99)/float64(bp99), c.name+"-p99-ratio-to-bare")
			if i == b.N-1 {
				b.Logf("%s: pkgpersist %.0f req/s p50 %v p99 %v; bare net/http %.0f req/s p50 %v p99 %v", c.name, rps, p50, p99, brps, bp50, bp99)
			}
		}
	}
}

// BenchmarkHostileMix reports the server's peak RSS under the hostile mix
// (10 s, as the built binary) beside the documented bound of its limits.
func BenchmarkHostileMix(b *testing.B) {
	for i := 0; i < b.N; i++ {
		run := runHostile(b, 10*time.Second, 6)
		b.ReportMetric(float64(run.peakRSS>>20), "peak-RSS-MiB")
		b.ReportMetric(float64(run.bound>>20), "bound-MiB")
		b.ReportMetric(float64(run.good)/10, "good-round-trips/s")
		if run.peakRSS > run.bound || run.goodFailed > 0 {
			b.Errorf("peak RSS %d MiB (bound %d MiB), good host failed %d times", run.peakRSS>>20, run.bound>>20, run.goodFailed)
		}
	}
}
