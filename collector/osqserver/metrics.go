package osqserver

import (
	"fmt"
	"io"
	"sort"
	"sync"
)

// Metrics counts requests and rejections for /metrics (Prometheus text
// format).
type Metrics struct {
	mu     sync.Mutex
	counts map[[2]string]int64 // metric, label set
}

// NewMetrics returns empty counters.
func NewMetrics() *Metrics { return &Metrics{counts: map[[2]string]int64{}} }

// Add adds n to a counter; labels is Prometheus label syntax (`a="b"`).
func (m *Metrics) Add(metric, labels string, n int64) {
	m.mu.Lock()
	m.counts[[2]string{metric, labels}] += n
	m.mu.Unlock()
}

// Get reads a counter.
func (m *Metrics) Get(metric, labels string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[[2]string{metric, labels}]
}

var help = map[string]string{
	"pkgpersist_requests_total":      "Requests answered, by endpoint.",
	"pkgpersist_rejected_total":      "Requests refused, by reason.",
	"pkgpersist_rows_total":          "Result rows stored, by source (log or distributed).",
	"pkgpersist_enrollments_total":   "Successful enrollments.",
	"pkgpersist_alerts_total":        "Enrollments refused as possible identity takeovers, by kind.",
	"pkgpersist_skipped_lines_total": "Log lines skipped (unreadable or over a cap), by reason; the rest of their batch was stored.",
}

// Write writes every counter in the text exposition format.
func (m *Metrics) Write(w io.Writer) {
	m.mu.Lock()
	keys := make([][2]string, 0, len(m.counts))
	for k := range m.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	last := ""
	for _, k := range keys {
		if k[0] != last {
			fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", k[0], help[k[0]], k[0])
			last = k[0]
		}
		if k[1] == "" {
			fmt.Fprintf(w, "%s %d\n", k[0], m.counts[k])
		} else {
			fmt.Fprintf(w, "%s{%s} %d\n", k[0], k[1], m.counts[k])
		}
	}
	m.mu.Unlock()
}
