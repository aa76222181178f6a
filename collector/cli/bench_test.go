package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/aptoracle"
)

// BenchmarkQueryFileVsFind: the whole process `pkgpersist query --file
// queries/elastic-pm-files.sql` on a root made of the fixture roots, against
// `find` listing and stat'ing the same directories, in the same run.
func BenchmarkQueryFileVsFind(b *testing.B) {
	root := b.TempDir()
	for _, fx := range []string{"debian-real", "dnf4", "yum", "dnf5", "dpkg"} {
		if err := aptoracle.CopyTree(filepath.Join("../../test/roots", fx), root); err != nil {
			b.Fatal(err)
		}
	}
	bin := filepath.Join(b.TempDir(), "pkgpersist")
	if out, err := exec.Command("go", "build", "-tags", "sqlite_vtable", "-o", bin, "..").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	dirs := []string{"etc/apt/apt.conf.d", "usr/lib/python3.11/site-packages/dnf-plugins", "etc/dnf/plugins", "usr/lib/yum-plugins", "etc/yum/pluginconf.d"}
	var findArgs []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(root, d)); err == nil {
			findArgs = append(findArgs, filepath.Join(root, d))
		}
	}
	findArgs = append(findArgs, "-mindepth", "1", "-maxdepth", "1", "-printf", "%p %u %g %A@ %T@ %C@ %s\n")
	var query, find time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if out, err := exec.Command(bin, "query", "--root", root, "--format", "json", "--file", "../../queries/elastic-pm-files.sql").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		t1 := time.Now()
		if out, err := exec.Command("find", findArgs...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		t2 := time.Now()
		query += t1.Sub(t0)
		find += t2.Sub(t1)
	}
	b.ReportMetric(float64(query.Microseconds())/float64(b.N), "query-µs/op")
	b.ReportMetric(float64(find.Microseconds())/float64(b.N), "find-µs/op")
	b.ReportMetric(float64(query)/float64(find), "query/find")
}
