package store

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"sync"
)

// Log batches that arrive while another is being written are written
// together, in one transaction: a server's log requests then share a
// commit instead of queueing for one each. Each caller still returns only
// once its own rows are committed (or have failed), so nothing is
// acknowledged before it is stored.
//
// There is no writer goroutine: the first caller to find no write in
// progress leads, writes what is queued, and hands the lead to the first
// caller that queued meanwhile.
type logGroup struct {
	mu      sync.Mutex
	queue   []*logBatch
	writing bool
}

// groupRows bounds the rows one group transaction writes, so one commit
// (and the write lock it holds) stays short.
const groupRows = 8192

type logBatch struct {
	hostID   int64
	results  []encodedLog
	statuses []StatusLine
	added    int
	err      error
	// wake says true (lead the next write) or false (done: added and
	// err are set)
	wake chan bool
}

func (b *logBatch) rows() int { return len(b.results) + len(b.statuses) }

// SaveLogs stores a host's logged results and status lines and returns
// how many result rows were new: a batch osqueryd sends again adds
// nothing. It returns once they are committed, in a transaction it may
// share with other callers' batches.
func (s *SQLite) SaveLogs(ctx context.Context, hostID int64, results []Logged, statuses []StatusLine) (int, error) {
	b := &logBatch{hostID: hostID, results: encodeLogged(results), statuses: statuses, wake: make(chan bool, 1)}
	g := &s.logs
	g.mu.Lock()
	g.queue = append(g.queue, b)
	lead := !g.writing
	g.writing = true
	g.mu.Unlock()
	if !lead {
		// the leader's write is bounded by Options.WriteWait: the caller
		// waits for the outcome even if its own ctx ends, as the rows may
		// be committed meanwhile
		lead = <-b.wake
	}
	if lead {
		s.leadLogs(ctx)
		<-b.wake // the leader's batch was in the group it wrote
	}
	return b.added, b.err
}

// leadLogs writes one group from the queue (the leader's own batch is
// first in it), wakes its callers, and passes the lead on.
func (s *SQLite) leadLogs(ctx context.Context) {
	g := &s.logs
	// callers that are about to queue get into this group
	runtime.Gosched()
	g.mu.Lock()
	n, rows := 0, 0
	for n < len(g.queue) && (n == 0 || rows+g.queue[n].rows() <= groupRows) {
		rows += g.queue[n].rows()
		n++
	}
	group := append([]*logBatch(nil), g.queue[:n]...)
	g.queue = g.queue[n:]
	g.mu.Unlock()

	// the group's write is not the leader's alone: its caller leaving
	// must not fail the others
	s.writeLogs(context.WithoutCancel(ctx), group)

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].wake <- true
	} else {
		g.writing = false
	}
	g.mu.Unlock()
	for _, b := range group {
		b.wake <- false
	}
}

// writeLogs commits a group of batches in one transaction. When that
// fails for a reason other than the database itself (full, busy, I/O,
// read-only, corrupt), each batch is written alone, so one batch's fault
// is not the others'.
func (s *SQLite) writeLogs(ctx context.Context, group []*logBatch) {
	err := s.write(ctx, "save logs", func(tx *sql.Tx) error {
		for _, b := range group {
			var err error
			if b.added, err = saveLogs(ctx, tx, b.hostID, b.results, b.statuses); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(group) == 1 || storeWide(err) {
		for _, b := range group {
			if b.err = err; err != nil {
				b.added = 0
			}
		}
		return
	}
	for _, b := range group {
		b.err = s.write(ctx, "save logs", func(tx *sql.Tx) error {
			var err error
			b.added, err = saveLogs(ctx, tx, b.hostID, b.results, b.statuses)
			return err
		})
		if b.err != nil {
			b.added = 0
		}
	}
}

// storeWide tells an error of the database as a whole, which writing
// batches one by one would only meet again.
func storeWide(err error) bool {
	for _, k := range []error{ErrFull, ErrBusy, ErrIO, ErrReadOnly, ErrCorrupt} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

func saveLogs(ctx context.Context, tx *sql.Tx, hostID int64, results []encodedLog, statuses []StatusLine) (int, error) {
	added, err := insertLogged(ctx, tx, hostID, results)
	if err != nil {
		return 0, err
	}
	for _, l := range statuses {
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_logs (host_id, unix_time, severity, filename, line, message, version)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, hostID, l.UnixTime, l.Severity, l.Filename, l.Line, l.Message, l.Version); err != nil {
			return 0, err
		}
	}
	return added, nil
}
