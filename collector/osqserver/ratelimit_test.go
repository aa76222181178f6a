package osqserver

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// TestLimiter: a burst, then the rate; idle names do not pile up in the
// store.
func TestLimiter(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := newLimiter(st, 10, 5, &atomic.Int64{})
	allow := func(name string, at time.Time) bool {
		t.Helper()
		ok, err := l.allow(ctx, name, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	now := time.Unix(0, 0)
	allowed := 0
	for i := 0; i < 20; i++ {
		if allow("a", now) {
			allowed++
		}
	}
	if allowed != 5 {
		t.Errorf("burst: %d allowed, want 5", allowed)
	}
	if !allow("a", now.Add(100*time.Millisecond)) || allow("a", now.Add(100*time.Millisecond)) {
		t.Error("one token a tenth of a second")
	}
	if !allow("a", now.Add(time.Hour)) {
		t.Error("a bucket idle for an hour is full")
	}
	for i := 0; i < 10000; i++ {
		allow(fmt.Sprint("k", i), now.Add(time.Duration(i)*time.Millisecond))
	}
	if n, err := st.RateBuckets(ctx); err != nil || n > forgetEvery {
		t.Errorf("%d buckets kept for 10,000 one-off names (%v)", n, err)
	}
}
