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

// Enrolled is an osqueryd host enrolled into `pkgpersist serve`: the hunt
// queues its queries and waits for the host to answer them.
type Enrolled struct {
	Queue  Queue
	Host   string
	HostID int64
	// Poll is how often the answers are checked.
	Poll time.Duration
}

// Name is the host's host_identifier.
func (e *Enrolled) Name() string { return e.Host }

// Hunt queues the queries and waits until osqueryd has answered them all
// or ctx ends; then the unanswered ones are withdrawn.
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
			out := make([]BatchResult, len(got))
			for i, q := range got {
				out[i] = BatchResult{ID: q.QueryID, Error: q.Err}
				for _, r := range q.Rows {
					out[i].Rows = append(out[i].Rows, r)
				}
			}
			return out, nil
		}
		select {
		case <-ctx.Done():
			e.Queue.Cancel(context.WithoutCancel(ctx), batch, e.HostID)
			return nil, fmt.Errorf("osqueryd answered %d of %d queries before the time limit (is it checking in? see pkgpersist hosts)", len(got), len(qs))
		case <-time.After(poll):
		}
	}
}
