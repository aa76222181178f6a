package watch

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/extension/capture"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/queries"
	"github.com/pkgpersist/pkgpersist/test/debtest"
)

// BenchmarkEventLatency: from the exec of a package install (the time
// this process starts dpkg -i) to its row being readable from the ring,
// and to pm-installs' row being stored by a watcher that runs every
// 100ms, as pkgpersist watch --interval 100ms. At least 100 installs;
// p50 and p99 of each.
func BenchmarkEventLatency(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("the process connector needs root")
	}
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		b.Skip("no dpkg")
	}
	const interval = 100 * time.Millisecond
	c := capture.Start(capture.Options{})
	defer c.Stop()
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		b.Fatal(err)
	}
	w, err := New(c.Sources, qs, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// the watcher's loop: when each pid's install row was stored
	stored := make(chan map[string]time.Time, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		ids := map[string]int64{}
		for ctx.Err() == nil {
			time.Sleep(interval)
			rows, _, err := w.Run(ctx)
			if err != nil || len(rows) == 0 {
				continue
			}
			if _, err := st.SaveLogsByHost(ctx, map[string][]store.Logged{"bench": rows}, ids); err != nil {
				continue
			}
			now, m := time.Now(), map[string]time.Time{}
			for _, r := range rows {
				m[r.Row["pid"]] = now
			}
			stored <- m
		}
	}()
	defer cancel()
	// a real install, so that dpkg lives long enough for its exec to be
	// read from /proc (one that fails at once may be gone before)
	root := debtest.NewRoot(b)
	deb := debtest.Build(b, b.TempDir(), debtest.Pkg{Name: "latency", Version: "1", Arch: "all"})
	install := append(debtest.DpkgOptions(root), "-i", deb)
	var toRing, toStore []time.Duration
	var seen int64
	b.ResetTimer()
	for i := 0; i < max(b.N, 100); i++ {
		cmd := exec.Command(dpkg, install...)
		began := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		pid := strconv.Itoa(cmd.Process.Pid)
		var row table.Row
		for {
			// only the rows since the last look: the ring holds the
			// whole machine's events
			q := table.QueryContext{Constraints: map[string][]table.Constraint{"eid": {{Op: table.GreaterThan, Expr: strconv.FormatInt(seen, 10)}}}}
			rows := c.Sources.Process.Select(q)
			if len(rows) > 0 {
				seen, _ = strconv.ParseInt(rows[len(rows)-1]["eid"], 10, 64)
			}
			if i := slices.IndexFunc(rows, func(r table.Row) bool { return r["event"] == "exec" && r["pid"] == pid }); i >= 0 {
				toRing = append(toRing, time.Since(began))
				row = rows[i]
				break
			}
			if time.Since(began) > 10*time.Second {
				b.Fatalf("no exec row for pid %s", pid)
			}
			time.Sleep(200 * time.Microsecond)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		var at time.Time
		for at.IsZero() {
			select {
			case m := <-stored:
				at = m[pid]
			case <-time.After(10 * time.Second):
				b.Fatalf("pid %s not stored: %v", pid, row)
			}
			if !at.IsZero() {
				toStore = append(toStore, at.Sub(began))
			}
		}
	}
	b.StopTimer()
	ms := func(ds []time.Duration, p float64) float64 {
		slices.Sort(ds)
		return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(ms(toRing, 0.5), "ring-p50-ms")
	b.ReportMetric(ms(toRing, 0.99), "ring-p99-ms")
	b.ReportMetric(ms(toStore, 0.5), "stored-p50-ms")
	b.ReportMetric(ms(toStore, 0.99), "stored-p99-ms")
}
