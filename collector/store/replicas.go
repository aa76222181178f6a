package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// replicaSchema holds what several serve processes on one database must
// agree on and would otherwise each keep to themselves: the request rate
// limits, and a revision of the node keys that tells a process its cached
// keys may be stale.
const replicaSchema = `
	-- a token bucket per limited name ("node 12", "enroll web-1", "new
	-- hosts"), as the time it is full again (unix ns, the generic cell
	-- rate algorithm): one integer, updated in one statement
	CREATE TABLE rate_limits (
		name TEXT PRIMARY KEY,
		full_at INTEGER NOT NULL
	);
	-- counters that other processes poll to learn that something changed
	CREATE TABLE revisions (
		name TEXT PRIMARY KEY,
		n    INTEGER NOT NULL
	);
	INSERT INTO revisions (name, n) VALUES ('node keys', 0);
	-- enrollment, its rate limit and revocations look nodes up by
	-- identifier: without an index each one read every node, and on
	-- PostgreSQL each serializable enrollment conflicted with every other
	CREATE INDEX nodes_identifier ON nodes (host_identifier);`

// Allow takes a token from the named bucket, which holds burst tokens and
// gains rate tokens a second, and tells whether there was one. Every
// process on the database shares the buckets. A bucket is kept as the
// time it is full again: taking a token moves that time on by 1/rate, and
// is refused when it would be more than burst/rate ahead of now, which is
// the token bucket's rule without a read before the write.
func (s *DB) Allow(ctx context.Context, name string, rate float64, burst int, now time.Time) (bool, error) {
	if rate <= 0 {
		return true, nil
	}
	if burst < 1 {
		return false, nil
	}
	step := int64(float64(time.Second) / rate)
	at := now.UnixNano()
	var allowed bool
	take := func(q queryer) error {
		var full int64
		err := q.QueryRowContext(ctx, `INSERT INTO rate_limits (name, full_at) VALUES (?1, ?2)
			ON CONFLICT (name) DO UPDATE SET full_at = `+s.d.greatest("rate_limits.full_at", "?3")+` + ?4
			WHERE `+s.d.greatest("rate_limits.full_at", "?3")+` + ?4 <= ?5
			RETURNING full_at`, name, at+step, at, step, at+int64(burst)*step).Scan(&full)
		allowed = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	}
	if s.d.postgres {
		// one statement on its own, read committed: a bucket busy in
		// another transaction is waited for and the rule applied to what
		// that one left, where a serializable write would be rolled back
		// and run again (every enrollment takes from "new hosts")
		return allowed, classify("rate limit", take(s.db))
	}
	// on SQLite it shares a commit with the other writes of the moment
	err := s.grouped(ctx, "rate limit", 1, func(tx *sql.Tx) error { return take(tx) })
	return allowed, err
}

// ForgetFullBuckets drops the buckets that are full by now: a full bucket
// is the same as none, so the table holds only names that are busy.
func (s *DB) ForgetFullBuckets(ctx context.Context, now time.Time) error {
	_, err := s.exec(ctx, "rate limits", `DELETE FROM rate_limits WHERE full_at <= ?`, now.UnixNano())
	return err
}

// KeyRevision is a number that changes whenever a node key stops working
// other than by being unknown: a revocation, an unrevoke (which retires
// the key), a re-enrollment (which replaces it). A process that caches
// keys that checked out drops them when it sees the number change.
func (s *DB) KeyRevision(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT n FROM revisions WHERE name = 'node keys'`).Scan(&n)
	if err != nil {
		return 0, classify("key revision", err)
	}
	return n, nil
}

// keysChanged moves the key revision on, in the transaction that stops a
// key.
func keysChanged(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE revisions SET n = n + 1 WHERE name = 'node keys'`)
	return err
}

// RateBuckets counts the buckets kept: the names limited lately.
func (s *DB) RateBuckets(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM rate_limits`).Scan(&n)
	return n, err
}
