package alpmhooks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/aptoracle"
)

// BenchmarkAlpmHooks runs the table on the alpm fixture plus 1,000 hook
// files (half in each hook directory, every other system hook overridden)
// and, as the baseline in the same run, reads every file of the root once.
// It reports the table's time per 1,000 files and as a multiple of the
// baseline.
func BenchmarkAlpmHooks(b *testing.B) {
	root := b.TempDir()
	if err := aptoracle.CopyTree(filepath.Join(rootsDir, "alpm"), root); err != nil {
		b.Fatal(err)
	}
	const planted = 1000
	for i := 0; i < planted; i++ {
		dir := "usr/share/libalpm/hooks"
		if i%2 == 1 {
			dir = "etc/pacman.d/hooks"
		}
		// i and i+1 share a name: the system hook of each pair is overridden
		p := filepath.Join(root, dir, fmt.Sprintf("p%04d.hook", i/2*2))
		if i%4 >= 2 {
			p = filepath.Join(root, dir, fmt.Sprintf("q%04d.hook", i))
		}
		hook := fmt.Sprintf("[Trigger]\nOperation = Install\nOperation = Upgrade\nType = Path\nTarget = usr/lib/p%04d/*\nTarget = !usr/lib/p%04d/skip\n\n[Action]\nDescription = planted %d\nWhen = PostTransaction\nExec = /usr/bin/sh -c 'echo %d'\nNeedsTargets\n", i, i, i, i)
		if err := os.WriteFile(p, []byte(hook), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var files []string
	_ = filepath.Walk(root, func(p string, fi os.FileInfo, _ error) error {
		if fi != nil && fi.Mode().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	var spent, base time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		for _, f := range files {
			if _, err := os.ReadFile(f); err != nil {
				b.Fatal(err)
			}
		}
		base += time.Since(start)
		start = time.Now()
		rows, err := Rows(context.Background(), root)
		if err != nil {
			b.Fatal(err)
		}
		spent += time.Since(start)
		if len(rows) < planted {
			b.Fatalf("%d rows for %d planted files", len(rows), planted)
		}
	}
	b.ReportMetric(float64(spent.Microseconds())/float64(b.N)/(float64(len(files))/1000), "µs/1000files")
	b.ReportMetric(float64(spent)/float64(base), "x-read-once")
}
