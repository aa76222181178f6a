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
	return loadTargets(b, client, n, workers, func(i int) (string, []byte) { return url, body(i) })
}

// loadTargets is loadFigures with each request's URL and body from req.
func loadTargets(b *testing.B, client *http.Client, n, workers int, req func(i int) (string, []byte)) (rps float64, p50, p99 time.Duration) {
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	next := make(chan int)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				url, body := req(i)
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
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

	// Rounds alternate the bare handler and pkgpersist, and the figures
	// are the medians of the rounds: on a shared machine a single pair of
	// runs swings by half.
	const n, workers, rounds = 1000, 32, 7
	sent := 0 // every log row is new to the store
	configBody := func(int) []byte { return []byte(`{"node_key":"` + o.nodeKey + `"}`) }
	logBody := func(int) []byte {
		sent++
		var data []any
		for r := 0; r < 5; r++ {
			data = append(data, map[string]any{"name": "pack_pkgpersist_unowned-hooks", "hostIdentifier": "bench",
				"unixTime": 1795377600 + sent, "epoch": 0, "counter": sent, "action": "added",
				"columns": map[string]string{"path": fmt.Sprintf("/etc/apt/apt.conf.d/%d-%d", sent, r)}})
		}
		body, _ := json.Marshal(map[string]any{"node_key": o.nodeKey, "log_type": "result", "data": data})
		return body
	}
	var mu sync.Mutex
	locked := func(f func(int) []byte) func(int) []byte {
		return func(i int) []byte { mu.Lock(); defer mu.Unlock(); return f(i) }
	}
	median := func(xs []float64) float64 {
		sort.Float64s(xs)
		return xs[len(xs)/2]
	}
	for i := 0; i < b.N; i++ {
		for _, c := range []struct {
			name string
			body func(int) []byte
		}{{"config", configBody}, {"log", locked(logBody)}} {
			var rps, brps, ratio, p50, p99, bp99 []float64
			for r := 0; r < rounds; r++ {
				br, _, b99 := loadFigures(b, client, bareURL, n, workers, c.body)
				pr, q50, q99 := loadFigures(b, client, s.url+"/api/osquery/"+c.name, n, workers, c.body)
				rps, brps, ratio = append(rps, pr), append(brps, br), append(ratio, pr/br)
				p50, p99, bp99 = append(p50, float64(q50)), append(p99, float64(q99)), append(bp99, float64(b99))
			}
			b.ReportMetric(median(rps), c.name+"-req/s")
			b.ReportMetric(median(p50)/1e3, c.name+"-p50-µs")
			b.ReportMetric(median(p99)/1e3, c.name+"-p99-µs")
			b.ReportMetric(median(ratio), c.name+"-req/s-ratio-to-bare")
			b.ReportMetric(median(p99)/median(bp99), c.name+"-p99-ratio-to-bare")
			if i == b.N-1 {
				b.Logf("%s: pkgpersist %.0f req/s, bare net/http %.0f req/s (medians of %d rounds); ratios of the rounds, sorted: %.2f",
					c.name, median(rps), median(brps), rounds, ratio)
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
