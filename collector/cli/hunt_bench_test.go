package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/aptlists"
	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
)

// readDatabasesOnce is the baseline of a whole-host hunt: each package
// database the hunt's tables read, read once with pkgpersist's own
// readers and nothing cached: dpkg's status file, every file list
// (dpkgdb.ReadIndex), apt's package lists and every header of rpm's
// database. dpkgOnly is the same for dpkg's status and file lists alone.
func readDatabasesOnce(b *testing.B, root string, dpkgOnly bool) {
	fs, err := fsroot.Open(root)
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	st := dpkgdb.ReadStatus(context.Background(), fs, dpkgdb.Admindir, nil)
	dpkgdb.ReadIndex(fs.Sub(), st)
	if dpkgOnly {
		return
	}
	aptlists.Load(fs, aptlists.Dir, nil)
	db := rpmdb.New(context.Background(), fs)
	defer db.Close()
	db.Packages(func(rpmdb.Package) error { return nil })
}

// cpu is the CPU time this process and its waited-for children used.
func cpu(who int) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func medianOf(ds []float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkHuntVsDatabases: the whole process `pkgpersist hunt --root /`
// (every built-in query, the embedded engine, json to /dev/null, a new
// store each run) against reading this host's package databases once
// (readDatabasesOnce), alternating, 5 pairs an iteration. It reports the
// medians of each pair's ratio, wall and CPU, against all the databases
// (hunt/dbs) and against dpkg's alone (hunt/dpkg, which dpkg's own
// `dpkg -S` reads).
func BenchmarkHuntVsDatabases(b *testing.B) {
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		b.Skip("no dpkg database on this host")
	}
	bin := filepath.Join(b.TempDir(), "pkgpersist")
	if out, err := exec.Command("go", "build", "-tags", "sqlite_vtable", "-o", bin, "..").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	dir := b.TempDir()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	hunt := func() (wall, cpu time.Duration) {
		db := filepath.Join(dir, "hunt.db")
		os.Remove(db)
		cmd := exec.Command(bin, "hunt", "--root", "/", "--format", "json", "--db", db)
		cmd.Stdout, cmd.Stderr = null, null
		t0 := time.Now()
		err := cmd.Run()
		wall = time.Since(t0)
		// 1 is a host that is not ok (say, a file root cannot read):
		// the hunt still ran every query
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
			b.Fatalf("hunt: %v", err)
		}
		return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	baseline := func(dpkgOnly bool) (wall, used time.Duration) {
		c0, t0 := cpu(syscall.RUSAGE_SELF), time.Now()
		readDatabasesOnce(b, "/", dpkgOnly)
		return time.Since(t0), cpu(syscall.RUSAGE_SELF) - c0
	}
	var wallDBs, cpuDBs, wallDpkg, cpuDpkg, huntMs, dbsMs []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for range 5 {
			hw, hc := hunt()
			dw, dc := baseline(false)
			pw, pc := baseline(true)
			wallDBs = append(wallDBs, float64(hw)/float64(dw))
			cpuDBs = append(cpuDBs, float64(hc)/float64(dc))
			wallDpkg = append(wallDpkg, float64(hw)/float64(pw))
			cpuDpkg = append(cpuDpkg, float64(hc)/float64(pc))
			huntMs = append(huntMs, float64(hw.Milliseconds()))
			dbsMs = append(dbsMs, float64(dw.Milliseconds()))
		}
	}
	b.ReportMetric(medianOf(huntMs), "hunt-ms")
	b.ReportMetric(medianOf(dbsMs), "dbs-ms")
	b.ReportMetric(medianOf(wallDBs), "hunt/dbs")
	b.ReportMetric(medianOf(cpuDBs), "hunt/dbs-cpu")
	b.ReportMetric(medianOf(wallDpkg), "hunt/dpkg")
	b.ReportMetric(medianOf(cpuDpkg), "hunt/dpkg-cpu")
}
