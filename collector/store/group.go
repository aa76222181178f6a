package store

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"sync"
)

// Small writes that arrive while another is being written are written
// together, in one transaction: a server's log requests and answers then
// share a commit instead of queueing for one each. Each caller still
// returns only once its own write is committed (or has failed), so
// nothing is acknowledged before it is stored.
//
// There is no writer goroutine: the first caller to find no write in
// progress leads, writes what is queued, and hands the lead to the first
// caller that queued meanwhile.
type writeGroup struct {
	mu      sync.Mutex
	queue   []*groupedWrite
	writing bool
}

// groupRows bounds the rows one group transaction writes, so one commit
// (and the write lock it holds) stays short.
const groupRows = 8192

type groupedWrite struct {
	op   string
	rows int
	// fn writes in the transaction it is given; it may run twice (in the
	// group, then alone), so it sets its results afresh each time
	fn  func(*sql.Tx) error
	err error
	// wake says true (lead the next write) or false (done: err is set)
	wake chan bool
}

// grouped runs fn, which writes about rows rows, in a write transaction
// it may share with other callers, and returns once that is committed.
func (s *DB) grouped(ctx context.Context, op string, rows int, fn func(*sql.Tx) error) error {
	w := &groupedWrite{op: op, rows: rows, fn: fn, wake: make(chan bool, 1)}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.writing
	g.writing = true
	g.mu.Unlock()
	if !lead {
		// the leader's write is bounded by Options.WriteWait: the caller
		// waits for the outcome even if its own ctx ends, as its write
		// may be committed meanwhile
		lead = <-w.wake
	}
	if lead {
		s.leadGroup(ctx)
		<-w.wake // the leader's write was in the group it wrote
	}
	return w.err
}

// SaveLogs stores a host's logged results and status lines and returns
// how many result rows were new: a batch osqueryd sends again adds
// nothing. It returns once they are committed, in a transaction it may
// share with other callers' writes.
func (s *DB) SaveLogs(ctx context.Context, hostID int64, results []Logged, statuses []StatusLine) (int, error) {
	encoded := encodeLogged(results)
	var added int
	err := s.grouped(ctx, "save logs", len(results)+len(statuses), func(tx *sql.Tx) error {
		var err error
		added, err = saveLogs(ctx, tx, hostID, encoded, statuses)
		return err
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// leadGroup writes one group from the queue (the leader's own write is
// first in it), wakes its callers, and passes the lead on.
func (s *DB) leadGroup(ctx context.Context) {
	g := &s.group
	// callers that are about to queue get into this group
	runtime.Gosched()
	g.mu.Lock()
	n, rows := 0, 0
	for n < len(g.queue) && (n == 0 || rows+g.queue[n].rows <= groupRows) {
		rows += g.queue[n].rows
		n++
	}
	group := append([]*groupedWrite(nil), g.queue[:n]...)
	g.queue = g.queue[n:]
	g.mu.Unlock()

	// the group's write is not the leader's alone: its caller leaving
	// must not fail the others
	s.writeGroup(context.WithoutCancel(ctx), group)

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

// writeGroup commits a group of writes in one transaction. When that
// fails for a reason other than the database itself (full, busy, I/O,
// read-only, corrupt), each write is made alone, so one write's fault is
// not the others'.
func (s *DB) writeGroup(ctx context.Context, group []*groupedWrite) {
	op := group[0].op
	if len(group) > 1 {
		op = "grouped writes"
	}
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		for _, w := range group {
			if err := w.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(group) == 1 || storeWide(err) {
		for _, w := range group {
			w.err = err
		}
		return
	}
	for _, w := range group {
		w.err = s.write(ctx, w.op, w.fn)
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
