package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"
)

// Pruned counts what Prune deleted.
type Pruned struct {
	Runs, Changes, Results, HostRuns, QueryRuns, Problems int64
	// Logged are scheduled query results and Status osqueryd status log
	// lines; Answers are answered distributed queries.
	Logged, Status, Answers int64
}

// Total is every row deleted.
func (p Pruned) Total() int64 {
	return p.Runs + p.Changes + p.Results + p.HostRuns + p.QueryRuns + p.Problems + p.Logged + p.Status + p.Answers
}

// logChunk is how many logged rows one transaction of Prune deletes: a
// serve beside it waits for the write lock at most that long.
const logChunk = 20000

// Prune deletes what is older than before: runs started before it with
// their changes, statuses and problems, the result rows nothing kept
// refers to, logged rows, status logs and answered distributed queries.
//
// Diffs inside the kept range stay as they were: a kept change keeps the
// result row it names. The next run stays comparable: each host's latest
// successful run of each query is kept, however old, with its rows (they
// are what a host's next run is compared with, and what Current shows).
// A run row whose data went is kept while a kept result row names it as
// the run that first or last saw it.
func (s *DB) Prune(ctx context.Context, before time.Time) (Pruned, error) {
	var p Pruned
	err := s.write(ctx, "prune runs", func(tx *sql.Tx) error {
		p = Pruned{}
		return pruneRuns(ctx, tx, before.UnixNano(), &p)
	})
	if err != nil {
		return p, err
	}
	// logged rows go with what derives from them (derived.go)
	for {
		var n int64
		err := s.write(ctx, "prune scheduled_results", func(tx *sql.Tx) error {
			var err error
			n, err = pruneLogged(ctx, tx, before.Unix(), logChunk)
			return err
		})
		if err != nil {
			return p, err
		}
		if p.Logged += n; n < logChunk {
			break
		}
	}
	for _, l := range []struct {
		n          *int64
		table, col string
		cut        int64
	}{
		{&p.Status, "status_logs", "unix_time", before.Unix()},
		{&p.Answers, "distributed", "answered", before.UnixNano()},
	} {
		for {
			n, err := s.exec(ctx, "prune "+l.table, `DELETE FROM `+l.table+` WHERE rowid IN
				(SELECT rowid FROM `+l.table+` WHERE `+l.col+` < ? LIMIT ?)`, l.cut, logChunk)
			if err != nil {
				return p, err
			}
			if *l.n += n; n < logChunk {
				break
			}
		}
	}
	return p, nil
}

func pruneRuns(ctx context.Context, tx *sql.Tx, before int64, p *Pruned) error {
	// the runs to go: started before, and no host's latest successful
	// run of a query
	steps := []struct {
		n   *int64
		sql string
	}{
		{nil, `DROP TABLE IF EXISTS temp.prune_runs`},
		{nil, `CREATE TEMP TABLE prune_runs (id INTEGER PRIMARY KEY)`},
		{nil, `INSERT INTO prune_runs SELECT id FROM runs WHERE started < ?1
			AND id NOT IN (SELECT max(run_id) FROM query_runs WHERE error = '' GROUP BY host_id, query_id)`},
		{&p.Changes, `DELETE FROM changes WHERE run_id IN (SELECT id FROM prune_runs)`},
		{&p.Problems, `DELETE FROM problems WHERE run_id IN (SELECT id FROM prune_runs)`},
		{&p.HostRuns, `DELETE FROM host_runs WHERE run_id IN (SELECT id FROM prune_runs)`},
		{&p.QueryRuns, `DELETE FROM query_runs WHERE run_id IN (SELECT id FROM prune_runs)`},
		{nil, `DELETE FROM run_queries WHERE run_id IN (SELECT id FROM prune_runs)`},
		// a result row is kept while it is live (seen by its host's
		// latest successful run of its query) or a kept change names it
		{nil, `DROP TABLE IF EXISTS temp.prune_named`},
		{nil, `CREATE TEMP TABLE prune_named AS SELECT DISTINCT host_id, query_id, hash FROM changes`},
		{nil, `CREATE INDEX prune_named_key ON prune_named (host_id, query_id, hash)`},
		{&p.Results, `DELETE FROM results WHERE last_run IN (SELECT id FROM runs WHERE started < ?1)
			AND last_run IS DISTINCT FROM (SELECT max(run_id) FROM query_runs qr
				WHERE qr.host_id = results.host_id AND qr.query_id = results.query_id AND qr.error = '')
			AND NOT EXISTS (SELECT 1 FROM prune_named n
				WHERE n.host_id = results.host_id AND n.query_id = results.query_id AND n.hash = results.hash)`},
		{&p.Runs, `DELETE FROM runs WHERE id IN (SELECT id FROM prune_runs)
			AND id NOT IN (SELECT first_run FROM results) AND id NOT IN (SELECT last_run FROM results)`},
		{nil, `DROP TABLE temp.prune_runs`},
		{nil, `DROP TABLE temp.prune_named`},
	}
	for _, st := range steps {
		res, err := execNumbered(ctx, tx, st.sql, before)
		if err != nil {
			return fmt.Errorf("%.60s: %w", st.sql, err)
		}
		if st.n != nil {
			*st.n, _ = res.RowsAffected()
		}
	}
	return nil
}

// Compact gives the pages freed by Prune back to the file system. A
// database in incremental auto-vacuum mode (every database created since
// pkgpersist sets it) frees them at once. Another one needs a full VACUUM,
// which rewrites the file and makes it incremental from then on; it
// blocks every writer while it runs, so only full asks for it. Compact
// returns whether the file shrank as far as it could (false: full was
// needed and not given), and checkpoints the write-ahead log so the
// main file has the smaller size.
func (s *DB) Compact(ctx context.Context, full bool) (bool, error) {
	if s.d.postgres {
		return s.vacuum(ctx)
	}
	var mode int
	if err := s.db.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return false, classify("compact", err)
	}
	done := true
	var err error
	switch {
	case mode == 2:
		err = incrementalVacuum(ctx, s.db)
	case full:
		if _, err = s.db.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err == nil {
			_, err = s.db.ExecContext(ctx, `VACUUM`)
		}
	default:
		done = false
	}
	if err != nil {
		return false, classify("compact", err)
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return false, classify("checkpoint", err)
	}
	return done, nil
}

// vacuum is Compact on PostgreSQL: a plain VACUUM, which runs beside
// readers and writers, makes the space of deleted rows reusable and gives
// the empty pages at each table's end back to the file system. VACUUM
// FULL would give back all of it but locks each table while it rewrites
// it, stopping every serve replica: that is for an operator to run.
func (s *DB) vacuum(ctx context.Context) (bool, error) {
	if _, err := s.db.ExecContext(ctx, `VACUUM (ANALYZE)`); err != nil {
		return false, classify("compact", err)
	}
	return true, nil
}

// incrementalVacuum frees every free page. The pragma frees one page a
// step, and Exec steps once: its rows are read to the end instead.
func incrementalVacuum(ctx context.Context, db *sql.DB) error {
	rs, err := db.QueryContext(ctx, `PRAGMA incremental_vacuum`)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
	}
	return rs.Err()
}

// Size is how many bytes the store takes: the SQLite file with its
// write-ahead log, or the PostgreSQL database.
func (s *DB) Size(ctx context.Context) (int64, error) {
	if s.d.postgres {
		var n int64
		err := s.db.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
		return n, classify("database size", err)
	}
	return FileSize(s.path), nil
}

// FileSize is the size of the database file with its write-ahead log.
func FileSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
