package osqserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/storetest"
)

// benchFleet is a set of replicas on one database with enrolled hosts,
// and the request mix a fleet sends them.
type benchFleet struct {
	name   string
	urls   []string
	client *http.Client
	keys   []string
	sent   atomic.Int64 // log rows so far: each one new to the store
}

const benchHosts = 256

func newBenchFleet(b *testing.B, name, dsn string, n int) *benchFleet {
	rs, _ := replicas(b, dsn, n, DefaultOptions)
	f := &benchFleet{name: name, client: sharedClient(b, rs[0], 32)}
	for _, s := range rs {
		f.urls = append(f.urls, s.url)
	}
	for i := 0; i < benchHosts; i++ {
		o := &osqueryd{t: b, http: f.client, base: f.urls[i%len(f.urls)], host: fmt.Sprintf("bench-%03d", i), prefix: "/api/osquery/"}
		o.enroll(secret)
		f.keys = append(f.keys, o.nodeKey)
	}
	return f
}

// request i of the mix: hosts in turn, each sending a config fetch, a
// distributed read and a log batch of five new rows in turn, to the
// replicas in turn.
func (f *benchFleet) request(i int) (string, []byte) {
	host := i % benchHosts
	url := f.urls[i%len(f.urls)] + "/api/osquery/"
	key := f.keys[host]
	switch (i / benchHosts) % 3 {
	case 0:
		return url + "config", []byte(`{"node_key":"` + key + `"}`)
	case 1:
		return url + "distributed/read", []byte(`{"node_key":"` + key + `"}`)
	}
	var data []any
	for r := 0; r < 5; r++ {
		n := f.sent.Add(1)
		data = append(data, map[string]any{"name": "pack_pkgpersist_unowned-hooks", "hostIdentifier": "bench",
			"unixTime": 1795377600, "epoch": 0, "counter": n, "action": "added",
			"columns": map[string]string{"path": fmt.Sprint("/etc/apt/apt.conf.d/", n)}})
	}
	body, _ := json.Marshal(map[string]any{"node_key": key, "log_type": "result", "data": data})
	return url + "log", body
}

// BenchmarkReplicas measures the request mix (config, distributed read,
// log batch; 256 hosts, 32 clients, rate limits on) against one replica
// on SQLite, one on PostgreSQL and two on one PostgreSQL database, in the
// same run, and reports each one's requests a second and their ratios to
// SQLite's. Rounds alternate the three; the figures are medians.
func BenchmarkReplicas(b *testing.B) {
	fleets := []*benchFleet{
		newBenchFleet(b, "sqlite-1", filepath.Join(b.TempDir(), "p.db"), 1),
		newBenchFleet(b, "postgres-1", storetest.Postgres(b), 1),
		newBenchFleet(b, "postgres-2", storetest.Postgres(b), 2),
	}
	const n, workers, rounds = 1500, 32, 5
	for i := 0; i < b.N; i++ {
		rps := make([][]float64, len(fleets))
		for r := 0; r < rounds; r++ {
			for j, f := range fleets {
				x, _, _ := loadTargets(b, f.client, n, workers, f.request)
				rps[j] = append(rps[j], x)
			}
		}
		med := make([]float64, len(fleets))
		for j, xs := range rps {
			sort.Float64s(xs)
			med[j] = xs[len(xs)/2]
			b.ReportMetric(med[j], fleets[j].name+"-req/s")
			if j > 0 {
				b.ReportMetric(med[j]/med[0], fleets[j].name+"-ratio-to-sqlite")
			}
		}
		b.ReportMetric(med[2]/med[1], "postgres-2-ratio-to-postgres-1")
		if i == b.N-1 {
			for j, f := range fleets {
				b.Logf("%s: %.0f req/s (median of %d rounds of %d requests), rounds sorted: %.0f", f.name, med[j], rounds, n, rps[j])
			}
		}
	}
}
