package osqserver

import (
	"testing"
	"time"
)

// TestUIClientKey: IPv6 clients share their /64's bucket (one host
// holds a whole /64), IPv4 clients have one each.
func TestUIClientKey(t *testing.T) {
	same := [][2]string{
		{"[2001:db8:1:2::1]:1000", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:2000"},
		{"192.0.2.7:1", "192.0.2.7:2"},
		{"[::ffff:192.0.2.7]:1", "192.0.2.7:3"},
	}
	differ := [][2]string{
		{"[2001:db8:1:2::1]:1000", "[2001:db8:1:3::1]:1000"},
		{"192.0.2.7:1", "192.0.2.8:1"},
	}
	for _, p := range same {
		if uiClient(p[0]) != uiClient(p[1]) {
			t.Errorf("%s and %s: %q, %q", p[0], p[1], uiClient(p[0]), uiClient(p[1]))
		}
	}
	for _, p := range differ {
		if uiClient(p[0]) == uiClient(p[1]) {
			t.Errorf("%s and %s share %q", p[0], p[1], uiClient(p[0]))
		}
	}
}

// TestMemLimiter: a client gets its burst, then its rate; the buckets
// kept are bounded, past which the clients not yet known share one.
func TestMemLimiter(t *testing.T) {
	l := newMemLimiter(2, 3, 4)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if !l.allow("a", now) {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	if l.allow("a", now) {
		t.Error("past the burst allowed")
	}
	if !l.allow("a", now.Add(500*time.Millisecond)) {
		t.Error("a token later refused")
	}
	for i := range 10 {
		l.allow(string(rune('b'+i)), now)
	}
	if n := len(l.buckets); n > 4 {
		t.Errorf("%d buckets kept, bound 4", n)
	}
}
