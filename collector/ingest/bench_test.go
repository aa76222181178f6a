package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// benchLog writes a results log of about size bytes: event lines of the
// pkg-installs query across 10,000 hosts.
func benchLog(b *testing.B, size int64) (string, int) {
	p := filepath.Join(b.TempDir(), "osqueryd.results.log")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var written int64
	lines := 0
	for written < size {
		line := fmt.Sprintf(`{"name":"pack_pkgpersist-core_pkg-installs","hostIdentifier":"host-%05d","calendarTime":"Sun Nov 22 20:00:00 2026 UTC","unixTime":%d,"epoch":0,"counter":%d,"numerics":false,"decorations":{"host_uuid":"U%05d"},"columns":{"pid":"%d","path":"/usr/bin/rpm","cmdline":"rpm -ivh /tmp/p%d.rpm","parent_path":"/usr/sbin/httpd","parent_cmdline":"/usr/sbin/httpd -DFOREGROUND"},"action":"added"}`+"\n",
			lines%10000, 1795377600+lines/10000, lines/10000, lines%10000, lines, lines)
		n, _ := w.WriteString(line)
		written += int64(n)
		lines++
	}
	w.Flush()
	f.Close()
	return p, lines
}

// BenchmarkIngest stores a 1 GB results log (PKGPERSIST_BENCH_INGEST_MB to
// change) and, in the same run, only reads and JSON-decodes it: the
// baseline any ingest pays.
func BenchmarkIngest(b *testing.B) {
	mb := int64(1024)
	if v, err := strconv.ParseInt(os.Getenv("PKGPERSIST_BENCH_INGEST_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	path, lines := benchLog(b, mb<<20)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		f, _ := os.Open(path)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), DefaultLineBytes)
		for sc.Scan() {
			var v map[string]any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
		base := time.Since(t0)

		st, err := store.Open(filepath.Join(b.TempDir(), "p.db"))
		if err != nil {
			b.Fatal(err)
		}
		f, _ = os.Open(path)
		t0 = time.Now()
		s, err := Read(context.Background(), st, f, "bench")
		took := time.Since(t0)
		f.Close()
		st.Close()
		if err != nil || s.New != lines {
			b.Fatalf("stored %d of %d rows: %v", s.New, lines, err)
		}
		b.ReportMetric(float64(lines)/took.Seconds(), "rows/s")
		b.ReportMetric(float64(lines)/base.Seconds(), "decode-only-rows/s")
		b.ReportMetric(took.Seconds()/base.Seconds(), "x-decode-only-time")
		b.Logf("%d MB, %d rows: ingest %v (%.0f rows/s); read+decode only %v (%.0f rows/s)", mb, lines, took, float64(lines)/took.Seconds(), base, float64(lines)/base.Seconds())
	}
}
