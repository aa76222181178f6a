// Package events keeps captured events in a bounded ring, as osquery's
// evented tables keep theirs: at most Max rows and none older than Expiry,
// with every row ever added, every row pushed out and every event the
// kernel dropped before it reached the ring counted, so that a window
// that lost events says so (pm_event_status).
package events

import (
	"encoding/binary"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/pkgpersist/pkgpersist/extension/table"
)

// DefaultMax and DefaultExpiry are osquery's --events_max and
// --events_expiry defaults. DefaultMaxBytes bounds what those rows hold:
// an exec row is a few hundred bytes, so 50,000 of them fit many times
// over, but rows carry the command line three times (cmdline, argv,
// parent_cmdline) and a compiler's 100 KB command lines at 50,000 rows
// would hold gigabytes.
const (
	DefaultMax      = 50000
	DefaultExpiry   = time.Hour
	DefaultMaxBytes = 64 << 20
)

// Limits bound a ring; zero values take the defaults.
type Limits struct {
	Max    int
	Expiry time.Duration
	// MaxBytes bounds the rows' packed text plus each entry's own size
	MaxBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.Max <= 0 {
		l.Max = DefaultMax
	}
	if l.Expiry <= 0 {
		l.Expiry = DefaultExpiry
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// Ring is one source's events. Its methods are safe for concurrent use:
// the capture adds while queries select.
type Ring struct {
	source string
	limits Limits
	now    func() time.Time

	mu      sync.Mutex
	buf     []entry // circular, len(buf) == limits.Max once full
	head    int     // index of the oldest entry
	n       int
	nextEID int64
	added   int64
	evicted int64
	// evictedUnread counts the evicted rows no Select had returned: under
	// osqueryd, the only record that they were never logged
	evictedUnread int64
	lost          int64
	// bytes is what the kept entries hold (entry.size)
	bytes int64
	// incomplete counts rows added without the facts a row should have
	// (a process gone before /proc was read)
	incomplete int64
	running    bool
	err        string
	// cols names the columns rows have brought so far; an entry's row is
	// packed as (column index, length, value) runs in one string, since a
	// map per row cost three times the row's text (81 MiB at 50,000 rows)
	cols  []string
	index map[string]int
}

type entry struct {
	eid  int64
	time int64
	row  string
	// read: a Select returned it, so pushing it out loses nothing
	read bool
}

// entryOverhead is an entry's own size beside its row's text.
const entryOverhead = int64(unsafe.Sizeof(entry{}))

func (e entry) size() int64 { return entryOverhead + int64(len(e.row)) }

// packLocked encodes row against the ring's columns.
func (r *Ring) packLocked(row table.Row) string {
	size := 0
	for _, v := range row {
		size += len(v) + 2*binary.MaxVarintLen32
	}
	b := make([]byte, 0, size)
	for k, v := range row {
		i, ok := r.index[k]
		if !ok {
			if r.index == nil {
				r.index = map[string]int{}
			}
			i = len(r.cols)
			r.cols = append(r.cols, k)
			r.index[k] = i
		}
		b = binary.AppendUvarint(b, uint64(i))
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return string(b)
}

// unpack decodes an entry's row into out; cols are the ring's columns
// when the entry was copied (they only grow, so a copy of the slice
// header names every index the entry holds).
func unpack(cols []string, s string, out table.Row) {
	b := []byte(s)
	for len(b) > 0 {
		i, n := binary.Uvarint(b)
		b = b[n:]
		l, m := binary.Uvarint(b)
		b = b[m:]
		out[cols[i]] = s[len(s)-len(b) : len(s)-len(b)+int(l)]
		b = b[l:]
	}
}

// NewRing returns an empty ring for source (`process`, `file`); now is the
// clock (time.Now when nil).
func NewRing(source string, limits Limits, now func() time.Time) *Ring {
	if now == nil {
		now = time.Now
	}
	return &Ring{source: source, limits: limits.withDefaults(), now: now}
}

// Source is the ring's source name.
func (r *Ring) Source() string { return r.source }

// Add appends a row, giving it the next eid and the current time, and
// returns the eid.
func (r *Ring) Add(row table.Row) int64 {
	t := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(t)
	r.nextEID++
	e := entry{eid: r.nextEID, time: t.Unix(), row: r.packLocked(row)}
	r.added++
	// the newest row is kept even when it alone passes the byte bound
	for r.n > 0 && r.bytes+e.size() > r.limits.MaxBytes {
		r.evictOldestLocked()
	}
	switch {
	case r.n < len(r.buf):
		r.buf[(r.head+r.n)%len(r.buf)] = e
	case len(r.buf) < r.limits.Max:
		// grow up to Max (memory follows what is kept); expiry may have
		// moved head, so straighten the ring before appending
		if r.head != 0 {
			r.buf = append(append(make([]entry, 0, len(r.buf)+1), r.buf[r.head:]...), r.buf[:r.head]...)
			r.head = 0
		}
		r.buf = append(r.buf, e)
	default:
		r.evictOldestLocked()
		r.buf[(r.head+r.n)%len(r.buf)] = e
	}
	r.n++
	r.bytes += e.size()
	return e.eid
}

// evictOldestLocked pushes the oldest entry out.
func (r *Ring) evictOldestLocked() {
	r.bytes -= r.buf[r.head].size()
	if !r.buf[r.head].read {
		r.evictedUnread++
	}
	r.buf[r.head] = entry{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	r.evicted++
}

// expireLocked drops entries older than the expiry.
func (r *Ring) expireLocked(now time.Time) {
	cutoff := now.Add(-r.limits.Expiry).Unix()
	for r.n > 0 && r.buf[r.head].time < cutoff {
		r.evictOldestLocked()
	}
	if r.n == 0 {
		r.head = 0
		r.buf = r.buf[:0]
	}
}

// Lost counts events the kernel dropped before they reached the ring.
func (r *Ring) Lost(n int64) {
	r.mu.Lock()
	r.lost += n
	r.mu.Unlock()
}

// Incomplete counts n rows the source added without all their facts.
func (r *Ring) Incomplete(n int64) {
	r.mu.Lock()
	r.incomplete += n
	r.mu.Unlock()
}

// SetRunning records whether the capture runs, and why not when err is
// not empty.
func (r *Ring) SetRunning(running bool, err string) {
	r.mu.Lock()
	r.running, r.err = running, err
	r.mu.Unlock()
}

// Select returns the rows the query's eid and time constraints (`>`,
// `>=`, `=`, `<`, `<=`) admit, oldest first, with their eid and time columns, and
// marks them read (see Status.EvictedUnread).
func (r *Ring) Select(q table.QueryContext) []table.Row {
	keep := func(col string, v int64) bool {
		for _, c := range q.Constraints[col] {
			if !c.MatchInt(v) {
				return false
			}
		}
		return true
	}
	// copy what matches under the lock and unpack after releasing it:
	// unpacking 50,000 rows held the lock for 168 ms, and the capture's
	// Add, so the kernel reader, waited that long
	r.mu.Lock()
	r.expireLocked(r.now())
	var picked []entry
	for i := 0; i < r.n; i++ {
		e := &r.buf[(r.head+i)%len(r.buf)]
		if keep("eid", e.eid) && keep("time", e.time) {
			e.read = true
			picked = append(picked, *e)
		}
	}
	cols := r.cols
	r.mu.Unlock()
	out := make([]table.Row, 0, len(picked))
	for _, e := range picked {
		row := make(table.Row, len(cols)+2)
		unpack(cols, e.row, row)
		row["eid"] = strconv.FormatInt(e.eid, 10)
		row["time"] = strconv.FormatInt(e.time, 10)
		out = append(out, row)
	}
	return out
}

// Status is what pm_event_status says of one ring.
type Status struct {
	Source     string
	Running    bool
	Events     int64
	Kept       int64
	LostKernel int64
	Evicted    int64
	// EvictedUnread are the evicted rows no Select had returned
	EvictedUnread int64
	Incomplete    int64
	OldestEID     int64
	NewestEID     int64
	OldestTime    int64
	Max           int
	ExpirySeconds int64
	// Bytes is what the kept rows hold, bounded by MaxBytes
	Bytes    int64
	MaxBytes int64
	Error    string
}

// Status reports the ring's counters now.
func (r *Ring) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(r.now())
	s := Status{
		Source: r.source, Running: r.running, Events: r.added, Kept: int64(r.n),
		LostKernel: r.lost, Evicted: r.evicted, EvictedUnread: r.evictedUnread, Incomplete: r.incomplete, Max: r.limits.Max,
		ExpirySeconds: int64(r.limits.Expiry / time.Second), Error: r.err,
		Bytes: r.bytes, MaxBytes: r.limits.MaxBytes,
	}
	if r.n > 0 {
		oldest := r.buf[r.head]
		s.OldestEID, s.OldestTime = oldest.eid, oldest.time
		s.NewestEID = r.buf[(r.head+r.n-1)%len(r.buf)].eid
	}
	return s
}

// Sources are the rings the evented tables read; a nil *Sources, or a nil
// ring, means nothing captures in this process.
type Sources struct {
	Process *Ring
	File    *Ring
}

// Rings returns the rings in pm_event_status order; nil ones included.
func (s *Sources) Rings() []*Ring {
	if s == nil {
		return []*Ring{nil, nil}
	}
	return []*Ring{s.Process, s.File}
}
