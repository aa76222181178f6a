package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// triageSchema adds the volatile columns of each query (left out of its
// rows' identity) and the analysts' triage decisions.
const triageSchema = `ALTER TABLE queries ADD COLUMN volatile TEXT NOT NULL DEFAULT '';
	-- a decision about a finding: the rows of query_id whose identity is
	-- hash, on host ('' for every host), until the time until (unix ns)
	CREATE TABLE triage (
		id       INTEGER PRIMARY KEY,
		query_id TEXT NOT NULL,
		hash     TEXT NOT NULL,
		host     TEXT NOT NULL DEFAULT '',
		row      TEXT NOT NULL DEFAULT '{}',
		verdict  TEXT NOT NULL,
		reason   TEXT NOT NULL,
		who      TEXT NOT NULL,
		created  INTEGER NOT NULL,
		until    INTEGER NOT NULL
	);
	CREATE INDEX triage_row ON triage (query_id, hash);`

// Triage is an analyst's decision about a finding: the rows of a query
// with one identity (Row.Identity), on one host or on all ("").
type Triage struct {
	ID      int64
	QueryID string
	Hash    string
	Host    string
	Row     Row // the row as it was when decided, to show what was decided
	Verdict string
	Reason  string
	Who     string
	Created time.Time
	Until   time.Time
}

// AddTriage records a decision and returns its id.
func (s *DB) AddTriage(ctx context.Context, t Triage) (int64, error) {
	row, _ := json.Marshal(t.Row)
	var id int64
	err := s.write(ctx, "triage", func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO triage (query_id, hash, host, row, verdict, reason, who, created, until)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.QueryID, t.Hash, t.Host, string(row), t.Verdict, t.Reason, t.Who, t.Created.UnixNano(), t.Until.UnixNano()).Scan(&id)
	})
	return id, err
}

// RemoveTriage deletes a decision; it is an error when there is none.
func (s *DB) RemoveTriage(ctx context.Context, id int64) error {
	n, err := s.exec(ctx, "remove triage", `DELETE FROM triage WHERE id = ?`, id)
	if err == nil && n == 0 {
		err = fmt.Errorf("no triage decision %d", id)
	}
	return err
}

// Triages lists every decision, expired ones included, oldest first.
func (s *DB) Triages(ctx context.Context) ([]Triage, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT id, query_id, hash, host, row, verdict, reason, who, created, until FROM triage ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []Triage
	for rs.Next() {
		var t Triage
		var row string
		var created, until int64
		if err := rs.Scan(&t.ID, &t.QueryID, &t.Hash, &t.Host, &row, &t.Verdict, &t.Reason, &t.Who, &created, &until); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(row), &t.Row); err != nil {
			return nil, fmt.Errorf("stored triage %d: %w", t.ID, err)
		}
		t.Created, t.Until = time.Unix(0, created), time.Unix(0, until)
		out = append(out, t)
	}
	return out, rs.Err()
}

// volatileColumns are the columns of a query left out of its rows'
// identity, as its last run recorded them.
func volatileColumns(ctx context.Context, db queryer, queryID string) ([]string, error) {
	var v string
	err := db.QueryRowContext(ctx, `SELECT volatile FROM queries WHERE id = ?`, queryID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && v == "") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return strings.Split(v, ","), nil
}

// queryer is a transaction, a connection or the database.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
