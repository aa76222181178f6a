package store

import (
	"context"
	"database/sql"
	"errors"
)

// HostKnown says whether results or logs were ever stored for the host
// name (or a name it was reached by): a name no run knows is a mistake,
// not a host without changes.
func (s *DB) HostKnown(ctx context.Context, name string) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM hosts h WHERE `+hostFilter, name, name)
}

// RunKnown says whether the run is stored.
func (s *DB) RunKnown(ctx context.Context, id int64) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM runs WHERE id = ?`, id)
}

func (s *DB) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, classify("lookup", err)
}
