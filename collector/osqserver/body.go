package osqserver

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// gate bounds the requests being read or handled at once, and the bytes
// of their bodies held in memory: past the budget a body goes to a
// temporary file.
type gate struct {
	slots chan struct{}
	wait  time.Duration

	mu     sync.Mutex
	budget int64 // bytes still free for bodies in memory
}

func newGate(concurrent int, budget int64, wait time.Duration) *gate {
	return &gate{slots: make(chan struct{}, max(concurrent, 1)), budget: budget, wait: wait}
}

// enter waits (at most g.wait) for a slot.
func (g *gate) enter(ctx context.Context) bool {
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (g *gate) leave() { <-g.slots }

// reserve takes n bytes of the memory budget if they are free.
func (g *gate) reserve(n int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n > g.budget {
		return false
	}
	g.budget -= n
	return true
}

func (g *gate) release(n int64) {
	g.mu.Lock()
	g.budget += n
	g.mu.Unlock()
}

// body is a request body as sent, kept so that it can be read more than
// once: the node key osqueryd sends after the data (osquery's
// JSON::add moves a replaced member's last sibling into its place, so
// uncompressed logs and distributed writes end with node_key) is only
// known once the data has gone by. Up to mem bytes stay in memory, the
// rest goes to an unlinked temporary file.
type body struct {
	g        *gate
	mem      []byte
	reserved int64
	file     *os.File
	size     int64
	gzip     bool
	inflate  int64 // cap on the inflated bytes of each read
}

// spool is the writer that keeps the body as it streams in.
type spool struct {
	b   *body
	max int64 // in-memory part
	dir string
}

func (w *spool) Write(p []byte) (int, error) {
	b := w.b
	b.size += int64(len(p))
	if b.file == nil && int64(len(b.mem)+len(p)) <= w.max {
		if int64(len(b.mem)+len(p)) > b.reserved {
			// reserve in steps, so a small body takes little of the budget
			step := min(w.max, max(2*b.reserved, int64(len(b.mem)+len(p)), 16<<10)) - b.reserved
			if b.g.reserve(step) {
				b.reserved += step
			}
		}
		if int64(len(b.mem)+len(p)) <= b.reserved {
			b.mem = append(b.mem, p...)
			return len(p), nil
		}
	}
	if b.file == nil {
		f, err := os.CreateTemp(w.dir, "pkgpersist-body-")
		if err != nil {
			return 0, fmt.Errorf("spooling a request body: %w", err)
		}
		os.Remove(f.Name()) // gone with the last descriptor
		b.file = f
	}
	return b.file.Write(p)
}

// close gives back what the body held.
func (b *body) close() {
	if b.file != nil {
		b.file.Close()
	}
	b.g.release(b.reserved)
	b.mem, b.reserved = nil, 0
}

// open reads the body from its start, inflated when it was sent gzipped,
// failing past the inflate cap.
func (b *body) open() (io.Reader, error) {
	var r io.Reader = bytes.NewReader(b.mem)
	if b.file != nil {
		r = io.MultiReader(r, io.NewSectionReader(b.file, 0, b.size-int64(len(b.mem))))
	}
	return b.openOn(r)
}

// openOn reads r as the body's bytes as sent: inflated when it was sent
// gzipped, failing past the inflate cap.
func (b *body) openOn(r io.Reader) (io.Reader, error) {
	if !b.gzip {
		return r, nil
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, reject(http.StatusBadRequest, "bad_gzip", "gzip body: %v", err)
	}
	return &capped{r: zr, left: b.inflate}, nil
}

// capped fails a read past its cap, unlike io.LimitReader, which ends it
// quietly.
type capped struct {
	r    io.Reader
	left int64
	hit  bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.hit = true
		return 0, errInflated
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil && err != io.EOF {
		err = reject(http.StatusBadRequest, "bad_gzip", "gzip body: %v", err)
	}
	return n, err
}

var errInflated = errors.New("gzip body inflates past its cap")

// readLimit is a body read from the network capped at n bytes as sent.
type readLimit struct {
	r    io.Reader
	left int64
}

var errSent = errors.New("request body over its cap")

func (l *readLimit) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// one byte more tells a body of exactly the cap from a longer one
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, errSent
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if err != nil && err != io.EOF {
		err = reject(http.StatusBadRequest, "body_unreadable", "reading the request body: %v", err)
	}
	return n, err
}

func isGzip(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip")
}
