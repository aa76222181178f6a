package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// What the reports over logged events read instead of the events, kept in
// the transaction that inserts (or deletes) the events they derive from,
// so it never disagrees with them:
//
//   - scheduled_results.query_id, the query id in the pack name, set at
//     insert: reports find a query's rows through an index instead of
//     computing the id from every row's name.
//   - rollups: per registered (query, key columns), the number of rows
//     logged (added or in a snapshot) per UTC day, key values and host.
//     Stacking a window takes the whole days from here and only the
//     partial days at its edges from the events. A rollup is registered
//     by the report that reads it (EnsureRollup), which counts the rows
//     stored until then in the same transaction; from then on every
//     writer, in any process, keeps it. Only rows actually inserted count:
//     a batch sent again inserts nothing and adds nothing.
//   - install_terms: per row of a registered query (EnsureTerms) that is
//     an rpm, dpkg, pacman or apk install with a parent (TermOf), the new term and the
//     event time, with the row's key to read the row itself back.
const derivedSchema = `
	ALTER TABLE scheduled_results ADD COLUMN query_id TEXT NOT NULL DEFAULT '';
	-- the ids of the rows logged so far, as queryIDOf computes them
	UPDATE scheduled_results SET query_id = CASE
		WHEN substr(name, 1, 21) IN ('pack_pkgpersist-core_', 'pack/pkgpersist-core/') THEN substr(name, 22)
		WHEN substr(name, 1, 16) IN ('pack_pkgpersist_', 'pack/pkgpersist/') THEN substr(name, 17)
		ELSE name END;
	CREATE INDEX scheduled_results_query ON scheduled_results (query_id, unix_time, host_id, action);
	CREATE TABLE rollups (
		id          INTEGER PRIMARY KEY,
		query_id    TEXT NOT NULL,
		key_columns TEXT NOT NULL, -- JSON array of column names
		UNIQUE (query_id, key_columns)
	);
	-- derived rows go with their events (Prune, mergeHost): no foreign
	-- keys to check on each of the many upserts
	CREATE TABLE logged_rollup (
		rollup_id INTEGER NOT NULL,
		day       INTEGER NOT NULL, -- unix_time / 86400
		k1        TEXT NOT NULL,
		k2        TEXT NOT NULL,
		k3        TEXT NOT NULL,
		host_id   INTEGER NOT NULL,
		n         INTEGER NOT NULL,
		PRIMARY KEY (rollup_id, day, k1, k2, k3, host_id)
	);
	CREATE INDEX logged_rollup_host ON logged_rollup (host_id);
	CREATE TABLE term_queries (query_id TEXT PRIMARY KEY);
	CREATE TABLE install_terms (
		host_id   INTEGER NOT NULL,
		query_id  TEXT NOT NULL,
		at        INTEGER NOT NULL, -- the event's time (TermOf)
		tool      TEXT NOT NULL,
		parent    TEXT NOT NULL,
		-- the row's key in scheduled_results
		name      TEXT NOT NULL,
		unix_time INTEGER NOT NULL,
		epoch     INTEGER NOT NULL,
		counter   INTEGER NOT NULL,
		action    TEXT NOT NULL,
		hash      TEXT NOT NULL,
		PRIMARY KEY (host_id, name, unix_time, epoch, counter, action, hash)
	);
	CREATE INDEX install_terms_at ON install_terms (at);
	CREATE INDEX install_terms_term ON install_terms (tool, parent, at);
	CREATE INDEX install_terms_logged ON install_terms (unix_time);`

// queryIDOf is the query id in a scheduled query's name as osqueryd logs
// it: pack<d><pack><d><query> for the packs pkgpersist serves, with
// osquery's pack delimiter d: "_" by default, "/" under Fleet. The
// migration computes the same for the rows stored before it.
func queryIDOf(name string) string {
	for _, p := range []string{"pack_pkgpersist-core_", "pack/pkgpersist-core/", "pack_pkgpersist_", "pack/pkgpersist/"} {
		if strings.HasPrefix(name, p) {
			return name[len(p):]
		}
	}
	return name
}

// daySeconds is a rollup's bucket. Days are unix_time / 86400 as both
// engines divide integers (toward zero), in SQL and here alike.
const daySeconds = 86400

// maxRollupColumns is how many key columns a rollup holds (k1..k3).
const maxRollupColumns = 3

// logs is whether a row's action is one the reports read: added, or in a
// snapshot.
func logs(action string) bool { return action == "added" || action == "snapshot" }

const loggedActions = `('added', 'snapshot')`

type rollupSpec struct {
	id      int64
	columns []string
}

// derivations are the registered rollups by query id and the queries
// whose install terms are kept, as one transaction sees them.
type derivations struct {
	rollups map[string][]rollupSpec
	terms   map[string]bool
}

func (d derivations) wants(queryID string) bool {
	return len(d.rollups[queryID]) > 0 || d.terms[queryID]
}

// loadDerivations reads what is registered. It is read in each write
// transaction, not cached: another process may register a rollup at any
// time, and a write that missed it would leave the rollup short.
func loadDerivations(ctx context.Context, tx *sql.Tx) (derivations, error) {
	d := derivations{rollups: map[string][]rollupSpec{}, terms: map[string]bool{}}
	rs, err := tx.QueryContext(ctx, `SELECT id, query_id, key_columns FROM rollups`)
	if err != nil {
		return d, err
	}
	for rs.Next() {
		var s rollupSpec
		var q, cols string
		if err := rs.Scan(&s.id, &q, &cols); err != nil {
			rs.Close()
			return d, err
		}
		if err := json.Unmarshal([]byte(cols), &s.columns); err != nil {
			rs.Close()
			return d, fmt.Errorf("rollup %d columns: %w", s.id, err)
		}
		d.rollups[q] = append(d.rollups[q], s)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return d, err
	}
	ts, err := tx.QueryContext(ctx, `SELECT query_id FROM term_queries`)
	if err != nil {
		return d, err
	}
	defer ts.Close()
	for ts.Next() {
		var q string
		if err := ts.Scan(&q); err != nil {
			return d, err
		}
		d.terms[q] = true
	}
	return d, ts.Err()
}

// loggedRef is a stored logged row with what derivations read of it.
type loggedRef struct {
	hostID                   int64
	queryID, name, action    string
	unixTime, epoch, counter int64
	hash                     string
	row                      Row
}

// rollupKey is one row of logged_rollup.
type rollupKey struct {
	id, day, host int64
	k             [maxRollupColumns]string
}

// deltas are the changes to the derived tables that rows going in (sign
// 1) or out (-1) make.
type deltas struct {
	rollup map[rollupKey]int64
	terms  []termRow
}

type termRow struct {
	ref  loggedRef
	term Term
}

func newDeltas() *deltas { return &deltas{rollup: map[rollupKey]int64{}} }

// add accounts for one row inserted (sign 1) or deleted (-1: rollups
// only; pruneLogged deletes terms by time).
func (ds *deltas) add(d derivations, r loggedRef, sign int64) {
	if !logs(r.action) {
		return
	}
	for _, spec := range d.rollups[r.queryID] {
		k := rollupKey{id: spec.id, day: r.unixTime / daySeconds, host: r.hostID}
		for i, c := range spec.columns {
			k.k[i] = r.row[c]
		}
		ds.rollup[k] += sign
	}
	if !d.terms[r.queryID] || sign < 0 {
		return
	}
	if t, ok := TermOf(r.row, r.unixTime); ok {
		ds.terms = append(ds.terms, termRow{r, t})
	}
}

// deltaChunk is how many derived rows one statement writes.
const deltaChunk = 64

// apply writes the deltas: rollup counts added to (rows that reach 0
// deleted), terms inserted.
func (ds *deltas) apply(ctx context.Context, tx *sql.Tx) error {
	keys := make([]rollupKey, 0, len(ds.rollup))
	for k, n := range ds.rollup {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	var args []any
	for len(keys) > 0 {
		n := min(len(keys), deltaChunk)
		args = args[:0]
		for _, k := range keys[:n] {
			args = append(args, k.id, k.day, k.k[0], k.k[1], k.k[2], k.host, ds.rollup[k])
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO logged_rollup (rollup_id, day, k1, k2, k3, host_id, n) VALUES `+
			values(7, n)+` ON CONFLICT (rollup_id, day, k1, k2, k3, host_id) DO UPDATE SET n = logged_rollup.n + excluded.n`, args...); err != nil {
			return fmt.Errorf("rollup: %w", err)
		}
		for _, k := range keys[:n] {
			if ds.rollup[k] < 0 {
				if _, err := tx.ExecContext(ctx, `DELETE FROM logged_rollup WHERE rollup_id = ? AND day = ? AND k1 = ? AND k2 = ? AND k3 = ? AND host_id = ? AND n <= 0`,
					k.id, k.day, k.k[0], k.k[1], k.k[2], k.host); err != nil {
					return fmt.Errorf("rollup: %w", err)
				}
			}
		}
		keys = keys[n:]
	}
	for len(ds.terms) > 0 {
		n := min(len(ds.terms), deltaChunk)
		args = args[:0]
		for _, t := range ds.terms[:n] {
			r := t.ref
			args = append(args, r.hostID, r.queryID, t.term.At, t.term.Install.Tool, t.term.Parent, r.name, r.unixTime, r.epoch, r.counter, r.action, r.hash)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO install_terms (host_id, query_id, at, tool, parent, name, unix_time, epoch, counter, action, hash) VALUES `+
			values(11, n)+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("install terms: %w", err)
		}
		ds.terms = ds.terms[n:]
	}
	return nil
}

// values is the VALUES list of n rows of k placeholders.
func values(k, n int) string {
	row := "(?" + strings.Repeat(", ?", k-1) + ")"
	return row + strings.Repeat(", "+row, n-1)
}

// decodedRow is a stored row's columns as its JSON holds them: what the
// SQL that reads rows (and a backfill) sees. A value that is not valid
// UTF-8 is stored with replacement characters, so it is read back from
// the encoding; any other row is its map as it came.
func decodedRow(r Row, encoded string) Row {
	for _, v := range r {
		if !utf8.ValidString(v) {
			var back Row
			if json.Unmarshal([]byte(encoded), &back) == nil {
				return back
			}
			break
		}
	}
	return r
}

// EnsureRollup registers a rollup of queryID's logged rows by columns
// (at most three) unless it is, counting the rows stored so far in the
// same transaction. GroupLogged reads it from then on.
func (s *DB) EnsureRollup(ctx context.Context, queryID string, columns []string) error {
	if len(columns) > maxRollupColumns {
		return fmt.Errorf("rollup of %s: %d columns, at most %d", queryID, len(columns), maxRollupColumns)
	}
	cols, _ := json.Marshal(append([]string{}, columns...))
	if id, err := s.rollupID(ctx, queryID, string(cols)); err != nil || id != 0 {
		return err
	}
	return s.write(ctx, "register rollup "+queryID, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO rollups (query_id, key_columns) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id`, queryID, string(cols)).Scan(&id)
		if err == sql.ErrNoRows {
			return nil // registered meanwhile
		}
		if err != nil {
			return err
		}
		return s.fillRollup(ctx, tx, rollupSpec{id, columns}, queryID, "")
	})
}

// fillRollup counts into a rollup the stored rows of queryID, all or
// those matching the extra condition on scheduled_results.
func (s *DB) fillRollup(ctx context.Context, tx *sql.Tx, spec rollupSpec, queryID, and string, args ...any) error {
	keys := make([]string, maxRollupColumns)
	for i := range keys {
		keys[i] = "''"
		if i < len(spec.columns) {
			keys[i] = s.d.jsonField("scheduled_results.row", spec.columns[i])
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO logged_rollup (rollup_id, day, k1, k2, k3, host_id, n)
		SELECT CAST(? AS INTEGER), unix_time / 86400, `+strings.Join(keys, ", ")+`, host_id, count(*)
		FROM scheduled_results WHERE query_id = ? AND action IN `+loggedActions+and+`
		GROUP BY 2, 3, 4, 5, 6`, append([]any{spec.id, queryID}, args...)...)
	return err
}

// rollupID is the id of the rollup of queryID by columns (a JSON
// array), 0 when there is none.
func (s *DB) rollupID(ctx context.Context, queryID, columns string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM rollups WHERE query_id = ? AND key_columns = ?`, queryID, columns).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

// EnsureTerms registers queries whose install terms InstallTerms reads,
// classifying the rows stored so far in the same transaction.
func (s *DB) EnsureTerms(ctx context.Context, queryIDs ...string) error {
	var missing []string
	for _, q := range queryIDs {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM term_queries WHERE query_id = ?`, q).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			missing = append(missing, q)
		}
	}
	for _, q := range missing {
		err := s.write(ctx, "register install terms "+q, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `INSERT INTO term_queries (query_id) VALUES (?) ON CONFLICT DO NOTHING`, q)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			return fillDerived(ctx, tx, derivations{terms: map[string]bool{q: true}}, q, "")
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fillDerived derives, as d registers, from the stored rows of queryID
// (all, or those matching the extra condition).
func fillDerived(ctx context.Context, tx *sql.Tx, d derivations, queryID, and string, args ...any) error {
	rs, err := tx.QueryContext(ctx, `SELECT host_id, name, action, unix_time, epoch, counter, hash, row FROM scheduled_results
		WHERE query_id = ? AND action IN `+loggedActions+and, append([]any{queryID}, args...)...)
	if err != nil {
		return err
	}
	ds := newDeltas()
	for rs.Next() {
		r := loggedRef{queryID: queryID}
		var data string
		if err := rs.Scan(&r.hostID, &r.name, &r.action, &r.unixTime, &r.epoch, &r.counter, &r.hash, &data); err != nil {
			rs.Close()
			return err
		}
		if err := json.Unmarshal([]byte(data), &r.row); err != nil {
			rs.Close()
			return fmt.Errorf("stored row %s: %w", r.hash, err)
		}
		ds.add(d, r, 1)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	return ds.apply(ctx, tx)
}

// rederiveHost derives a host's rows again, into every rollup and the
// install terms: after mergeHost moved host from's rows to it (a row both
// logged kept once).
func rederiveHost(ctx context.Context, tx *sql.Tx, from, to int64) error {
	for _, q := range []string{`DELETE FROM logged_rollup WHERE host_id IN (?, ?)`, `DELETE FROM install_terms WHERE host_id IN (?, ?)`} {
		if _, err := tx.ExecContext(ctx, q, from, to); err != nil {
			return err
		}
	}
	d, err := loadDerivations(ctx, tx)
	if err != nil {
		return err
	}
	queries := map[string]bool{}
	for q := range d.rollups {
		queries[q] = true
	}
	for q := range d.terms {
		queries[q] = true
	}
	for q := range queries {
		if err := fillDerived(ctx, tx, d, q, " AND host_id = ?", to); err != nil {
			return err
		}
	}
	return nil
}

// pruneLogged deletes up to limit logged rows older than cut (unix
// seconds) with what derives from them, and returns how many went.
func pruneLogged(ctx context.Context, tx *sql.Tx, cut int64, limit int) (int64, error) {
	d, err := loadDerivations(ctx, tx)
	if err != nil {
		return 0, err
	}
	rs, err := tx.QueryContext(ctx, `DELETE FROM scheduled_results WHERE rowid IN
		(SELECT rowid FROM scheduled_results WHERE unix_time < ? LIMIT ?)
		RETURNING host_id, query_id, action, unix_time, row`, cut, limit)
	if err != nil {
		return 0, err
	}
	ds := newDeltas()
	var n int64
	for rs.Next() {
		var r loggedRef
		var data string
		if err := rs.Scan(&r.hostID, &r.queryID, &r.action, &r.unixTime, &data); err != nil {
			rs.Close()
			return 0, err
		}
		n++
		if len(d.rollups[r.queryID]) == 0 {
			continue
		}
		if err := json.Unmarshal([]byte(data), &r.row); err != nil {
			rs.Close()
			return 0, fmt.Errorf("stored row: %w", err)
		}
		ds.add(derivations{rollups: d.rollups}, r, -1)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, err
	}
	// a term goes with its row's time: the terms of the rows later
	// chunks delete go now, the report never reads them
	if _, err := tx.ExecContext(ctx, `DELETE FROM install_terms WHERE unix_time < ?`, cut); err != nil {
		return 0, err
	}
	return n, ds.apply(ctx, tx)
}
