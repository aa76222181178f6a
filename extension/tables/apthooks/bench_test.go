package apthooks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/aptoracle"
)

// benchRoot is the Debian fixture root plus the planted hooks written in
// apt.conf's other syntaxes: 50 files in apt.conf.d, with a dpkg database.
func benchRoot(b *testing.B) string {
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
	ents, _ := os.ReadDir(filepath.Join(root, "etc/apt/apt.conf.d"))
	b.Logf("bench root: %d files in apt.conf.d", len(ents))
	return root
}

// BenchmarkAptHooksVsAptConfig measures, on one root and in one run, the
// table's generate (in process), the extension as a whole process
// (`pkgpersist.ext --print apt_hooks`), and `apt-config dump` as a whole
// process, and reports apt-config's time as a multiple of each.
func BenchmarkAptHooksVsAptConfig(b *testing.B) {
	root := benchRoot(b)
	apt := aptoracle.Prepare(b, root)
	ext := filepath.Join(b.TempDir(), "pkgpersist.ext")
	if out, err := exec.Command("go", "build", "-tags", "sqlite_vtable", "-o", ext, "../../").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
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
