package rpmdb_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// BenchmarkOwnerLookup: the owners of 1,000 paths of CentOS 7's database
// (144 packages; a fresh DB each time, so the file index is built each
// time), against rpm -qf asking for the same paths in one process run.
// rpm -qf needs the database's indexes, which the real Packages file
// comes without: rpm's own export of it is imported into an rpmdb.sqlite,
// with its Basenames index, for rpm to answer from.
func BenchmarkOwnerLookup(b *testing.B) {
	src := rpmdbtest.RealBDB(b)["centos7-plain"]
	root := b.TempDir()
	rpmdbtest.CopyFile(b, src, filepath.Join(root, "var/lib/rpm"))
	var paths []string
	for path := range rpmdbtest.Owners(rpmdbtest.Dump(b, filepath.Dir(src), "_db_backend bdb_ro")) {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	step := len(paths) / 1000
	var queried []string
	for i := 0; len(queried) < 1000; i += step {
		queried = append(queried, paths[i])
	}

	exp := exec.Command(need.Program(b, "rpmdb"), "--dbpath", filepath.Dir(src), "--define", "_db_backend bdb_ro", "--exportdb")
	export, err := exp.Output()
	if err != nil {
		b.Fatalf("rpmdb --exportdb: %v", err)
	}
	sqlDir := b.TempDir()
	imp := exec.Command(need.Program(b, "rpmdb"), "--dbpath", sqlDir, "--importdb")
	imp.Stdin = bytes.NewReader(export)
	if out, err := imp.CombinedOutput(); err != nil {
		b.Fatalf("rpmdb --importdb: %v\n%s", err, out)
	}
	rpmBin := need.Program(b, "rpm")
	rpmTime := time.Duration(1 << 62)
	for i := 0; i < 2; i++ {
		cmd := exec.Command(rpmBin, append([]string{"--dbpath", sqlDir, "-qf", "--qf", "%{NAME}\n"}, queried...)...)
		start := time.Now()
		// rpm -qf resolves a path's directory on the host it runs on (this
		// one), so a few of CentOS's paths (under a /lib64 that is a
		// symlink here) are not found: rpm still looks each one up
		out, _ := cmd.Output()
		rpmTime = min(rpmTime, time.Since(start))
		if n := bytes.Count(out, []byte("\n")); n < len(queried)*9/10 {
			b.Fatalf("rpm -qf answered %d of %d paths", n, len(queried))
		}
	}

	fs := fsroot.New(root)
	defer fs.Close()
	// a sub-benchmark, so that the setup above runs once
	b.Run("centos7", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			db := rpmdb.New(context.Background(), fs)
			for _, p := range queried {
				if db.Lookup(p, func(int32) string { return "" }).Package == "" {
					b.Fatalf("%s: no owner", p)
				}
			}
			db.Close()
		}
		per := b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(per.Seconds(), "s/1000paths")
		b.ReportMetric(rpmTime.Seconds(), "rpm-qf-s/1000paths")
		b.ReportMetric(per.Seconds()/rpmTime.Seconds(), "x-rpm-qf")
	})
}

// BenchmarkSummaries: one walk summarising every package of CentOS 7's
// larger database, and what the summaries a run keeps weigh in memory
// (live heap after a collection) against the database file's size.
func BenchmarkSummaries(b *testing.B) {
	src := rpmdbtest.RealBDB(b)["centos7-many"]
	root := b.TempDir()
	file := rpmdbtest.CopyFile(b, src, filepath.Join(root, "var/lib/rpm"))
	fi, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	fs := fsroot.New(root)
	defer fs.Close()
	var kept []rpmdb.Summary
	var live uint64
	for i := 0; i < b.N; i++ {
		kept = nil
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		db := rpmdb.New(context.Background(), fs)
		if kept, err = db.Summaries(); err != nil {
			b.Fatal(err)
		}
		db.Close()
		runtime.GC()
		runtime.ReadMemStats(&after)
		live = after.HeapAlloc - before.HeapAlloc
	}
	runtime.KeepAlive(kept)
	b.ReportMetric(float64(len(kept)), "packages")
	b.ReportMetric(float64(live), "summary-bytes")
	b.ReportMetric(float64(fi.Size()), "db-bytes")
}
