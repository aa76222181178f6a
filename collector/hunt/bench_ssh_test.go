package hunt_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/distbin"
	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// benchParallel is --parallel of the hunts benchmarked, and xargs -P of
// their baseline.
const benchParallel = 8

// cpuTime is the CPU this process and its waited-for children have used:
// the collector and its ssh clients, or xargs and its ssh clients. The
// lab's sshd is a child too, but still running, so the remote side is not
// counted on either side (its wall time is).
func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// measure runs f, returning its wall and CPU time.
func measure(b *testing.B, f func() error) (wall, cpu time.Duration) {
	b.Helper()
	c0, t0 := cpuTime(), time.Now()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0), cpuTime() - c0
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

// BenchmarkSSHHunt hunts N ssh:// targets (the lab's one sshd, each
// target a copy of the debian-real root) with the hooks query, in this
// process so that -cpuprofile sees the collector, without and with the
// remote cache (filled before), against its baseline in the same
// iteration: xargs -P running `ssh HOST apt-config dump` for each. It
// reports the medians of hunt/xargs for wall and CPU time (this process
// and its children: the ssh clients).
func BenchmarkSSHHunt(b *testing.B) {
	l := startLab(b)
	qs, err := querydef.Load(fstest.MapFS{"hooks.sql": {Data: []byte(hooksQuery)}})
	must(b, err)
	cache := trustedDir(b)
	for _, cached := range []bool{false, true} {
		for _, n := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("cache=%v/hosts=%d", cached, n), func(b *testing.B) {
				var targets []hunt.Target
				var hosts bytes.Buffer
				digests := &distbin.Digests{}
				for i, root := range roots(b, n, "debian-real") {
					port := l.ports[i%2]
					t := l.target(b, fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", port, root))
					t.Digests = digests
					if cached {
						t.Cache = cache
					}
					targets = append(targets, t)
					fmt.Fprintf(&hosts, "ssh://root@127.0.0.1:%d\n", port)
				}
				st, err := store.Open(filepath.Join(b.TempDir(), "p.db"))
				must(b, err)
				defer st.Close()
				baseline := func() error {
					cmd := exec.Command("xargs", "-P", fmt.Sprint(benchParallel), "-I{}", "ssh", "-F", l.sshConfig, "-o", "BatchMode=yes", "{}", "apt-config", "dump")
					cmd.Stdin = bytes.NewReader(hosts.Bytes())
					if out, err := cmd.CombinedOutput(); err != nil {
						return fmt.Errorf("xargs ssh: %v\n%.2000s", err, out)
					}
					return nil
				}
				hunted := func() error {
					sum, err := hunt.Run(context.Background(), st, targets, qs, hunt.Options{Parallel: benchParallel, Timeout: 2 * time.Minute, Transport: "ssh"})
					if err != nil {
						return err
					}
					for _, h := range sum.Hosts {
						if h.State == store.StateFailed {
							return fmt.Errorf("%s: %s: %s", h.Target, h.State, strings.Join(h.Reasons, "; "))
						}
					}
					return nil
				}
				if cached {
					must(b, hunted()) // fills the cache
				}
				var wall, cpu []float64
				var huntWall time.Duration
				for b.Loop() {
					bw, bc := measure(b, baseline)
					hw, hc := measure(b, hunted)
					wall = append(wall, hw.Seconds()/bw.Seconds())
					cpu = append(cpu, hc.Seconds()/bc.Seconds())
					huntWall += hw
				}
				b.ReportMetric(median(wall), "wall/xargs")
				b.ReportMetric(median(cpu), "cpu/xargs")
				b.ReportMetric(huntWall.Seconds()/float64(len(wall))*1000/float64(n), "hunt-ms/host")
			})
		}
	}
}

// BenchmarkSSHHuntRSS runs the collector program on 32 targets (copies of
// the planted root) at
// --parallel 8 and 32 and reports its peak resident memory (the kernel's
// maxrss of the child): what the hunt holds per host hunted at once.
func BenchmarkSSHHuntRSS(b *testing.B) {
	l := startLab(b)
	qdir := b.TempDir()
	must(b, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
	var targets []string
	for i, root := range roots(b, 32, "planted") {
		targets = append(targets, fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[i%2], root))
	}
	for _, p := range []int{8, 32} {
		b.Run(fmt.Sprintf("parallel=%d", p), func(b *testing.B) {
			db := filepath.Join(b.TempDir(), "p.db")
			var peak int64
			for b.Loop() {
				args := append([]string{"hunt", "--db", db, "--queries", qdir, "--ssh-config", l.sshConfig, "--timeout", "2m", "--parallel", fmt.Sprint(p), "--format", "json", "--remote-engine", "pkgpersist"}, targets...)
				cmd := exec.Command(l.bin, args...)
				var errb bytes.Buffer
				cmd.Stderr = &errb
				if err := cmd.Run(); err != nil && strings.Contains(errb.String(), ": failed") {
					b.Fatalf("hunt: %v\n%s", err, errb.String())
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					peak = max(peak, ru.Maxrss)
				}
			}
			b.ReportMetric(float64(peak)/1024, "peak-MiB")
		})
	}
}
