package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Backup copies the database to dest with SQLite's online backup: a
// consistent copy as of one moment while other processes keep writing.
// The copy is made beside dest, 0600, and renamed to dest when complete,
// so dest is never a partial copy; an existing dest is refused.
func (s *DB) Backup(ctx context.Context, dest string) error {
	if s.d.postgres {
		return errors.New("backup: a PostgreSQL store is backed up with PostgreSQL's own tools (pg_dump, or continuous archiving)")
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("backup: %s exists (give a new file)", dest)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := s.backupTo(ctx, tmp.Name()); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	// link, not rename: a dest made meanwhile is not replaced
	if err := os.Link(tmp.Name(), dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func (s *DB) backupTo(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	dst, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer dst.Close()
	src, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	return dst.Raw(func(d any) error {
		return src.Raw(func(sc any) error {
			dc, ok1 := d.(*sqlite3.SQLiteConn)
			srcc, ok2 := sc.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not SQLite connections")
			}
			b, err := dc.Backup("main", srcc, "main")
			if err != nil {
				return err
			}
			// every page in one step: one read snapshot, so the copy is
			// of one moment (WAL lets writers go on meanwhile)
			if _, err := b.Step(-1); err != nil {
				b.Finish()
				return err
			}
			return b.Finish()
		})
	})
}
