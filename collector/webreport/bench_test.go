package webreport

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/queries"
)

// The benchmarks' fleet: 10,000 hosts with 10 findings each, hunted a
// thousand a day over ten days; 2% of the hunts incomplete and 1%
// failed. Of each host's findings 7 are its own and 3 are shared with
// one in a hundred hosts; a hundred shared rows are triaged.
const (
	benchHosts    = 10_000
	benchPerHost  = 10
	benchShared   = 3
	benchDays     = 10
	benchTriaged  = 100
	benchSharedBy = 100
)

// bench is the benchmarks' store, filled once for every benchmark of
// the binary (a benchmark function runs again for each b.N) and removed
// by TestMain.
var bench benchFleet

type benchFleet struct {
	once sync.Once
	dir  string
	st   *store.DB
	err  error
}

func (f *benchFleet) remove() {
	if f.st != nil {
		f.st.Close()
	}
	if f.dir != "" {
		os.RemoveAll(f.dir)
	}
}

func benchStore(b *testing.B) (*store.DB, Options) {
	b.Helper()
	bench.once.Do(func() { bench.dir, bench.st, bench.err = fillBench() })
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		b.Fatal(err)
	}
	o := Defaults()
	o.DB, o.Queries, o.Now = "bench.db", qs, time.Unix(1795348800, 0)
	return bench.st, o
}

func fillBench() (string, *store.DB, error) {
	dir, err := os.MkdirTemp("", "pkgpersist-webreport-bench-")
	if err != nil {
		return "", nil, err
	}
	st, err := store.Open(filepath.Join(dir, "p.db"))
	if err != nil {
		return dir, nil, err
	}
	ctx := context.Background()
	q := []store.Query{{ID: "unowned-hooks", Title: "hooks", Kind: "detection", SQL: "SELECT 1"}, {ID: "hook-runs-unowned", Title: "targets", Kind: "detection", SQL: "SELECT 1"}}
	start := time.Unix(1795348800, 0).Add(-benchDays * 24 * time.Hour)
	var shared []store.Row
	for d := range benchDays {
		id, err := st.BeginRun(ctx, store.Run{Started: start.Add(time.Duration(d) * 24 * time.Hour), Transport: "ssh"}, q)
		if err != nil {
			return dir, st, err
		}
		for h := d * benchHosts / benchDays; h < (d+1)*benchHosts/benchDays; h++ {
			host := fmt.Sprintf("host%05d.example.net", h)
			var hooks, targets []store.Row
			for i := range benchPerHost - benchShared {
				hooks = append(hooks, store.Row{"manager": "apt", "hook": "DPkg::Post-Invoke", "line": strconv.Itoa(i + 1),
					"command": fmt.Sprintf("/usr/local/sbin/agent-%d --report https://203.0.113.%d/%d", i, h%250, h),
					"path":    fmt.Sprintf("/etc/apt/apt.conf.d/%02d-agent-%d", i, h)})
			}
			for i := range benchShared {
				r := store.Row{"source_table": "apt_hooks", "manager": "apt", "hook": "DPkg::Pre-Invoke", "line": strconv.Itoa(i + 1),
					"path": fmt.Sprintf("/etc/apt/apt.conf.d/70shared-%d-%d", i, h%benchSharedBy), "package": "corp-tools",
					"sha256": fmt.Sprintf("%064x", h%benchSharedBy*10+i), "target": "/opt/corp/bin/hook", "package_modified": "1"}
				targets = append(targets, r)
				if h < benchSharedBy && len(shared) < benchTriaged {
					shared = append(shared, r)
				}
			}
			hr := store.HostResult{Host: host, State: store.StateOK, Queries: []store.QueryResult{
				{QueryID: "unowned-hooks", Rows: hooks}, {QueryID: "hook-runs-unowned", Rows: targets}}}
			switch {
			case h%100 == 1:
				hr.State, hr.Err, hr.Reasons, hr.Queries = store.StateFailed, "ssh: connection timed out", []string{"ssh: connection timed out"}, nil
			case h%50 == 2:
				hr.State, hr.Reasons = store.StateIncomplete, []string{"cannot read /etc/apt/apt.conf.d/99x (permission): run as root"}
				hr.Queries[0].Problems = []store.Problem{{Path: "/etc/apt/apt.conf.d/99x", Cause: "permission", Detail: "permission denied"}}
			}
			if err := st.SaveHost(ctx, id, hr); err != nil {
				return dir, st, err
			}
		}
	}
	for _, r := range shared {
		if _, err := st.AddTriage(ctx, store.Triage{QueryID: "hook-runs-unowned", Hash: r.Hash(), Row: r, Verdict: "benign", Reason: "corp tools",
			Who: "bench", Created: start, Until: start.Add(365 * 24 * time.Hour)}); err != nil {
			return dir, st, err
		}
	}
	return dir, st, nil
}

// counter counts what is written.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// baseline is what reading the page's rows costs without the page: the
// hosts and findings read from the store and written as ndjson (the
// median of three).
func baseline(b *testing.B, st *store.DB) time.Duration {
	b.Helper()
	ctx := context.Background()
	var took []time.Duration
	for range 3 {
		t0 := time.Now()
		hs, err := st.HostStates(ctx)
		if err != nil {
			b.Fatal(err)
		}
		fs, err := st.Findings(ctx, "detection")
		if err != nil {
			b.Fatal(err)
		}
		enc := json.NewEncoder(&counter{})
		for _, h := range hs {
			enc.Encode(h)
		}
		for _, f := range fs {
			enc.Encode(f)
		}
		took = append(took, time.Since(t0))
	}
	return median(took)
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// BenchmarkReportHTML: the page of 10,000 hosts and 100,000 findings,
// against reading the same rows as ndjson (x-ndjson: how many times that
// the page takes), and the page's size.
func BenchmarkReportHTML(b *testing.B) {
	st, o := benchStore(b)
	base := baseline(b, st)
	ctx := context.Background()
	var size int64
	b.ResetTimer()
	for range b.N {
		c := &counter{}
		if err := Write(ctx, c, st, o); err != nil {
			b.Fatal(err)
		}
		size = c.n
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(size)/1e6, "page-MB")
	b.ReportMetric(base.Seconds()*1000, "ndjson-ms")
	b.ReportMetric(per.Seconds()/base.Seconds(), "x-ndjson")
}

// BenchmarkChromiumLoad: how long headless Chromium takes to load,
// lay out and dump that page, against an empty page (x-empty, the
// median of three), when Chromium is installed.
func BenchmarkChromiumLoad(b *testing.B) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		b.Skip("chromium is not installed")
	}
	st, o := benchStore(b)
	dir := b.TempDir()
	page, empty := filepath.Join(dir, "report.html"), filepath.Join(dir, "empty.html")
	if err := os.WriteFile(empty, []byte("<!DOCTYPE html><title>empty</title>"), 0o600); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(page)
	if err != nil {
		b.Fatal(err)
	}
	if err := Write(context.Background(), f, st, o); err != nil {
		b.Fatal(err)
	}
	f.Close()
	var took []time.Duration
	for range 3 {
		t0 := time.Now()
		runChromium(b, bin, empty, "--dump-dom")
		took = append(took, time.Since(t0))
	}
	base := median(took)
	b.ResetTimer()
	for range b.N {
		runChromium(b, bin, page, "--dump-dom")
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(base.Seconds()*1000, "empty-ms")
	b.ReportMetric(per.Seconds()/base.Seconds(), "x-empty")
}
