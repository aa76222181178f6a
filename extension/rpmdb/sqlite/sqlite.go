// Package sqlite reads rpm's SQLite package database (rpmdb.sqlite: rpm ≥
// 4.16, Fedora ≥ 33, RHEL ≥ 9) through a descriptor the caller opened,
// read-only and immutable (see openFD), with rpm's schema
// (lib/backend/sqlite.c): Packages(hnum, blob) holds the header blobs,
// Basenames(key, hnum, idx) the index of file base names rpm -qf uses.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// DB is an open rpmdb.sqlite.
type DB struct{ db *sql.DB }

// Open opens the database f holds; f must stay open until Close.
func Open(f *os.File) (*DB, error) {
	db, err := openFD(f)
	if err != nil {
		return nil, err
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM Packages").Scan(&n); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{db}, nil
}

// Close closes the database (not f).
func (d *DB) Close() error { return d.db.Close() }

// Each calls fn with each package's number and header blob, in rpm's
// order (by number). A row that cannot be scanned is passed with its error.
func (d *DB) Each(ctx context.Context, fn func(num uint32, blob []byte, err error) error) error {
	rows, err := d.db.QueryContext(ctx, "SELECT hnum, blob FROM Packages ORDER BY hnum")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var num int64
		var blob []byte
		err := rows.Scan(&num, &blob)
		if err == nil && (num <= 0 || num > 0xffffffff) {
			err = fmt.Errorf("sqlite: package number %d", num)
		}
		if err := fn(uint32(num), blob, err); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Get returns the header blob of package num.
func (d *DB) Get(num uint32) ([]byte, error) {
	var blob []byte
	if err := d.db.QueryRow("SELECT blob FROM Packages WHERE hnum = ?", num).Scan(&blob); err != nil {
		return nil, fmt.Errorf("sqlite: package %d: %w", num, err)
	}
	return blob, nil
}

// A Ref is one entry of the Basenames index: file idx of package Num.
type Ref struct {
	Num uint32
	Idx int
}

// Basename returns the index's entries for a file base name, as rpm -qf
// looks them up.
func (d *DB) Basename(ctx context.Context, base string) ([]Ref, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT hnum, idx FROM Basenames WHERE key = ?", base)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Ref
	for rows.Next() {
		var num int64
		var r Ref
		if err := rows.Scan(&num, &r.Idx); err != nil {
			return nil, err
		}
		if num > 0 && num <= 0xffffffff {
			r.Num = uint32(num)
			out = append(out, r)
		}
	}
	return out, rows.Err()
}
