package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/tables/file"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// BenchmarkRecursiveWalk100k: rows per second of `path LIKE '/walk/%%'`
// over 100,000 files in 100 directories, against reading the same tree
// with filepath.WalkDir plus an lstat per entry (the baseline, same run).
func BenchmarkRecursiveWalk100k(b *testing.B) {
	root := b.TempDir()
	for d := 0; d < 100; d++ {
		dir := filepath.Join(root, "walk", fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := 0; f < 1000; f++ {
			fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%04d", f)))
			if err != nil {
				b.Fatal(err)
			}
			fh.Close()
		}
	}
	e, err := New([]*table.Table{file.Table()}, root)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var engineTime, walkTime time.Duration
	rows := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		res, err := e.Query(context.Background(), "SELECT path, size, mtime FROM file WHERE path LIKE '/walk/%%'")
		if err != nil {
			b.Fatal(err)
		}
		rows = len(res.Rows)
		t1 := time.Now()
		n := 0
		_ = filepath.WalkDir(filepath.Join(root, "walk"), func(p string, d os.DirEntry, err error) error {
			if err == nil {
				if _, err := os.Lstat(p); err == nil {
					n++
				}
			}
			return nil
		})
		t2 := time.Now()
		engineTime += t1.Sub(t0)
		walkTime += t2.Sub(t1)
	}
	if rows != 100_100 {
		b.Fatalf("%d rows", rows)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/engineTime.Seconds(), "rows/s")
	b.ReportMetric(float64(engineTime)/float64(walkTime), "x-walkdir")
}
