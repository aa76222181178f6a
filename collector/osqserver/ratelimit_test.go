package osqserver

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiter: a burst, then the rate; idle keys do not pile up.
func TestLimiter(t *testing.T) {
	l := newLimiter(10, 5)
	now := time.Unix(0, 0)
	allowed := 0
	for i := 0; i < 20; i++ {
		if l.allow("a", now) {
			allowed++
		}
	}
	if allowed != 5 {
		t.Errorf("burst: %d allowed, want 5", allowed)
	}
	if !l.allow("a", now.Add(100*time.Millisecond)) || l.allow("a", now.Add(100*time.Millisecond)) {
		t.Error("one token a tenth of a second")
	}
	for i := 0; i < 10000; i++ {
		l.allow(fmt.Sprint("k", i), now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(l.buckets); n > 4096 {
		t.Errorf("%d buckets kept for 10,000 one-off keys", n)
	}
}
