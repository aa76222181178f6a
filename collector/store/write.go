package store

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Options are how long a write waits for other writers.
type Options struct {
	// BusyTimeout is how long SQLite itself waits for the write lock in
	// one attempt (its busy handler). The connection is held meanwhile,
	// so it stays short.
	BusyTimeout time.Duration
	// WriteWait bounds all the attempts of one write; past it the write
	// fails with ErrBusy.
	WriteWait time.Duration
}

// DefaultOptions: a write waits up to a minute for other writers, in
// attempts of a second.
var DefaultOptions = Options{BusyTimeout: time.Second, WriteWait: time.Minute}

// Contention counts the writes that found the database held by another
// connection: each retry, and the writes that waited their whole bound.
type Contention struct {
	Retries, GaveUp int64
}

// contention is the store's running count.
type contention struct {
	retries, gaveUp atomic.Int64
}

// Contention returns the counts so far.
func (s *DB) Contention() Contention {
	return Contention{Retries: s.busy.retries.Load(), GaveUp: s.busy.gaveUp.Load()}
}

// write runs fn in a write transaction (BEGIN IMMEDIATE: it holds the
// write lock from its first statement, so it never has to upgrade a read)
// and commits it. When another connection holds the database past
// SQLite's busy timeout the transaction is rolled back and run again
// after a random pause (waiting processes do not retry in step), until
// Options.WriteWait; then, or when ctx ends, it fails with ErrBusy. fn
// may run more than once: it must not keep anything from an attempt that
// was rolled back. Every error is an *Error of op.
func (s *DB) write(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := s.attempt(ctx, s.writeTx(), fn)
		if !busy(err) {
			return classify(op, err)
		}
		waited := time.Since(start)
		if waited >= s.opt.WriteWait || ctx.Err() != nil {
			s.busy.gaveUp.Add(1)
			return gaveUp(op, attempt, waited.Round(time.Millisecond))
		}
		s.busy.retries.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(10*time.Millisecond + rand.N(50*time.Millisecond)):
		}
	}
}

// writeTx is how a write transaction begins. On SQLite every transaction
// is BEGIN IMMEDIATE (the DSN's _txlock). PostgreSQL runs writers side by
// side, so a write is serializable: it commits only when the outcome is
// that of some order of the writes one at a time, as on SQLite, and is
// otherwise rolled back with a serialization failure and run again.
func (s *DB) writeTx() *sql.TxOptions {
	if s.d.postgres {
		return &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	return nil
}

func (s *DB) attempt(ctx context.Context, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// exec runs one statement as a write and returns the rows it changed.
func (s *DB) exec(ctx context.Context, op, query string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
