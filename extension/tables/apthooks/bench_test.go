package apthooks

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/aptoracle"
)

// benchRoot is the Debian fixture root plus the planted hooks written in
// apt.conf's other syntaxes (50 files in apt.conf.d, with a dpkg database),
// plus n planted files of two hooks each.
func benchRoot(b *testing.B, n int) string {
	b.Helper()
	root := b.TempDir()
	if err := aptoracle.CopyTree(filepath.Join(rootsDir, "debian-real"), root); err != nil {
		b.Fatal(err)
	}
	for _, n := range []string{"10block.conf", "11append.conf", "12named.conf", "13override.conf", "14comments.conf", "15escapes.conf", "16multiline.conf"} {
		data, err := os.ReadFile(filepath.Join(rootsDir, "planted/etc/apt/apt.conf.d", n))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/apt/apt.conf.d", n), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := aptoracle.PlantHooks(root, n); err != nil {
		b.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(root, "etc/apt/apt.conf.d"))
	b.Logf("bench root: %d files in apt.conf.d", len(ents))
	return root
}

// build compiles a command of this module for a benchmark.
func build(b *testing.B, pkg, name string) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), name)
	if out, err := exec.Command("go", "build", "-tags", "sqlite_vtable", "-o", bin, pkg).CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkAptHooksVsAptConfig measures, on one root and in one run, the
// table's generate (in process), the extension as a whole process
// (`pkgpersist.ext --print apt_hooks`), and `apt-config dump` as a whole
// process, and reports apt-config's time as a multiple of each.
func BenchmarkAptHooksVsAptConfig(b *testing.B) {
	root := benchRoot(b, 0)
	apt := aptoracle.Prepare(b, root)
	ext := build(b, "../../", "pkgpersist.ext")
	var inProc, extProc, aptProc time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := Rows(context.Background(), root, ""); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := exec.Command(ext, "--print", "apt_hooks", "--root", root).Run(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		c := exec.Command(apt.Path, apt.Args[1:]...)
		c.Dir, c.Env = apt.Dir, apt.Env
		if err := c.Run(); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		inProc += t1.Sub(t0)
		extProc += t2.Sub(t1)
		aptProc += t3.Sub(t2)
	}
	n := float64(b.N)
	b.ReportMetric(float64(inProc.Microseconds())/n, "table-µs/op")
	b.ReportMetric(float64(extProc.Microseconds())/n, "ext-process-µs/op")
	b.ReportMetric(float64(aptProc.Microseconds())/n, "apt-config-µs/op")
	b.ReportMetric(float64(aptProc)/float64(inProc), "apt-config/table")
	b.ReportMetric(float64(aptProc)/float64(extProc), "apt-config/ext-process")
}

// cost is what one measured run took: wall time, CPU time (user and
// system) and peak resident memory.
type cost struct {
	wall, cpu time.Duration
	peak      int64 // bytes; 0 when not measured
}

func (c *cost) add(o cost) {
	c.wall += o.wall
	c.cpu += o.cpu
	c.peak = max(c.peak, o.peak)
}

// runProcess runs cmd to its end and returns its cost. The peak is the
// process's VmHWM, read every millisecond while it runs: its rusage would
// count this process's memory, which the child shares until it execs.
func runProcess(b *testing.B, cmd *exec.Cmd) cost {
	b.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		peak = max(peak, vmHWM(status))
		select {
		case err := <-done:
			if err != nil {
				b.Fatalf("%s: %v\n%.2000s", strings.Join(cmd.Args, " "), err, out.String())
			}
			wall := time.Since(start)
			return cost{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), peak: peak}
		case <-tick.C:
		}
	}
}

// vmHWM is the peak resident memory in a /proc/PID/status file, in bytes
// (0 when it cannot be read).
func vmHWM(status string) int64 {
	data, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	_, rest, ok := strings.Cut(string(data), "VmHWM:")
	if !ok {
		return 0
	}
	var kb int64
	fmt.Sscan(rest, &kb)
	return kb << 10
}

// runInProcess runs f and returns its wall and CPU time (this process's,
// garbage collection included).
func runInProcess(b *testing.B, f func() error) cost {
	b.Helper()
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	wall := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	return cost{wall: wall, cpu: cpu}
}

// aptHooksQueries are the queries of queries/ that read apt_hooks.
func aptHooksQueries(b *testing.B) []string {
	b.Helper()
	files, err := filepath.Glob("../../../queries/*.sql")
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if strings.Contains(string(data), "apt_hooks") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		b.Fatal("no query of queries/ reads apt_hooks")
	}
	return out
}

// BenchmarkAptHooksAtScale measures apt_hooks on roots with 1,000 and
// 10,000 planted files in apt.conf.d against `apt-config dump` on the same
// root (the oracle's command), all in the same run: the table's generation
// in process (every column, as SELECT *), `pkgpersist query` as a whole
// process for `SELECT * FROM apt_hooks WHERE root = ...` and for each query
// of queries/ that reads apt_hooks. Each is reported as a multiple of
// apt-config's wall and CPU time, with each process's peak memory.
func BenchmarkAptHooksAtScale(b *testing.B) {
	bin := build(b, "../../../collector", "pkgpersist")
	queries := aptHooksQueries(b)
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			root := benchRoot(b, n)
			apt := aptoracle.Prepare(b, root)
			aptConfig := func() *exec.Cmd {
				c := exec.Command(apt.Path, apt.Args[1:]...)
				c.Dir, c.Env = apt.Dir, apt.Env
				return c
			}
			selectAll := fmt.Sprintf("SELECT * FROM apt_hooks WHERE root = '%s'", root)
			names := []string{"table", "select-star"}
			commands := []func() *exec.Cmd{nil, func() *exec.Cmd { return exec.Command(bin, "query", "--format", "json", selectAll) }}
			for _, q := range queries {
				names = append(names, strings.TrimSuffix(filepath.Base(q), ".sql"))
				commands = append(commands, func() *exec.Cmd {
					return exec.Command(bin, "query", "--root", root, "--format", "json", "--file", q)
				})
			}
			q := table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: root}}}}
			var base cost
			costs := make([]cost, len(names))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// the baseline between each measured run, so that both
				// see the same machine
				for j, cmd := range commands {
					base.add(runProcess(b, aptConfig()))
					if cmd == nil {
						costs[j].add(runInProcess(b, func() error {
							rows, err := Table().Run(context.Background(), q)
							if err == nil && len(rows) < 2*n {
								err = fmt.Errorf("%d rows for %d planted files", len(rows), n)
							}
							return err
						}))
						continue
					}
					costs[j].add(runProcess(b, cmd()))
				}
			}
			runs := float64(len(commands))
			for j, name := range names {
				b.ReportMetric(float64(costs[j].wall)/float64(base.wall)*runs, name+"-wall/apt")
				b.ReportMetric(float64(costs[j].cpu)/float64(base.cpu)*runs, name+"-cpu/apt")
				if costs[j].peak > 0 {
					b.ReportMetric(float64(costs[j].peak)/(1<<20), name+"-peak-MiB")
				}
			}
			b.ReportMetric(float64(base.wall.Microseconds())/runs/float64(b.N), "apt-config-µs/op")
			b.ReportMetric(float64(base.peak)/(1<<20), "apt-config-peak-MiB")
		})
	}
}
