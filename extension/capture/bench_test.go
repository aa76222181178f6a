package capture

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// storm runs n execs of /bin/true from one shell and returns this
// process's CPU time (the capture's: the shell and its children are not
// counted) and the wall time.
func storm(b *testing.B, n int) (cpu, wall time.Duration) {
	return shell(b, `i=0; while [ $i -lt `+strconv.Itoa(n)+` ]; do /bin/true; i=$((i+1)); done`)
}

// shell runs a script and returns this process's CPU time over it and
// the wall time.
func shell(b *testing.B, script string) (cpu, wall time.Duration) {
	var before, after unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &before)
	began := time.Now()
	if out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	wall = time.Since(began)
	_ = unix.Getrusage(unix.RUSAGE_SELF, &after)
	ns := func(r unix.Rusage) int64 { return r.Utime.Nano() + r.Stime.Nano() }
	return time.Duration(ns(after) - ns(before)), wall
}

// BenchmarkFileEvents: CPU per 1,000 file events captured (500 new files
// written by a shell into a watched directory: a CREATED and an UPDATED
// row each), against the same writes without capture, and the writes'
// wall time either way.
func BenchmarkFileEvents(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("fanotify needs root")
	}
	const files = 500
	dir := b.TempDir()
	script := func(i int) string {
		d := filepath.Join(dir, strconv.Itoa(i))
		return `mkdir ` + d + ` && i=0; while [ $i -lt ` + strconv.Itoa(files) + ` ]; do echo x > ` + d + `/f$i; i=$((i+1)); done`
	}
	report := func(b *testing.B, cpu, wall time.Duration) {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/1000, "cpu-ms/1000events")
		b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "wall-ms/1000events")
	}
	round := 0
	b.Run("without", func(b *testing.B) {
		var cpu, wall time.Duration
		for i := 0; i < b.N; i++ {
			round++
			c, w := shell(b, script(round))
			cpu, wall = cpu+c, wall+w
		}
		report(b, cpu, wall)
	})
	b.Run("captured", func(b *testing.B) {
		c := Start(Options{Limits: events.Limits{Max: 50000}, FilePaths: []string{dir + "/%%"}})
		defer c.Stop()
		if s := c.Sources.File.Status(); !s.Running {
			b.Fatalf("file source: %s", s.Error)
		}
		var cpu, wall time.Duration
		before := c.Sources.File.Status().Events
		for i := 0; i < b.N; i++ {
			round++
			cp, w := shell(b, script(round))
			// let the reader drain what the writes queued before counting
			time.Sleep(200 * time.Millisecond)
			cpu, wall = cpu+cp, wall+w
		}
		s := c.Sources.File.Status()
		report(b, cpu, wall)
		b.ReportMetric(float64(s.Events-before)/float64(b.N), "rows/op")
		b.ReportMetric(float64(s.LostKernel), "lost")
	})
}

// BenchmarkExecs: CPU per 1,000 execs captured, against the same storm
// without capture (the benchmark process idles then: the baseline is its
// own overhead), and the storm's wall time either way.
func BenchmarkExecs(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("the process connector needs root")
	}
	const n = 1000
	b.Run("without", func(b *testing.B) {
		var cpu, wall time.Duration
		for i := 0; i < b.N; i++ {
			c, w := storm(b, n)
			cpu, wall = cpu+c, wall+w
		}
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/1000, "cpu-ms/1000execs")
		b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "wall-ms/1000execs")
	})
	b.Run("captured", func(b *testing.B) {
		c := Start(Options{Limits: events.Limits{Max: 4 * n}})
		defer c.Stop()
		var cpu, wall time.Duration
		for i := 0; i < b.N; i++ {
			cp, w := storm(b, n)
			// let the reader drain what the storm queued before counting
			time.Sleep(200 * time.Millisecond)
			cpu, wall = cpu+cp, wall+w
		}
		s := c.Sources.Process.Status()
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/1000, "cpu-ms/1000execs")
		b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "wall-ms/1000execs")
		b.ReportMetric(float64(s.LostKernel), "lost")
	})
}

// BenchmarkRingMemory: heap of a ring at osquery's default bound
// (50,000 rows) of exec rows of a typical size.
func BenchmarkRingMemory(b *testing.B) {
	row := table.Row{
		"event": "exec", "pid": "123456", "ppid": "123400", "path": "/usr/bin/dpkg",
		"cmdline": "/usr/bin/dpkg --status-fd 23 --no-triggers --unpack --auto-deconfigure /var/cache/apt/archives/libfoo_1.2-3_amd64.deb",
		"argv":    `["/usr/bin/dpkg","--status-fd","23","--no-triggers","--unpack","--auto-deconfigure","/var/cache/apt/archives/libfoo_1.2-3_amd64.deb"]`,
		"cwd":     "/", "uid": "0", "euid": "0", "gid": "0", "egid": "0", "parent_path": "/usr/bin/apt-get",
		"parent_cmdline": "apt-get install -y libfoo", "ancestry": `["/usr/bin/apt-get","/usr/bin/bash","/usr/sbin/sshd","/usr/lib/systemd/systemd"]`,
		"exit_code": "", "seeded": "0",
	}
	for i := 0; i < b.N; i++ {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		r := events.NewRing("process", events.Limits{}, nil)
		for j := 0; j < events.DefaultMax; j++ {
			// a copy per row, as the capture makes one per event
			c := make(table.Row, len(row))
			for k, v := range row {
				c[k] = strings.Clone(v)
			}
			r.Add(c)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/(1<<20), "MiB")
		runtime.KeepAlive(r)
	}
}
