package hunt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
	// Poll is how often the answers are checked.
	Poll time.Duration
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
func (e *Enrolled) Hunt(ctx context.Context, qs []BatchQuery) ([]BatchResult, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	batch := hex.EncodeToString(b[:])
	sq := make([]store.Query, len(qs))
	for i, q := range qs {
		sq[i] = store.Query{ID: q.ID, SQL: q.SQL}
	}
	if err := e.Queue.Queue(ctx, batch, e.HostID, sq); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	poll := e.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	for {
		got, pending, err := e.Queue.Answers(context.WithoutCancel(ctx), batch, e.HostID)
		if err != nil {
			return nil, err
		}
		if pending == 0 {
			return e.hold(ctx, batchResults(got))
		}
		select {
		case <-ctx.Done():
			e.Queue.Cancel(context.WithoutCancel(ctx), batch, e.HostID)
			if len(got) == 0 {
				return nil, fmt.Errorf("osqueryd answered none of %d queries before the time limit (is it checking in? see pkgpersist hosts)", len(qs))
			}
			// what was answered is kept; each query still waiting is
			// that query's failure
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
		case <-time.After(poll):
		}
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
