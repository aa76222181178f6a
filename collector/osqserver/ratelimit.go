package osqserver

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// limiter is a token bucket per name (a node, an identifier enrolling,
// all new hosts): a host that loops on the server cannot starve the
// others. The buckets are in the store, so the limit holds across every
// serve process on one database, whichever one a host's requests reach.
type limiter struct {
	store *store.DB
	rate  float64 // tokens a second
	burst int
	calls *atomic.Int64 // shared by a server's limiters
}

// forgetEvery calls, the buckets that are full again are dropped.
const forgetEvery = 4096

func newLimiter(st *store.DB, rate float64, burst int, calls *atomic.Int64) *limiter {
	return &limiter{store: st, rate: rate, burst: burst, calls: calls}
}

func (l *limiter) allow(ctx context.Context, name string, now time.Time) (bool, error) {
	if l.rate <= 0 {
		return true, nil
	}
	if l.calls.Add(1)%forgetEvery == 0 {
		if err := l.store.ForgetFullBuckets(ctx, now); err != nil {
			return false, err
		}
	}
	return l.store.Allow(ctx, name, l.rate, l.burst, now)
}

// orLimited is the refusal of a request over its limit, or the store's
// error when the limit could not be looked up (a full or busy store is
// 503, which osqueryd retries).
func orLimited(err error, limited *rejection) error {
	if err != nil {
		return err
	}
	return limited
}
