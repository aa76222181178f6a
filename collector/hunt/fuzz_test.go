package hunt_test

import (
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// FuzzDecodeBatch: whatever a host prints, decoding and judging it never
// panics, gives a state, and gives ok only with every asked query
// answered without error or skipped, and no reason but the skips.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range []string{
		`[{"id":"pkgpersist-coverage","rows":[{"source":"apt_hooks","path":"","status":"complete","cause":"","reason":""}]},{"id":"hooks","rows":[{"a":"b"}]}]`,
		`[{"id":"hooks","rows":[{"a":1}]},{"id":"hooks"},5,null,{"id":"x","problems":[{"path":"/p","cause":"permission","detail":"d"}]}]`,
		`[]`, `null`, `{"id":"hooks"}`, `[{"id":"hooks","rows":[null]}]`,
		`[{"id":"pkgpersist-coverage","rows":[{"source":"apt_hooks","path":"","status":"complete","cause":"","reason":""}]},{"id":"hooks","rows":[]},{"id":"events","skipped":"no event source"}]`,
	} {
		f.Add([]byte(s))
	}
	asked := []hunt.BatchQuery{{ID: hunt.CoverageID, SQL: hunt.CoverageSQL}, {ID: "hooks", SQL: "SELECT 1"}, {ID: "events", SQL: "SELECT 1", Event: true}}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := hunt.DecodeBatch(data)
		h := hunt.Assess("h", asked, res, err)
		switch h.State {
		case store.StateOK:
			skips := 0
			for _, q := range h.Queries {
				if strings.HasPrefix(q.Err, hunt.SkippedPrefix) {
					skips++
				} else if q.Err != "" {
					t.Fatalf("ok with query %s failed: %s", q.QueryID, q.Err)
				}
			}
			for _, r := range h.Reasons {
				if !strings.Contains(r, " skipped: ") {
					t.Fatalf("ok with reasons %q", h.Reasons)
				}
			}
			if len(h.Reasons) != skips {
				t.Fatalf("ok with %d skipped queries and reasons %q", skips, h.Reasons)
			}
			if len(h.Queries) != len(asked) {
				t.Fatalf("ok with %d of %d queries", len(h.Queries), len(asked))
			}
		case store.StateIncomplete, store.StateFailed:
			if len(h.Reasons) == 0 {
				t.Fatalf("%s without a reason", h.State)
			}
		default:
			t.Fatalf("state %q", h.State)
		}
		for _, q := range h.Queries {
			for _, r := range q.Rows {
				if r == nil {
					t.Fatal("a nil row")
				}
			}
		}
	})
}
