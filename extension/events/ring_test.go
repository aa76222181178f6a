package events

import (
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/table"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func eids(rows []table.Row) string {
	var s string
	for _, r := range rows {
		s += r["eid"] + " "
	}
	return s
}

func q(col string, op table.Operator, v int64) table.QueryContext {
	return table.QueryContext{Constraints: map[string][]table.Constraint{col: {{Op: op, Expr: strconv.FormatInt(v, 10)}}}}
}

// TestRingBounds: the ring keeps the newest Max rows and none older than
// Expiry; everything pushed out is counted, eids keep increasing.
func TestRingBounds(t *testing.T) {
	c := &clock{time.Unix(1000, 0)}
	r := NewRing("process", Limits{Max: 3, Expiry: 10 * time.Second}, c.now)
	for i := 0; i < 5; i++ {
		r.Add(table.Row{"n": strconv.Itoa(i)})
	}
	if got := eids(r.Select(table.QueryContext{})); got != "3 4 5 " {
		t.Fatalf("kept %q, want the newest three", got)
	}
	s := r.Status()
	if s.Events != 5 || s.Kept != 3 || s.Evicted != 2 || s.OldestEID != 3 || s.NewestEID != 5 || s.OldestTime != 1000 {
		t.Fatalf("status %+v", s)
	}
	// age: two rows later, the first three expire
	c.t = c.t.Add(11 * time.Second)
	r.Add(table.Row{})
	c.t = c.t.Add(time.Second)
	r.Add(table.Row{})
	if got := eids(r.Select(table.QueryContext{})); got != "6 7 " {
		t.Fatalf("kept %q after expiry", got)
	}
	// grows again after expiry moved its start, order kept
	r.Add(table.Row{})
	r.Add(table.Row{})
	if got := eids(r.Select(table.QueryContext{})); got != "7 8 9 " {
		t.Fatalf("kept %q after growing again", got)
	}
	if s := r.Status(); s.Evicted != 6 || s.Events != 9 {
		t.Fatalf("status %+v", s)
	}
}

// TestRingSelect: eid and time constraints select; a row's own columns
// are untouched.
func TestRingSelect(t *testing.T) {
	c := &clock{time.Unix(100, 0)}
	r := NewRing("file", Limits{}, c.now)
	for i := 0; i < 4; i++ {
		r.Add(table.Row{"x": "y"})
		c.t = c.t.Add(time.Second)
	}
	cases := []struct {
		q    table.QueryContext
		want string
	}{
		{q("eid", table.GreaterThan, 2), "3 4 "},
		{q("eid", table.GreaterThanOrEquals, 2), "2 3 4 "},
		{q("eid", table.Equals, 2), "2 "},
		{q("time", table.GreaterThan, 101), "3 4 "},
		{q("time", table.GreaterThanOrEquals, 101), "2 3 4 "},
		{q("eid", table.GreaterThan, 4), ""},
	}
	for _, tc := range cases {
		if got := eids(r.Select(tc.q)); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.q, got, tc.want)
		}
	}
	if rows := r.Select(q("eid", table.Equals, 1)); rows[0]["x"] != "y" || rows[0]["time"] != "100" {
		t.Fatalf("row %v", rows[0])
	}
}

// TestDefaults are osquery's.
func TestDefaults(t *testing.T) {
	s := NewRing("process", Limits{}, nil).Status()
	if s.Max != 50000 || s.ExpirySeconds != 3600 || s.MaxBytes != 64<<20 {
		t.Fatalf("%+v", s)
	}
}

// TestRingGrowsAfterPartialExpiry: expiry moves the ring's start while it
// is below Max; growing past it keeps the order.
func TestRingGrowsAfterPartialExpiry(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	r := NewRing("process", Limits{Max: 10, Expiry: 10 * time.Second}, c.now)
	for i := 0; i < 3; i++ {
		r.Add(table.Row{})
	}
	c.t = c.t.Add(5 * time.Second)
	r.Add(table.Row{})
	r.Add(table.Row{})
	c.t = c.t.Add(6 * time.Second) // the first three expire
	for i := 0; i < 6; i++ {
		r.Add(table.Row{})
	}
	if got := eids(r.Select(table.QueryContext{})); got != "4 5 6 7 8 9 10 11 " {
		t.Fatalf("kept %q", got)
	}
}

// TestRowsComeBackAsAdded: rows are kept packed; each comes back with
// exactly its own columns and values, whatever bytes and lengths they
// hold and whichever columns other rows brought.
func TestRowsComeBackAsAdded(t *testing.T) {
	r := NewRing("file", Limits{}, nil)
	rows := []table.Row{
		{"a": "1", "b": ""},
		{"c": strings.Repeat("é\x00\xff", 300), "a": "x y"},
		{},
		{"b": "2", "d": `["/usr/bin/dpkg","--unpack"]`},
	}
	for _, row := range rows {
		r.Add(row)
	}
	got := r.Select(table.QueryContext{})
	if len(got) != len(rows) {
		t.Fatalf("%d rows back, want %d", len(got), len(rows))
	}
	for i, row := range rows {
		want := maps.Clone(row)
		want["eid"], want["time"] = got[i]["eid"], got[i]["time"]
		if want["eid"] != strconv.Itoa(i+1) || !maps.Equal(got[i], want) {
			t.Errorf("row %d: %q, want %q", i, got[i], want)
		}
	}
}

// BenchmarkAddDuringSelect: a large Select unpacks its rows after
// releasing the ring, so the capture's Add (and the kernel reader behind
// it) waits only for the copy, not for the whole select. Reports the
// longest Add wait as a share of the select's time (it was 1.0 when the
// select unpacked under the lock).
func BenchmarkAddDuringSelect(b *testing.B) {
	r := NewRing("process", Limits{Max: 50000}, nil)
	row := table.Row{}
	for i := 0; i < 12; i++ {
		row["col"+strconv.Itoa(i)] = strings.Repeat("x", 80)
	}
	for i := 0; i < 50000; i++ {
		r.Add(row)
	}
	var share float64
	for i := 0; i < b.N; i++ {
		started, done := make(chan struct{}), make(chan time.Duration)
		go func() {
			close(started)
			t0 := time.Now()
			r.Select(table.QueryContext{})
			done <- time.Since(t0)
		}()
		<-started
		var worst time.Duration
	adding:
		for {
			select {
			case took := <-done:
				share = max(share, float64(worst)/float64(took))
				break adding
			default:
			}
			t0 := time.Now()
			r.Add(table.Row{"n": "1"})
			worst = max(worst, time.Since(t0))
		}
	}
	b.ReportMetric(share, "worst-add/select")
}

// TestRingByteBound: rows are bounded in bytes too, the oldest pushed out
// (and counted) first; a row larger than the bound alone is still kept.
func TestRingByteBound(t *testing.T) {
	long := table.Row{"cmdline": strings.Repeat("c", 1000)}
	one := NewRing("process", Limits{}, nil)
	one.Add(long)
	size := one.Status().Bytes
	if size < 1000 {
		t.Fatalf("one row of 1000 bytes counts %d", size)
	}
	r := NewRing("process", Limits{MaxBytes: 3*size + size/2}, nil)
	for i := 0; i < 5; i++ {
		r.Add(long)
	}
	if got := eids(r.Select(table.QueryContext{})); got != "3 4 5 " {
		t.Fatalf("kept %q, want the newest three", got)
	}
	s := r.Status()
	if s.Kept != 3 || s.Evicted != 2 || s.Bytes != 3*size || s.MaxBytes != 3*size+size/2 {
		t.Fatalf("status %+v", s)
	}
	// a short row fits beside them; a row larger than the bound replaces all
	r.Add(table.Row{})
	if s := r.Status(); s.Kept != 4 || s.Evicted != 2 {
		t.Fatalf("status %+v after a short row", s)
	}
	r.Add(table.Row{"cmdline": strings.Repeat("c", int(4*size))})
	if got := eids(r.Select(table.QueryContext{})); got != "7 " {
		t.Fatalf("kept %q, want only the huge row", got)
	}
	if s := r.Status(); s.Evicted != 6 || s.Bytes <= s.MaxBytes {
		t.Fatalf("status %+v after a huge row", s)
	}
	// expiry and emptying give the bytes back
	c := &clock{time.Unix(0, 0)}
	e := NewRing("file", Limits{Expiry: time.Second}, c.now)
	e.Add(long)
	c.t = c.t.Add(2 * time.Second)
	if s := e.Status(); s.Kept != 0 || s.Bytes != 0 {
		t.Fatalf("status %+v after expiry", s)
	}
}

// TestEvictedUnread: rows pushed out before any Select returned them are
// counted apart from those a query had read; a select reads only the
// rows its constraints admit.
func TestEvictedUnread(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	r := NewRing("process", Limits{Max: 3, Expiry: 10 * time.Second}, c.now)
	for i := 0; i < 5; i++ {
		r.Add(table.Row{})
	}
	if s := r.Status(); s.Evicted != 2 || s.EvictedUnread != 2 {
		t.Fatalf("status %+v, want 2 pushed out unread", s)
	}
	r.Select(q("eid", table.GreaterThan, 3)) // reads 4 and 5, not 3
	for i := 0; i < 3; i++ {
		r.Add(table.Row{})
	}
	if s := r.Status(); s.Evicted != 5 || s.EvictedUnread != 3 {
		t.Fatalf("status %+v, want 3 unread of 5", s)
	}
	// age: 6 read, 7 and 8 not
	r.Select(q("eid", table.Equals, 6))
	c.t = c.t.Add(11 * time.Second)
	if s := r.Status(); s.Kept != 0 || s.Evicted != 8 || s.EvictedUnread != 5 {
		t.Fatalf("status %+v after expiry", s)
	}
}

// TestSelectWindow: `eid > a AND eid <= b` selects exactly (a, b], and
// only those rows count as read.
func TestSelectWindow(t *testing.T) {
	r := NewRing("process", Limits{Max: 3}, nil)
	for i := 0; i < 5; i++ {
		r.Add(table.Row{"n": strconv.Itoa(i)})
	}
	q := table.QueryContext{Constraints: map[string][]table.Constraint{"eid": {
		{Op: table.GreaterThan, Expr: "2"}, {Op: table.LessThanOrEquals, Expr: "4"}}}}
	if got := eids(r.Select(q)); got != "3 4 " {
		t.Fatalf("(2, 4]: %q", got)
	}
	if got := eids(r.Select(table.QueryContext{Constraints: map[string][]table.Constraint{"eid": {{Op: table.LessThan, Expr: "4"}}}})); got != "3 " {
		t.Fatalf("< 4: %q", got)
	}
	// 5 was never read: pushed out, it is a loss
	for i := 0; i < 3; i++ {
		r.Add(table.Row{})
	}
	if s := r.Status(); s.EvictedUnread != 3 {
		t.Fatalf("evicted unread %d, want 3 (eids 1, 2 and 5)", s.EvictedUnread)
	}
}
