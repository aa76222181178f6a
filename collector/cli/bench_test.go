package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/aptoracle"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// pmDirs are the directories queries/elastic-pm-files.sql lists.
var pmDirs = []string{"etc/apt/apt.conf.d", "usr/lib/python3.11/site-packages/dnf-plugins", "etc/dnf/plugins", "usr/lib/yum-plugins", "etc/yum/pluginconf.d"}

// BenchmarkQueryFileVsFind: the whole process `pkgpersist query --file
// queries/elastic-pm-files.sql` against `find -printf` with user and group
// names over the same directories, in the same run, alternating which
// runs first: on a root made of the fixture roots, and on that root with
// 2k, 20k and 200k more files spread over the directories the query lists.
// Reported: median wall time of each and their ratio, the same for CPU
// time (user and system: on a shared machine, wall time also counts the
// waits for a core), and the peak RSS of each process (the largest over
// the iterations), as GNU time reports it: the rusage of a child this
// process starts counts this process's own RSS, since Go starts it with
// vfork.
func BenchmarkQueryFileVsFind(b *testing.B) {
	find, timer := need.Program(b, "find"), need.Program(b, "time")
	bin := filepath.Join(b.TempDir(), "pkgpersist")
	// the tags of make build and make dist: the program as shipped, whose
	// start-up is a good part of a small root's cost
	if out, err := exec.Command("go", "build", "-tags", "sqlite_vtable,urfave_cli_no_docs", "-o", bin, "..").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	for _, size := range []struct {
		name  string
		files int
	}{{"fixtures", 0}, {"2k", 2_000}, {"20k", 20_000}, {"200k", 200_000}} {
		// made on the first call only: b.Run calls again with a larger b.N
		root := ""
		b.Run(size.name, func(b *testing.B) {
			if root == "" {
				root = fixtureRoot(b, size.files)
			}
			compareWithFind(b, timer, bin, find, root)
		})
		if err := os.RemoveAll(root); root != "" && err != nil {
			b.Fatal(err)
		}
	}
}

// fixtureRoot is the fixture roots copied into one, with files more empty
// files spread over pmDirs.
func fixtureRoot(b *testing.B, files int) string {
	root, err := os.MkdirTemp("", "pkgpersist-bench-")
	if err != nil {
		b.Fatal(err)
	}
	for _, fx := range []string{"debian-real", "dnf4", "yum", "dnf5", "dpkg"} {
		if err := aptoracle.CopyTree(filepath.Join("../../test/roots", fx), root); err != nil {
			b.Fatal(err)
		}
	}
	for _, d := range pmDirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < files; i++ {
		f, err := os.Create(filepath.Join(root, pmDirs[i%len(pmDirs)], fmt.Sprintf("bench-%06d.conf", i)))
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	return root
}

func compareWithFind(b *testing.B, timer, bin, find, root string) {
	var findArgs []string
	for _, d := range pmDirs {
		findArgs = append(findArgs, filepath.Join(root, d))
	}
	findArgs = append(findArgs, "-mindepth", "1", "-maxdepth", "1", "-printf", "%p %u %g %A@ %T@ %C@ %B@ %s\n")
	query := exec.Command(bin, "query", "--root", root, "--format", "json", "--file", "../../queries/elastic-pm-files.sql")
	listing := exec.Command(find, findArgs...)
	out := filepath.Join(b.TempDir(), "out")
	var queryTimes, findTimes, queryCPU, findCPU []time.Duration
	var queryRSS, findRSS int64
	b.ResetTimer()
	// the rows each lists, by "is the query": the same files
	rows := map[bool]int{}
	for i := 0; i < b.N; i++ {
		first, second := query, listing
		if i%2 == 1 {
			first, second = listing, query
		}
		for _, c := range []*exec.Cmd{first, second} {
			took, cpu, rss, lines := run(b, timer, c, out)
			if c == query {
				queryTimes, queryCPU, queryRSS = append(queryTimes, took), append(queryCPU, cpu), max(queryRSS, rss)
				// the JSON array: one row a line between "[" and "]"
				lines -= 2
			} else {
				findTimes, findCPU, findRSS = append(findTimes, took), append(findCPU, cpu), max(findRSS, rss)
			}
			if i == 0 {
				rows[c == query] = lines
			}
		}
	}
	if rows[true] != rows[false] {
		b.Fatalf("the query lists %d files, find %d", rows[true], rows[false])
	}
	b.ReportMetric(float64(rows[false]), "rows")
	q, f := median(queryTimes), median(findTimes)
	b.ReportMetric(float64(q.Microseconds()), "query-µs")
	b.ReportMetric(float64(f.Microseconds()), "find-µs")
	b.ReportMetric(float64(q)/float64(f), "query/find")
	qc, fc := median(queryCPU), median(findCPU)
	b.ReportMetric(float64(qc.Microseconds()), "query-cpu-µs")
	b.ReportMetric(float64(fc.Microseconds()), "find-cpu-µs")
	b.ReportMetric(float64(qc)/float64(fc), "query/find-cpu")
	b.ReportMetric(float64(queryRSS)/1024, "query-MiB")
	b.ReportMetric(float64(findRSS)/1024, "find-MiB")
}

// run runs a copy of c under GNU time with its output in the file out and
// returns its wall time, CPU time, peak RSS (KiB) and output lines.
func run(b *testing.B, timer string, c *exec.Cmd, out string) (time.Duration, time.Duration, int64, int) {
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var stderr bytes.Buffer
	rss := out + ".rss"
	cmd := exec.Command(timer, append([]string{"-f", "%M", "-o", rss, c.Path}, c.Args[1:]...)...)
	cmd.Stdout, cmd.Stderr = f, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v: %s", c.Path, err, stderr.Bytes())
	}
	took := time.Since(t0)
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	kib, err := os.ReadFile(rss)
	if err != nil {
		b.Fatal(err)
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(kib)), 10, 64)
	if err != nil {
		b.Fatalf("time -f %%M: %q", kib)
	}
	// time's rusage counts the command it waited for
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return took, cpu, n, bytes.Count(data, []byte("\n"))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
