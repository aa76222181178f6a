package output

import (
	"fmt"
	"io"
	"testing"
	"time"
)

// benchRows is a file listing's shape: 20,000 rows of paths, owners,
// times and sizes, a few with characters Safe escapes.
func benchRows() ([]string, [][]string) {
	cols := []string{"path", "directory", "filename", "uid", "gid", "username", "groupname", "mode", "size", "mtime", "sha256"}
	rows := make([][]string, 20000)
	for i := range rows {
		name := fmt.Sprintf("hook-%05d.conf", i)
		if i%100 == 0 {
			name = fmt.Sprintf("hook-%05d\x1b[2K.conf", i)
		}
		rows[i] = []string{"/etc/apt/apt.conf.d/" + name, "/etc/apt/apt.conf.d", name, "0", "0", "root", "root", "0644",
			fmt.Sprint(100 + i%4000), fmt.Sprint(1700000000 + i), fmt.Sprintf("%064x", i)}
	}
	return cols, rows
}

// BenchmarkTableVsJSON renders the same 20,000 rows as table and as json in
// each iteration and reports the ratio; the table should cost at most
// 1.2× json.
func BenchmarkTableVsJSON(b *testing.B) {
	cols, rows := benchRows()
	formats := []string{"table", "json"}
	spent := make([]time.Duration, len(formats))
	for i := 0; i < b.N; i++ {
		for j, f := range formats {
			t0 := time.Now()
			if err := Write(io.Discard, f, cols, rows); err != nil {
				b.Fatal(err)
			}
			spent[j] += time.Since(t0)
		}
	}
	for j, f := range formats {
		b.ReportMetric(float64(spent[j].Microseconds())/float64(b.N), f+"-µs/op")
	}
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "table/json")
}

// BenchmarkFormats renders the same rows in each format alone, for profiles.
func BenchmarkFormats(b *testing.B) {
	cols, rows := benchRows()
	for _, f := range Formats {
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := Write(io.Discard, f, cols, rows); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
