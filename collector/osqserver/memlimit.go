package osqserver

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// memLimiter is a token bucket per name held in this process: for the
// UI, which is not a fleet path (one person's browser), so that its
// requests, refused ones included, never write to the store. At most
// max buckets are kept; past that, the buckets that are full again are
// dropped, and clients still not kept share one.
type memLimiter struct {
	rate  float64 // tokens a second
	burst float64
	max   int

	mu      sync.Mutex
	buckets map[string]*memBucket
}

type memBucket struct {
	tokens float64
	at     time.Time
}

// overflow is the name of the bucket the clients past max share.
const overflow = "\x00overflow"

func newMemLimiter(rate float64, burst, max int) *memLimiter {
	return &memLimiter{rate: rate, burst: float64(burst), max: max, buckets: map[string]*memBucket{}}
}

func (l *memLimiter) allow(name string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[name]
	if b == nil {
		// max-1 named buckets, and the overflow one
		if len(l.buckets) >= l.max-1 {
			l.forgetFull(now)
		}
		if len(l.buckets) >= l.max-1 {
			name = overflow
			b = l.buckets[name]
		}
		if b == nil {
			b = &memBucket{tokens: l.burst, at: now}
			l.buckets[name] = b
		}
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// forgetFull drops the buckets that have filled up again since their
// last request (keeping the overflow one, which may be the only one
// left to share).
func (l *memLimiter) forgetFull(now time.Time) {
	for name, b := range l.buckets {
		if name != overflow && b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, name)
		}
	}
}

// uiClient is the UI's rate-limit key of a request's remote address:
// an IPv4 address, or an IPv6 address's /64 (one host is usually given
// a whole /64, and could otherwise take a new address per request).
func uiClient(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
