package hunt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Queue is where hunts for enrolled osqueryd hosts wait: the collector's
// server hands the queries out at each distributed read and records the
// answers.
type Queue interface {
	Queue(ctx context.Context, batch string, hostID int64, qs []store.Query) error
	Answers(ctx context.Context, batch string, hostID int64) ([]store.QueryResult, int, error)
	Cancel(ctx context.Context, batch string, hostID int64) error
	// Waiting returns the hosts with queries of the batch not yet
	// answered.
	Waiting(ctx context.Context, batch string) (map[int64]bool, error)
}

// Identity is what the store knows of an enrolled host's identity: when
// it last enrolled again, and what a query's answer would make disappear.
type Identity interface {
	Reenrolled(ctx context.Context, hostID int64) (time.Time, error)
	WouldDisappear(ctx context.Context, host, queryID string, rows []store.Row) (int, error)
}

// Enrolled is an osqueryd host enrolled into `pkgpersist serve`: the hunt
// queues its queries and waits for the host to answer them.
type Enrolled struct {
	Queue  Queue
	Host   string // its name in the store (store.EnrolledHost)
	HostID int64
	// Batch is the hunt's batch, shared by its enrolled hosts; nil gives
	// the host one of its own, checked every Poll.
	Batch *Batch
	Poll  time.Duration
	// Within Hold of a re-enrollment (Identity), an answer that would
	// make rows disappear is held: whoever enrolled again may not be the
	// host that had them.
	Identity Identity
	Hold     time.Duration
}

// Name is the host's host_identifier.
func (e *Enrolled) Name() string { return e.Host }

// Hunt queues the queries and waits until osqueryd has answered them all
// or ctx ends; then the unanswered ones are withdrawn and reported as
// failed, beside the answers that came.
func (e *Enrolled) Hunt(ctx context.Context, qs []BatchQuery) (Answer, error) {
	// its enrollment is its identity: no machine of a hunt's
	res, err := e.answers(ctx, qs)
	return Answer{Results: res}, err
}

func (e *Enrolled) answers(ctx context.Context, qs []BatchQuery) ([]BatchResult, error) {
	b := e.Batch
	if b == nil {
		var err error
		if b, err = NewBatch(e.Queue, e.Poll); err != nil {
			return nil, err
		}
	}
	sq := make([]store.Query, len(qs))
	for i, q := range qs {
		sq[i] = store.Query{ID: q.ID, SQL: q.SQL}
	}
	if err := e.Queue.Queue(ctx, b.ID, e.HostID, sq); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	var got []store.QueryResult
	for {
		waitErr := b.settled(ctx, e.HostID)
		if waitErr != nil && ctx.Err() == nil {
			return nil, waitErr
		}
		var pending int
		var err error
		if got, pending, err = e.Queue.Answers(context.WithoutCancel(ctx), b.ID, e.HostID); err != nil {
			return nil, err
		}
		if pending == 0 {
			return e.hold(ctx, batchResults(got))
		}
		if ctx.Err() != nil {
			break
		}
	}
	e.Queue.Cancel(context.WithoutCancel(ctx), b.ID, e.HostID)
	if len(got) == 0 {
		return nil, fmt.Errorf("osqueryd answered none of %d queries before the time limit (is it checking in? see pkgpersist hosts)", len(qs))
	}
	// what was answered is kept; each query still waiting is that
	// query's failure
	out := batchResults(got)
	answered := map[string]bool{}
	for _, q := range got {
		answered[q.QueryID] = true
	}
	for _, q := range qs {
		if !answered[q.ID] {
			out = append(out, BatchResult{ID: q.ID, Error: "osqueryd did not answer before the time limit"})
		}
	}
	return out, nil
}

// Batch is one hunt's share of the distributed queue. Every enrolled host
// the hunt reaches is queued under its ID, and one question to the store
// at each poll tells which of them have answered everything: a question
// per host would be thousands of queries a second at fleet size, on the
// database serve is writing to.
type Batch struct {
	ID    string
	queue Queue
	poll  time.Duration

	mu      sync.Mutex
	waiters map[int64]*waiter
	polling bool
	// round counts the questions to the store: a waiter is released only
	// by an answer to a question asked after it came (its queries were
	// queued before it waits)
	round int
}

type waiter struct {
	done  chan struct{}
	err   error
	round int
}

// DefaultPoll is how often a batch asks the store which hosts answered.
const DefaultPoll = 250 * time.Millisecond

// NewBatch starts a batch with a new random ID, checked every poll
// (DefaultPoll when poll is 0).
func NewBatch(q Queue, poll time.Duration) (*Batch, error) {
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	if poll <= 0 {
		poll = DefaultPoll
	}
	return &Batch{ID: hex.EncodeToString(id[:]), queue: q, poll: poll, waiters: map[int64]*waiter{}}, nil
}

// settled waits until the host has no query of the batch unanswered, the
// store fails, or ctx ends. The host's queries must be queued first.
func (b *Batch) settled(ctx context.Context, hostID int64) error {
	b.mu.Lock()
	w := &waiter{done: make(chan struct{}), round: b.round}
	b.waiters[hostID] = w
	if !b.polling {
		b.polling = true
		go b.watch()
	}
	b.mu.Unlock()
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		b.mu.Lock()
		if b.waiters[hostID] == w {
			delete(b.waiters, hostID)
		}
		b.mu.Unlock()
		return ctx.Err()
	}
}

// watch asks the store for the batch's unanswered hosts, now and every
// poll, and releases the waiters that are done, until none is left.
func (b *Batch) watch() {
	for {
		b.mu.Lock()
		if len(b.waiters) == 0 {
			b.polling = false
			b.mu.Unlock()
			return
		}
		b.round++
		round := b.round
		b.mu.Unlock()
		waiting, err := b.queue.Waiting(context.Background(), b.ID)
		b.mu.Lock()
		for id, w := range b.waiters {
			if w.round < round && (err != nil || !waiting[id]) {
				w.err = err
				close(w.done)
				delete(b.waiters, id)
			}
		}
		b.mu.Unlock()
		time.Sleep(b.poll)
	}
}

func batchResults(got []store.QueryResult) []BatchResult {
	out := make([]BatchResult, len(got))
	for i, q := range got {
		out[i] = BatchResult{ID: q.QueryID, Error: q.Err}
		for _, r := range q.Rows {
			out[i].Rows = append(out[i].Rows, r)
		}
	}
	return out
}

// hold turns each answer that would make rows disappear into an error
// when the host enrolled again within e.Hold: flagged, not applied.
func (e *Enrolled) hold(ctx context.Context, rs []BatchResult) ([]BatchResult, error) {
	if e.Identity == nil || e.Hold <= 0 {
		return rs, nil
	}
	at, err := e.Identity.Reenrolled(ctx, e.HostID)
	if err != nil || at.IsZero() || time.Since(at) > e.Hold {
		return rs, err
	}
	for i, r := range rs {
		if r.Error != "" {
			continue
		}
		rows := make([]store.Row, len(r.Rows))
		for j, row := range r.Rows {
			rows[j] = row
		}
		gone, err := e.Identity.WouldDisappear(ctx, e.Host, r.ID, rows)
		if err != nil {
			return nil, err
		}
		if gone > 0 {
			rs[i] = BatchResult{ID: r.ID, Error: fmt.Sprintf("held: %d rows would disappear, and the host enrolled again at %s (within %s); not applied",
				gone, at.UTC().Format(time.RFC3339), e.Hold)}
		}
	}
	return rs, nil
}
