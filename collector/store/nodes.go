package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrUnknownNode is a node key the store does not know or has revoked.
var ErrUnknownNode = errors.New("unknown or revoked node key")

// ErrNotPending is an answer to a query that is not waiting for one from
// that host: never queued for it, withdrawn, or answered already.
var ErrNotPending = errors.New("no pending query")

// Node is an osqueryd host enrolled over the TLS remote API.
type Node struct {
	HostID         int64
	Host           string // the host_identifier it enrolled with
	OsqueryVersion string
	// Extension is the pkgpersist extension's version on the host, "no"
	// when osqueryd runs without it, "" while unknown.
	Extension  string
	ExtChecked time.Time
	Enrolled   time.Time
	LastSeen   time.Time
	Revoked    bool
	// Retired: unrevoked, its old key refused until it enrolls again.
	// AllowReenroll: an operator let its next enrollment through.
	Retired, AllowReenroll bool
	// Reenrolled is when it last enrolled again (zero: never).
	Reenrolled time.Time
	// Refusals counts the enrollments under its identifier refused since
	// it last enrolled; LastRefusal is the latest of them.
	Refusals    int
	LastRefusal Refusal
}

// Refusal is a refused enrollment: when, the reason (as EnrollRefused)
// and its detail.
type Refusal struct {
	At             time.Time
	Reason, Detail string
}

// KeyHash is how a node key is stored: only its SHA-256, so the database
// does not hold credentials.
func KeyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// lastSeenEvery is how stale last_seen may get: writing it on every
// request would make each one a write transaction.
const lastSeenEvery = 5 * time.Second

// ExtensionAsked records that the host was asked about the extension.
func (s *DB) ExtensionAsked(ctx context.Context, hostID int64, now time.Time) error {
	_, err := s.exec(ctx, "extension asked", `UPDATE nodes SET ext_checked = ? WHERE host_id = ?`, now.UnixNano(), hostID)
	return err
}

// SetExtension records the host's answer: the extension's version, or
// "no".
func (s *DB) SetExtension(ctx context.Context, hostID int64, version string) error {
	_, err := s.exec(ctx, "extension", `UPDATE nodes SET extension = ? WHERE host_id = ?`, version, hostID)
	return err
}

// Revoke stops a host's node key; the host must enroll again.
func (s *DB) Revoke(ctx context.Context, hostIdentifier string) error {
	return s.nodeUpdate(ctx, hostIdentifier, `UPDATE nodes SET revoked = 1 WHERE host_identifier = ?`)
}

// Nodes lists the enrolled hosts, with their identity state.
func (s *DB) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT n.host_id, n.host_identifier, n.osquery_version, n.extension, n.ext_checked, n.enrolled, n.last_seen,
			n.revoked, n.key_retired, n.allow_reenroll, n.reenrolled,
			(SELECT count(*) FROM enrollments e WHERE e.host_id = n.host_id AND e.outcome != 'accepted' AND e.at > n.enrolled),
			coalesce(r.at, 0), coalesce(r.outcome, ''), coalesce(r.detail, '')
		FROM nodes n LEFT JOIN enrollments r ON r.rowid = (SELECT rowid FROM enrollments e
			WHERE e.host_id = n.host_id AND e.outcome != 'accepted' AND e.at > n.enrolled ORDER BY e.at DESC LIMIT 1)
		ORDER BY n.host_identifier`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		var n Node
		var enrolled, seen, checked, reenrolled, refused int64
		if err := rows.Scan(&n.HostID, &n.Host, &n.OsqueryVersion, &n.Extension, &checked, &enrolled, &seen,
			&n.Revoked, &n.Retired, &n.AllowReenroll, &reenrolled, &n.Refusals, &refused, &n.LastRefusal.Reason, &n.LastRefusal.Detail); err != nil {
			return nil, err
		}
		n.Enrolled, n.LastSeen, n.ExtChecked = time.Unix(0, enrolled), time.Unix(0, seen), time.Unix(0, checked)
		n.Reenrolled, n.LastRefusal.At = unixNanoOrZero(reenrolled), unixNanoOrZero(refused)
		out = append(out, n)
	}
	return out, rows.Err()
}

func unixNanoOrZero(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Logged is one scheduled-query result row as osqueryd logged it.
type Logged struct {
	Name, Action             string
	UnixTime, Epoch, Counter int64
	Row                      Row
}

// StatusLine is one line of a host's osqueryd status log.
type StatusLine struct {
	UnixTime, Severity, Line int64
	Filename, Message        string
	Version                  string
}

// SaveLogsByHost stores many hosts' logged results, by host name, in one
// transaction (what a results file holds), adding hosts that are new, and
// returns how many rows were new. ids caches host ids across calls (a
// results file names the same hosts batch after batch); it is only valid
// while the calls succeed: ids a failed call found are not kept.
func (s *DB) SaveLogsByHost(ctx context.Context, byHost map[string][]Logged, ids map[string]int64) (int, error) {
	var added int
	var found map[string]int64
	encoded := make(map[string][]encodedLog, len(byHost))
	for host, rows := range byHost {
		encoded[host] = encodeLogged(rows)
	}
	err := s.write(ctx, "save logs", func(tx *sql.Tx) error {
		added, found = 0, map[string]int64{}
		for host, rows := range encoded {
			id, ok := ids[host]
			if !ok {
				var err error
				if id, err = hostID(ctx, tx, host); err != nil {
					return err
				}
				found[host] = id
			}
			n, err := insertLogged(ctx, tx, id, rows)
			if err != nil {
				return err
			}
			added += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for host, id := range found {
		ids[host] = id
	}
	return added, nil
}

// encodedLog is a logged row ready to insert: encoded and hashed before
// the write lock is taken, so concurrent callers do that work in parallel.
type encodedLog struct {
	*Logged
	queryID, hash, row string
}

func encodeLogged(results []Logged) []encodedLog {
	out := make([]encodedLog, len(results))
	for i := range results {
		row, _ := json.Marshal(results[i].Row)
		out[i] = encodedLog{Logged: &results[i], queryID: queryIDOf(results[i].Name), hash: results[i].Row.Hash(), row: string(row)}
	}
	return out
}

// insertChunk is how many rows one INSERT statement carries: SQLite's
// per-statement work (and a cgo call each) is paid once per chunk.
const insertChunk = 64

// loggedKey is a logged row's unique key on its host.
type loggedKey struct {
	name, action, hash       string
	unixTime, epoch, counter int64
}

// insertLogged inserts a host's rows and keeps what derives from them
// (derived.go): a chunk holding rows of a query something derives from
// returns the rows it inserted, and only those count.
func insertLogged(ctx context.Context, tx *sql.Tx, hostID int64, results []encodedLog) (int, error) {
	d, err := loadDerivations(ctx, tx)
	if err != nil {
		return 0, err
	}
	ds := newDeltas()
	added := 0
	args := make([]any, 0, 9*insertChunk)
	for len(results) > 0 {
		n := min(len(results), insertChunk)
		args = args[:0]
		var wanted map[loggedKey]*encodedLog
		for i, r := range results[:n] {
			args = append(args, hostID, r.Name, r.queryID, r.Action, r.UnixTime, r.Epoch, r.Counter, r.hash, r.row)
			if d.wants(r.queryID) && logs(r.Action) {
				if wanted == nil {
					wanted = map[loggedKey]*encodedLog{}
				}
				wanted[loggedKey{r.Name, r.Action, r.hash, r.UnixTime, r.Epoch, r.Counter}] = &results[i]
			}
		}
		q := `INSERT INTO scheduled_results (host_id, name, query_id, action, unix_time, epoch, counter, hash, row)
			VALUES ` + values(9, n) + ` ON CONFLICT DO NOTHING`
		if wanted == nil {
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, err
			}
			k, _ := res.RowsAffected()
			added += int(k)
		} else {
			k, err := insertReturning(ctx, tx, q, args, wanted, func(r *encodedLog) {
				ds.add(d, loggedRef{hostID: hostID, queryID: r.queryID, name: r.Name, action: r.Action, unixTime: r.UnixTime,
					epoch: r.Epoch, counter: r.Counter, hash: r.hash, row: decodedRow(r.Row, r.row)}, 1)
			})
			if err != nil {
				return 0, err
			}
			added += k
		}
		results = results[n:]
	}
	return added, ds.apply(ctx, tx)
}

// insertReturning runs an insert of logged rows, calls inserted with each
// wanted row it inserted, and returns how many rows it inserted.
func insertReturning(ctx context.Context, tx *sql.Tx, q string, args []any, wanted map[loggedKey]*encodedLog, inserted func(*encodedLog)) (int, error) {
	rs, err := tx.QueryContext(ctx, q+` RETURNING name, action, hash, unix_time, epoch, counter`, args...)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	n := 0
	for rs.Next() {
		var k loggedKey
		if err := rs.Scan(&k.name, &k.action, &k.hash, &k.unixTime, &k.epoch, &k.counter); err != nil {
			return 0, err
		}
		n++
		if r := wanted[k]; r != nil {
			inserted(r)
		}
	}
	return n, rs.Err()
}

// LoggedEvent is a logged row with its host and the time osqueryd logged
// it.
type LoggedEvent struct {
	Host   string
	Logged time.Time
	Row    Row
}

// LoggedRows returns the rows logged for a query (by id, as in queries/)
// as added or in a snapshot since a time, oldest first.
func (s *DB) LoggedRows(ctx context.Context, queryID string, since time.Time) ([]LoggedEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT h.name, l.unix_time, l.row
		FROM scheduled_results l
		JOIN hosts h ON h.id = l.host_id
		WHERE l.query_id = ? AND l.action IN ('added', 'snapshot') AND l.unix_time >= ?
		ORDER BY l.unix_time, h.name, l.hash`, queryID, since.Unix())
	if err != nil {
		return nil, err
	}
	return loggedEvents(rows)
}

// loggedEvents reads rows of (host name, unix_time, row) and closes them.
func loggedEvents(rows *sql.Rows) ([]LoggedEvent, error) {
	defer rows.Close()
	var out []LoggedEvent
	for rows.Next() {
		var e LoggedEvent
		var at int64
		var data string
		if err := rows.Scan(&e.Host, &at, &data); err != nil {
			return nil, err
		}
		e.Logged = time.Unix(at, 0)
		if err := json.Unmarshal([]byte(data), &e.Row); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountLogged counts a host's stored scheduled result rows ("" for all
// hosts).
func (s *DB) CountLogged(ctx context.Context, host string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM scheduled_results r JOIN hosts h ON h.id = r.host_id WHERE ? = '' OR h.name = ?`, host, host).Scan(&n)
	return n, err
}

// DistributedID names a queued query to osqueryd: batch and query id.
func DistributedID(batch, queryID string) string {
	return "pkgpersist:" + batch + ":" + queryID
}

// ParseDistributedID reverses DistributedID.
func ParseDistributedID(id string) (batch, queryID string, ok bool) {
	rest, ok := strings.CutPrefix(id, "pkgpersist:")
	if !ok {
		return "", "", false
	}
	batch, queryID, ok = strings.Cut(rest, ":")
	return batch, queryID, ok && batch != "" && queryID != ""
}

// Queue queues queries for a host under a batch name.
func (s *DB) Queue(ctx context.Context, batch string, hostID int64, queries []Query) error {
	return s.write(ctx, "queue", func(tx *sql.Tx) error {
		for _, q := range queries {
			if _, err := tx.ExecContext(ctx, `INSERT INTO distributed (batch, host_id, query_id, sql) VALUES (?, ?, ?, ?)`, batch, hostID, q.ID, q.SQL); err != nil {
				return err
			}
		}
		return nil
	})
}

// Cancel drops a batch's unanswered queries, so a host that checks in
// after the hunt gave up does not run them.
func (s *DB) Cancel(ctx context.Context, batch string, hostID int64) error {
	_, err := s.exec(ctx, "cancel", `DELETE FROM distributed WHERE batch = ? AND host_id = ? AND answered IS NULL`, batch, hostID)
	return err
}

// TakeQueued returns a host's unanswered queries by distributed id and
// marks them sent. A query sent but not answered is sent again on the
// next read, as osqueryd may have lost it.
func (s *DB) TakeQueued(ctx context.Context, hostID int64, now time.Time) (map[string]string, error) {
	var out map[string]string
	err := s.write(ctx, "take queued", func(tx *sql.Tx) error {
		out = map[string]string{}
		rows, err := tx.QueryContext(ctx, `UPDATE distributed SET sent = ? WHERE host_id = ? AND answered IS NULL
			RETURNING batch, query_id, sql`, now.UnixNano(), hostID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var batch, id, sql string
			if err := rows.Scan(&batch, &id, &sql); err != nil {
				return err
			}
			out[DistributedID(batch, id)] = sql
		}
		return rows.Err()
	})
	return out, err
}

// Answer records a host's answer to a queued query. An answer to a query
// not queued for the host, or answered already, is refused.
func (s *DB) Answer(ctx context.Context, hostID int64, batch, queryID string, rows []Row, status int64, message string, now time.Time) error {
	if rows == nil {
		rows = []Row{}
	}
	data, _ := json.Marshal(rows)
	return s.grouped(ctx, "answer", len(rows), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE distributed SET answered = ?, status = ?, message = ?, rows = ?
			WHERE batch = ? AND host_id = ? AND query_id = ? AND answered IS NULL`, now.UnixNano(), status, message, string(data), batch, hostID, queryID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w %s for this host", ErrNotPending, DistributedID(batch, queryID))
		}
		return nil
	})
}

// Waiting returns the hosts with queries of the batch not yet answered.
func (s *DB) Waiting(ctx context.Context, batch string) (map[int64]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT host_id FROM distributed WHERE batch = ? AND answered IS NULL`, batch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Answers returns a batch's answered queries, and how many are still
// unanswered.
func (s *DB) Answers(ctx context.Context, batch string, hostID int64) ([]QueryResult, int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT query_id, answered IS NOT NULL, status, message, rows FROM distributed
		WHERE batch = ? AND host_id = ? ORDER BY query_id`, batch, hostID)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []QueryResult
	pending := 0
	for rows.Next() {
		var id, message, data string
		var answered bool
		var status int64
		if err := rows.Scan(&id, &answered, &status, &message, &data); err != nil {
			return nil, 0, err
		}
		if !answered {
			pending++
			continue
		}
		q := QueryResult{QueryID: id}
		if status != 0 {
			q.Err = fmt.Sprintf("osquery status %d: %s", status, message)
		} else if err := json.Unmarshal([]byte(data), &q.Rows); err != nil {
			return nil, 0, err
		}
		out = append(out, q)
	}
	return out, pending, rows.Err()
}

// Group is logged rows sharing the values of some columns: how many, and
// on which hosts.
type Group struct {
	Values []string
	Count  int
	Hosts  []string
}

// GroupLogged groups a query's rows logged (added or in a snapshot) in
// [since, until] by the given columns, inside the database: stacking
// millions of events must not decode each row. A host that logged rows of
// any of the queries unless in the window is left out: two queries that
// see the same events (one on pkgpersist's tables, one on osquery's)
// count each host's events once.
//
// With a rollup of the query by the columns (EnsureRollup) the whole UTC
// days of the window are read from it, and only the partial days at its
// edges from the rows; likewise the hosts of the queries unless, from
// their smallest rollup.
func (s *DB) GroupLogged(ctx context.Context, queryID string, since, until time.Time, columns []string, unless ...string) ([]Group, error) {
	lo, hi := since.Unix(), until.Unix()
	var args []any
	src, err := s.loggedIn(ctx, queryID, columns, lo, hi, &args)
	if err != nil {
		return nil, err
	}
	without := ""
	if len(unless) > 0 {
		var hosts []string
		for _, u := range unless {
			h, err := s.loggedIn(ctx, u, nil, lo, hi, &args)
			if err != nil {
				return nil, err
			}
			hosts = append(hosts, h)
		}
		without = ` WHERE e.host_id NOT IN (SELECT host_id FROM (` + strings.Join(hosts, " UNION ALL ") + `) u)`
	}
	inner, keys := make([]string, len(columns)), make([]string, len(columns))
	for i := range keys {
		inner[i] = "e.k" + strconv.Itoa(i+1)
		keys[i] = "l.k" + strconv.Itoa(i+1)
	}
	// each host's count first: a host's rows of many days (and of the
	// rollup and the edges) meet the host table once
	rows, err := s.db.QueryContext(ctx, `SELECT `+strings.Join(append(keys, ""), ", ")+`CAST(sum(l.n) AS BIGINT), `+s.d.distinctTexts("h.name")+`
		FROM (SELECT `+strings.Join(append(inner, ""), ", ")+`e.host_id, sum(e.n) AS n FROM (`+src+`) e`+without+`
			GROUP BY `+keysByPosition(len(columns)+1)+`) l
		JOIN hosts h ON h.id = l.host_id
		GROUP BY `+keysByPosition(len(columns)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		g := Group{Values: make([]string, len(columns))}
		var hosts string
		dest := make([]any, 0, len(columns)+2)
		for i := range g.Values {
			dest = append(dest, &g.Values[i])
		}
		dest = append(dest, &g.Count, &hosts)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(hosts), &g.Hosts); err != nil {
			return nil, fmt.Errorf("host list of a group: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// loggedIn is a SELECT of queryID's rows logged (added or in a snapshot)
// in [lo, hi] as (k1.., host_id, n): n rows of the host with the values
// of the columns. Whole days come from the query's rollup by the columns
// when there is one (any of its rollups, the smallest, without columns),
// the rest from the rows themselves.
func (s *DB) loggedIn(ctx context.Context, queryID string, columns []string, lo, hi int64, args *[]any) (string, error) {
	rollup, err := s.rollupOf(ctx, queryID, columns)
	if err != nil {
		return "", err
	}
	fields, keys := make([]string, len(columns)), make([]string, len(columns))
	for i, c := range columns {
		keys[i] = "k" + strconv.Itoa(i+1)
		fields[i] = s.d.jsonField("scheduled_results.row", c) + " AS " + keys[i]
	}
	raw := func(from, to int64) string {
		*args = append(*args, queryID, from, to)
		return `SELECT ` + strings.Join(append(fields, ""), ", ") + `host_id, 1 AS n FROM scheduled_results
			WHERE query_id = ? AND action IN ` + loggedActions + ` AND unix_time BETWEEN ? AND ?`
	}
	// the whole days in [lo, hi]; day 0 also holds negative times
	d1, d2 := max((lo+daySeconds-1)/daySeconds, 1), (hi+1)/daySeconds-1
	if rollup == 0 || lo <= 0 || hi < 0 || d1 > d2 {
		return raw(lo, hi), nil
	}
	parts := make([]string, 0, 3)
	if lo < d1*daySeconds {
		parts = append(parts, raw(lo, d1*daySeconds-1))
	}
	parts = append(parts, `SELECT `+strings.Join(append(keys, ""), ", ")+`host_id, n FROM logged_rollup WHERE rollup_id = ? AND day BETWEEN ? AND ?`)
	*args = append(*args, rollup, d1, d2)
	if (d2+1)*daySeconds <= hi {
		parts = append(parts, raw((d2+1)*daySeconds, hi))
	}
	return strings.Join(parts, " UNION ALL "), nil
}

// rollupOf is the id of queryID's rollup by columns, or with nil columns
// the id of its rollup by the fewest; 0 when there is none.
func (s *DB) rollupOf(ctx context.Context, queryID string, columns []string) (int64, error) {
	if columns != nil {
		cols, _ := json.Marshal(columns)
		return s.rollupID(ctx, queryID, string(cols))
	}
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM rollups WHERE query_id = ? ORDER BY length(key_columns), id LIMIT 1`, queryID).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

func keysByPosition(n int) string {
	var k []string
	for i := 1; i <= n; i++ {
		k = append(k, strconv.Itoa(i))
	}
	return strings.Join(k, ", ")
}
