package osqserver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// openStore opens a store handle on dsn for t.
func openStore(t testing.TB, dsn string) *store.DB {
	t.Helper()
	st, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestLimiter: a burst, then the rate; idle names do not pile up in the
// store.
func TestLimiter(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openStore(t, dsn)
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
		for i := 0; i < 2*forgetEvery; i++ {
			allow(fmt.Sprint("k", i), now.Add(time.Hour+time.Duration(i)*time.Millisecond))
		}
		if n, err := st.RateBuckets(ctx); err != nil || n > forgetEvery {
			t.Errorf("%d buckets kept for %d one-off names (%v)", n, 2*forgetEvery, err)
		}
	})
}

// TestLimiterShared: processes taking from one bucket at once (two store
// handles, many requests each) get its burst between them, not more.
func TestLimiterShared(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		const burst = 50
		at := time.Unix(1e9, 0)
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for p := 0; p < 2; p++ {
			l := newLimiter(openStore(t, dsn), 1, burst, &atomic.Int64{})
			for g := 0; g < 16; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 10; i++ {
						ok, err := l.allow(context.Background(), "hot", at)
						if err != nil {
							t.Error(err)
							return
						}
						if ok {
							allowed.Add(1)
						}
					}
				}()
			}
		}
		wg.Wait()
		if n := allowed.Load(); n != burst {
			t.Errorf("320 requests at once from two processes: %d allowed, want the burst of %d", n, burst)
		}
	})
}
