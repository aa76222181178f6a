package store

import (
	"context"
	"testing"
	"time"
)

// TestOverlappingRunsCurrent: runs that overlap (hunts started at once)
// may save a host out of their order; the host's current rows are still
// those of its latest run, whichever saved last.
func TestOverlappingRunsCurrent(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		var runs []int64
		for i := 0; i < 2; i++ {
			id, err := s.BeginRun(ctx, Run{Started: time.Now(), Transport: "enrolled"}, []Query{q1})
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, id)
		}
		// the later run is saved first
		for _, id := range []int64{runs[1], runs[0]} {
			if err := s.SaveHost(ctx, id, host("h", rows("a", "b"))); err != nil {
				t.Fatal(err)
			}
		}
		cur, err := s.Current(ctx, "h", "")
		if err != nil || len(cur) != 2 {
			t.Fatalf("current rows after overlapping runs saved out of order: %+v (%v)", cur, err)
		}
		for _, c := range cur {
			if c.RunID != runs[1] {
				t.Errorf("%s: current as of run %d, the latest is %d", c.Row["command"], c.RunID, runs[1])
			}
		}
	})
}
