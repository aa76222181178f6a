package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
)

// OpenReadOnly opens the database at path for reading only, for commands
// that only report (diff, hosts, report): a database on a read-only
// mount, a file the user may not write, or a copy kept as evidence is
// read without being changed. It is never migrated: a schema older than
// this pkgpersist's must be opened once by a command that writes.
func OpenReadOnly(path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	s, err := openRO(path, "mode=ro")
	if err != nil && walEmpty(path) {
		// without the -shm file SQLite cannot read a WAL database it may
		// not write; with no log to read the file alone is the database
		s, err = openRO(path, "immutable=1")
	}
	if err != nil {
		return nil, fmt.Errorf("%s (read-only): %w", path, err)
	}
	return s, nil
}

func openRO(path, mode string) (*DB, error) {
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+mode+"&_foreign_keys=on&_busy_timeout=1000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	var v int
	if err := db.QueryRowContext(context.Background(), `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		db.Close()
		return nil, classify("read schema version", err)
	}
	if v != len(migrations) {
		db.Close()
		return nil, fmt.Errorf("database schema version %d, this pkgpersist reads %d: open it once with a command that writes (pkgpersist hunt) to migrate it", v, len(migrations))
	}
	return &DB{db: db, opt: DefaultOptions, path: path}, nil
}

func walEmpty(path string) bool {
	fi, err := os.Stat(path + "-wal")
	return errors.Is(err, os.ErrNotExist) || (err == nil && fi.Size() == 0)
}
