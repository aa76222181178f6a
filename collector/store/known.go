package store

import (
	"context"
	"database/sql"
	"errors"
)

// HostKnown says whether results or logs were ever stored for the host
// name: a name no run knows is a mistake, not a host without changes.
func (s *SQLite) HostKnown(ctx context.Context, name string) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM hosts WHERE name = ?`, name)
}

// RunKnown says whether the run is stored.
func (s *SQLite) RunKnown(ctx context.Context, id int64) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM runs WHERE id = ?`, id)
}

func (s *SQLite) exists(ctx context.Context, query string, arg any) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, query, arg).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, classify("lookup", err)
}
