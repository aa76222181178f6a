package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // database/sql driver
)

// migrations build the schema; the position of each is its version.
var migrations = []string{
	`CREATE TABLE hosts (
		id   INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE
	);
	CREATE TABLE runs (
		id        INTEGER PRIMARY KEY,
		started   INTEGER NOT NULL,
		finished  INTEGER,
		transport TEXT NOT NULL DEFAULT '',
		who       TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE queries (
		id     TEXT PRIMARY KEY,
		title  TEXT NOT NULL DEFAULT '',
		kind   TEXT NOT NULL DEFAULT '',
		attack TEXT NOT NULL DEFAULT '',
		sql    TEXT NOT NULL
	);
	CREATE TABLE run_queries (
		run_id   INTEGER NOT NULL REFERENCES runs(id),
		query_id TEXT NOT NULL REFERENCES queries(id),
		PRIMARY KEY (run_id, query_id)
	);
	-- a host's results for a run: present only once committed
	CREATE TABLE host_runs (
		run_id  INTEGER NOT NULL REFERENCES runs(id),
		host_id INTEGER NOT NULL REFERENCES hosts(id),
		error   TEXT NOT NULL DEFAULT '',
		saved   INTEGER NOT NULL,
		PRIMARY KEY (run_id, host_id)
	);
	CREATE TABLE query_runs (
		run_id   INTEGER NOT NULL REFERENCES runs(id),
		host_id  INTEGER NOT NULL REFERENCES hosts(id),
		query_id TEXT NOT NULL REFERENCES queries(id),
		error    TEXT NOT NULL DEFAULT '',
		rows     INTEGER NOT NULL,
		PRIMARY KEY (host_id, query_id, run_id)
	);
	-- each distinct row a host returned for a query, with the runs that
	-- first and last saw it
	CREATE TABLE results (
		host_id   INTEGER NOT NULL REFERENCES hosts(id),
		query_id  TEXT NOT NULL REFERENCES queries(id),
		hash      TEXT NOT NULL,
		row       TEXT NOT NULL,
		first_run INTEGER NOT NULL REFERENCES runs(id),
		last_run  INTEGER NOT NULL REFERENCES runs(id),
		PRIMARY KEY (host_id, query_id, hash)
	);
	CREATE INDEX results_last ON results (host_id, query_id, last_run);
	-- what appeared or disappeared, appended as runs are saved
	CREATE TABLE changes (
		run_id   INTEGER NOT NULL REFERENCES runs(id),
		host_id  INTEGER NOT NULL REFERENCES hosts(id),
		query_id TEXT NOT NULL REFERENCES queries(id),
		hash     TEXT NOT NULL,
		kind     TEXT NOT NULL CHECK (kind IN ('appeared', 'disappeared'))
	);
	CREATE INDEX changes_run ON changes (run_id);`,
	// osqueryd hosts enrolled over the TLS remote API, what they log, and
	// the distributed queries queued for them
	`CREATE TABLE nodes (
		host_id         INTEGER PRIMARY KEY REFERENCES hosts(id),
		key_hash        TEXT NOT NULL UNIQUE,
		host_identifier TEXT NOT NULL,
		details         TEXT NOT NULL DEFAULT '{}',
		osquery_version TEXT NOT NULL DEFAULT '',
		-- the pkgpersist extension's version as the host last reported it,
		-- "no" when it is not loaded, "" before the first report; when it
		-- was last asked
		extension       TEXT NOT NULL DEFAULT '',
		ext_checked     INTEGER NOT NULL DEFAULT 0,
		enrolled        INTEGER NOT NULL,
		last_seen       INTEGER NOT NULL,
		revoked         INTEGER NOT NULL DEFAULT 0
	);
	-- scheduled query results as osqueryd logs them; the unique key makes a
	-- resent batch a no-op
	CREATE TABLE scheduled_results (
		host_id   INTEGER NOT NULL REFERENCES hosts(id),
		name      TEXT NOT NULL,
		action    TEXT NOT NULL,
		unix_time INTEGER NOT NULL,
		epoch     INTEGER NOT NULL,
		counter   INTEGER NOT NULL,
		hash      TEXT NOT NULL,
		row       TEXT NOT NULL,
		UNIQUE (host_id, name, unix_time, epoch, counter, action, hash)
	);
	CREATE TABLE status_logs (
		host_id   INTEGER NOT NULL REFERENCES hosts(id),
		unix_time INTEGER NOT NULL,
		severity  INTEGER NOT NULL,
		filename  TEXT NOT NULL,
		line      INTEGER NOT NULL,
		message   TEXT NOT NULL,
		version   TEXT NOT NULL,
		UNIQUE (host_id, unix_time, filename, line, message)
	);
	-- a batch is one host's share of a hunt
	CREATE TABLE distributed (
		batch    TEXT NOT NULL,
		host_id  INTEGER NOT NULL REFERENCES hosts(id),
		query_id TEXT NOT NULL,
		sql      TEXT NOT NULL,
		sent     INTEGER,
		answered INTEGER,
		status   INTEGER NOT NULL DEFAULT 0,
		message  TEXT NOT NULL DEFAULT '',
		rows     TEXT NOT NULL DEFAULT '[]',
		PRIMARY KEY (batch, host_id, query_id)
	);
	CREATE INDEX distributed_pending ON distributed (host_id, answered);`,
	// a host's outcome in a run: ok, incomplete or failed, and why; runs
	// stored before keep state '' (unknown). problems are the files a
	// query's tables could not read or evaluate in full.
	`ALTER TABLE host_runs ADD COLUMN state TEXT NOT NULL DEFAULT '';
	ALTER TABLE host_runs ADD COLUMN reasons TEXT NOT NULL DEFAULT '[]';
	CREATE TABLE problems (
		run_id   INTEGER NOT NULL REFERENCES runs(id),
		host_id  INTEGER NOT NULL REFERENCES hosts(id),
		query_id TEXT NOT NULL REFERENCES queries(id),
		path     TEXT NOT NULL,
		cause    TEXT NOT NULL,
		detail   TEXT NOT NULL
	);
	CREATE INDEX problems_run ON problems (run_id, host_id);`,
	identitySchema, // identity.go
	// a hunt asks which of its hosts still have queries unanswered
	`CREATE INDEX distributed_batch_pending ON distributed (batch, answered, host_id);`,
	triageSchema,   // triage.go
	machinesSchema, // machines.go
	derivedSchema,  // derived.go
	replicaSchema,  // replicas.go
	// the web report reads each host's latest run and when it last logged
	// (hostStatesSQL)
	`CREATE INDEX host_runs_host ON host_runs (host_id, run_id);
	CREATE INDEX scheduled_results_host_time ON scheduled_results (host_id, unix_time);`,
}

// DB is the Store on one SQLite file (WAL, foreign keys on) or a PostgreSQL database.
type DB struct {
	db       *sql.DB
	d        dialect
	path     string // the SQLite file ("" on PostgreSQL)
	opt      Options
	busy     contention
	group    writeGroup
	warnings []string
}

// Open opens (creating 0600 and migrating) the database at path with the
// DefaultOptions.
func Open(path string) (*DB, error) { return OpenWith(path, DefaultOptions) }

// OpenWith opens the database at path, a SQLite file or a PostgreSQL
// URL (postgres://…), with opt.
func OpenWith(path string, opt Options) (*DB, error) {
	if IsPostgres(path) {
		return openPostgres(path, opt)
	}
	looser, err := createPrivate(path)
	if err != nil {
		return nil, err
	}
	dsn := fmt.Sprintf("file:%s?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=%d&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=128&_auto_vacuum=incremental",
		path, opt.BusyTimeout.Milliseconds())
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// one connection: this process's writes queue here instead of in
	// SQLite's busy handler (see the package documentation)
	db.SetMaxOpenConns(1)
	s := &DB{db: db, opt: opt, warnings: looser, path: path}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Warnings are what Open found worth telling the operator: database
// files other users can read.
func (s *DB) Warnings() []string { return s.warnings }

// migrate brings the schema to the latest version, one migration a
// transaction. The version is read inside each transaction, after its
// lock: processes that open a new database at once must not run a
// migration twice.
func (s *DB) migrate(ctx context.Context) error {
	var v int
	// the common case, an up-to-date database, takes no write lock
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err == nil && v == len(migrations) {
		return nil
	}
	for {
		done := false
		err := s.migration(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
				return fmt.Errorf("not a usable database: %w", err)
			}
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
				return err
			}
			if v > len(migrations) {
				return fmt.Errorf("database schema version %d is newer than this pkgpersist (%d): use the pkgpersist that wrote it, or a newer one", v, len(migrations))
			}
			if done = v == len(migrations); done {
				return nil
			}
			if _, err := tx.ExecContext(ctx, s.d.migration(v)); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, v+1)
			return err
		})
		if err != nil || done {
			return err
		}
	}
}

// migration runs one migration step as a write. On PostgreSQL, where a
// serializable transaction's snapshot would predate the lock it waited
// for, the step holds an advisory lock in a read-committed transaction
// instead: each statement after the lock sees what the previous holder
// committed.
func (s *DB) migration(ctx context.Context, fn func(*sql.Tx) error) error {
	if !s.d.postgres {
		return s.write(ctx, "migrate", fn)
	}
	return classify("migrate", s.attempt(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
			return err
		}
		return fn(tx)
	}))
}

// migrationLock is the advisory lock key of schema migrations on
// PostgreSQL ("pkgpersist" in ASCII, truncated).
const migrationLock int64 = 0x706b6770657273

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// BeginRun records the run and its queries.
func (s *DB) BeginRun(ctx context.Context, r Run, queries []Query) (int64, error) {
	var id int64
	err := s.write(ctx, "begin run", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO runs (started, transport, who) VALUES (?, ?, ?) RETURNING id`, r.Started.UnixNano(), r.Transport, r.Who).Scan(&id); err != nil {
			return err
		}
		for _, q := range queries {
			if _, err := tx.ExecContext(ctx, `INSERT INTO queries (id, title, kind, attack, sql, volatile) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET title = excluded.title, kind = excluded.kind, attack = excluded.attack, sql = excluded.sql, volatile = excluded.volatile`,
				q.ID, q.Title, q.Kind, strings.Join(q.Attack, ","), q.SQL, strings.Join(q.Volatile, ",")); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO run_queries (run_id, query_id) VALUES (?, ?)`, id, q.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return id, err
}

// FinishRun marks the run finished.
func (s *DB) FinishRun(ctx context.Context, runID int64) error {
	_, err := s.exec(ctx, "finish run", `UPDATE runs SET finished = ? WHERE id = ?`, time.Now().UnixNano(), runID)
	return err
}

// SaveHost commits one host's results in one transaction: the host's
// status, each query's status, the rows (new ones inserted, seen ones
// stamped with this run) and the changes against the host's previous
// successful run of each query.
func (s *DB) SaveHost(ctx context.Context, runID int64, h HostResult) error {
	return s.write(ctx, "save host "+h.Host, func(tx *sql.Tx) error {
		hostID, err := hostID(ctx, tx, h.Host)
		if err != nil {
			return err
		}
		reasons, _ := json.Marshal(append([]string{}, h.Reasons...))
		if _, err := tx.ExecContext(ctx, `INSERT INTO host_runs (run_id, host_id, error, saved, state, reasons) VALUES (?, ?, ?, ?, ?, ?)`,
			runID, hostID, h.Err, time.Now().UnixNano(), h.State, string(reasons)); err != nil {
			return err
		}
		for _, q := range h.Queries {
			if _, err := tx.ExecContext(ctx, `INSERT INTO query_runs (run_id, host_id, query_id, error, rows) VALUES (?, ?, ?, ?, ?)`,
				runID, hostID, q.QueryID, q.Err, len(q.Rows)); err != nil {
				return fmt.Errorf("query %s: %w", q.QueryID, err)
			}
			for _, p := range q.Problems {
				if _, err := tx.ExecContext(ctx, `INSERT INTO problems (run_id, host_id, query_id, path, cause, detail) VALUES (?, ?, ?, ?, ?, ?)`,
					runID, hostID, q.QueryID, p.Path, p.Cause, p.Detail); err != nil {
					return fmt.Errorf("query %s: problem: %w", q.QueryID, err)
				}
			}
			if q.Err != "" {
				continue
			}
			if err := saveRows(ctx, tx, runID, hostID, q); err != nil {
				return err
			}
		}
		return nil
	})
}

// HostOutcomes returns each stored host's state in a run, by host name.
func (s *DB) HostOutcomes(ctx context.Context, runID int64) ([]HostOutcome, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT h.name, hr.error, hr.state, hr.reasons, hr.host_id FROM host_runs hr
		JOIN hosts h ON h.id = hr.host_id WHERE hr.run_id = ? ORDER BY h.name`, runID)
	if err != nil {
		return nil, err
	}
	var out []HostOutcome
	var ids []int64
	for rs.Next() {
		var o HostOutcome
		var reasons string
		var id int64
		if err := rs.Scan(&o.Host, &o.Err, &o.State, &reasons, &id); err != nil {
			rs.Close()
			return nil, err
		}
		if err := json.Unmarshal([]byte(reasons), &o.Reasons); err != nil {
			rs.Close()
			return nil, fmt.Errorf("stored reasons of %s: %w", o.Host, err)
		}
		out, ids = append(out, o), append(ids, id)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		ps, err := s.db.QueryContext(ctx, `SELECT query_id, path, cause, detail FROM problems WHERE run_id = ? AND host_id = ? ORDER BY rowid`, runID, ids[i])
		if err != nil {
			return nil, err
		}
		for ps.Next() {
			var p QueryProblem
			if err := ps.Scan(&p.QueryID, &p.Path, &p.Cause, &p.Detail); err != nil {
				ps.Close()
				return nil, err
			}
			out[i].Problems = append(out[i].Problems, p)
		}
		ps.Close()
		if err := ps.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func hostID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	// hosts are mostly known: look first, insert only when new
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM hosts WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `INSERT INTO hosts (name) VALUES (?) RETURNING id`, name).Scan(&id)
	}
	return id, err
}

// saveRows stores a query's rows under their identity (Row.Identity:
// volatile columns left out) and records what appeared and disappeared
// since the host's previous successful run of the query. A row seen
// again keeps its identity and takes the latest values of its volatile
// columns.
func saveRows(ctx context.Context, tx *sql.Tx, runID, hostID int64, q QueryResult) error {
	volatile, err := volatileColumns(ctx, tx, q.QueryID)
	if err != nil {
		return err
	}
	live, err := liveRows(ctx, tx, runID, hostID, q.QueryID, volatile)
	if err != nil {
		return err
	}
	upsert, err := tx.PrepareContext(ctx, `INSERT INTO results (host_id, query_id, hash, row, first_run, last_run) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (host_id, query_id, hash) DO UPDATE SET last_run = excluded.last_run, row = excluded.row
		WHERE excluded.last_run > results.last_run`) // overlapping runs may save out of order
	if err != nil {
		return err
	}
	defer upsert.Close()
	change, err := tx.PrepareContext(ctx, `INSERT INTO changes (run_id, host_id, query_id, hash, kind) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer change.Close()
	seen := map[string]bool{}
	for _, r := range q.Rows {
		h := r.Identity(volatile)
		if seen[h] {
			continue
		}
		seen[h] = true
		b, _ := json.Marshal(r)
		if _, err := upsert.ExecContext(ctx, hostID, q.QueryID, h, string(b), runID, runID); err != nil {
			return err
		}
		if _, ok := live[h]; !ok {
			if _, err := change.ExecContext(ctx, runID, hostID, q.QueryID, h, "appeared"); err != nil {
				return err
			}
		}
	}
	for h, stored := range live {
		if !seen[h] {
			if _, err := change.ExecContext(ctx, runID, hostID, q.QueryID, stored, "disappeared"); err != nil {
				return err
			}
		}
	}
	return nil
}

// liveRows are the identities of the rows at the host's previous
// successful run of the query, each with the hash it is stored under.
// With volatile columns the identity is computed from the stored row:
// rows stored before the columns were volatile (under their full hash)
// are then still the same rows.
func liveRows(ctx context.Context, tx *sql.Tx, runID, hostID int64, queryID string, volatile []string) (map[string]string, error) {
	var prev sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(run_id) FROM query_runs WHERE host_id = ? AND query_id = ? AND error = '' AND run_id < ?`,
		hostID, queryID, runID).Scan(&prev); err != nil {
		return nil, err
	}
	live := map[string]string{}
	if !prev.Valid {
		return live, nil
	}
	rs, err := tx.QueryContext(ctx, `SELECT hash, CASE WHEN ? <> 0 THEN row ELSE '' END FROM results WHERE host_id = ? AND query_id = ? AND last_run = ?`,
		len(volatile) > 0, hostID, queryID, prev.Int64)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var h, row string
		if err := rs.Scan(&h, &row); err != nil {
			return nil, err
		}
		id := h
		if len(volatile) > 0 {
			var r Row
			if err := json.Unmarshal([]byte(row), &r); err != nil {
				return nil, fmt.Errorf("stored row %s: %w", h, err)
			}
			id = r.Identity(volatile)
		}
		live[id] = h
	}
	return live, rs.Err()
}

// Diff lists the changes of the runs in the window.
func (s *DB) Diff(ctx context.Context, w Window) ([]Change, error) {
	var args []any
	// filters are the host and query conditions, with alias the table
	// that holds query_id
	filters := func(alias string) string {
		var where []string
		if w.Host != "" {
			where = append(where, " AND "+hostFilter)
			args = append(args, w.Host, w.Host)
		}
		if w.Query != "" {
			where = append(where, " AND "+alias+".query_id = ?")
			args = append(args, w.Query)
		}
		return strings.Join(where, "")
	}
	where := "ru.started >= ?"
	args = append(args, w.Since.UnixNano())
	if w.Run != 0 {
		where, args[0] = "c.run_id = ?", w.Run
	}
	where += filters("c")
	q := `SELECT CASE c.kind WHEN 'appeared' THEN '` + New + `' ELSE '` + Gone + `' END, c.run_id, ru.started, h.name, h.hostname, h.root, c.query_id, c.hash, r.row, q.title, q.kind, q.attack, q.sql
		FROM changes c
		JOIN runs ru ON ru.id = c.run_id
		JOIN hosts h ON h.id = c.host_id
		JOIN results r ON r.host_id = c.host_id AND r.query_id = c.query_id AND r.hash = c.hash
		JOIN queries q ON q.id = c.query_id
		WHERE ` + where
	if w.Run == 0 {
		// what enrolled osqueryd hosts logged: osquery computed the
		// differential itself (run 0: no pkgpersist run)
		args = append(args, w.Since.Unix())
		lwhere := "l.action IN ('added', 'removed') AND l.unix_time >= ?" + filters("l")
		q += ` UNION ALL
		SELECT CASE l.action WHEN 'added' THEN '` + New + `' ELSE '` + Gone + `' END, 0, l.unix_time * 1000000000,
			h.name, h.hostname, h.root, l.query_id, l.hash, l.row, coalesce(q.title, ''), coalesce(q.kind, ''), coalesce(q.attack, ''), coalesce(q.sql, '')
		FROM scheduled_results l
		JOIN hosts h ON h.id = l.host_id
		LEFT JOIN queries q ON q.id = l.query_id
		WHERE ` + lwhere
	}
	return s.changes(ctx, q+` ORDER BY 2, 4, 7, 1 DESC, 8`, args...)
}

// Current returns the rows of each host's latest successful run of each
// query (kind "current").
func (s *DB) Current(ctx context.Context, host, query string) ([]Change, error) {
	return s.changes(ctx, currentSQL("q.sql", "", "", `(? = '' OR `+hostFilter+`) AND (? = '' OR r.query_id = ?)`), host, host, host, query, query)
}

// currentSQL selects the rows of each host's latest successful run of
// each query that meet where, with the columns changes reads (the
// query's sql as querySQL, an empty literal where it is not shown) and
// then columns, from the tables results r, hosts h, queries q, runs ru
// (the last run) and those of join.
func currentSQL(querySQL, columns, join, where string) string {
	return `SELECT 'current', r.last_run, ru.started, h.name, h.hostname, h.root, r.query_id, r.hash, r.row, q.title, q.kind, q.attack, ` + querySQL + columns + `
		FROM results r
		JOIN hosts h ON h.id = r.host_id
		JOIN queries q ON q.id = r.query_id
		JOIN runs ru ON ru.id = r.last_run` + join + `
		WHERE r.last_run = (SELECT max(run_id) FROM query_runs qr WHERE qr.host_id = r.host_id AND qr.query_id = r.query_id AND qr.error = '')
		  AND ` + where + `
		ORDER BY h.name, r.query_id, r.hash`
}

func (s *DB) changes(ctx context.Context, query string, args ...any) ([]Change, error) {
	return s.scanChanges(ctx, false, query, args...)
}

// scanChanges reads the rows of a changes query; with first, each row
// ends with one more column, when the row was first seen (unix ns).
func (s *DB) scanChanges(ctx context.Context, first bool, query string, args ...any) ([]Change, error) {
	rs, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []Change
	for rs.Next() {
		var c Change
		var started, firstSeen int64
		var row, attack string
		dest := []any{&c.Kind, &c.RunID, &started, &c.Host, &c.HostName, &c.Root, &c.QueryID, &c.RowHash, &row, &c.Query.Title, &c.Query.Kind, &attack, &c.Query.SQL}
		if first {
			dest = append(dest, &firstSeen)
		}
		if err := rs.Scan(dest...); err != nil {
			return nil, err
		}
		c.At = time.Unix(0, started)
		if first {
			c.First = time.Unix(0, firstSeen)
		}
		if c.HostName == "" {
			c.HostName = c.Host // a host stored before host names were
		}
		c.Query.ID = c.QueryID
		if attack != "" {
			c.Query.Attack = strings.Split(attack, ",")
		}
		if err := json.Unmarshal([]byte(row), &c.Row); err != nil {
			return nil, fmt.Errorf("stored row %s: %w", c.RowHash, err)
		}
		out = append(out, c)
	}
	return out, rs.Err()
}
