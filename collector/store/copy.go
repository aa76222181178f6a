package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotEmpty: the store a copy was to fill already holds data.
var ErrNotEmpty = errors.New("the target already holds data")

// CopyOptions tune Copy.
type CopyOptions struct {
	// Batch is how many rows one INSERT carries (DefaultCopyBatch when 0);
	// fewer for a table of many columns, to stay under the engines'
	// limits on bound values.
	Batch int
	// Progress, when set, is told after each batch and at the end of
	// each table how far the copy of that table is.
	Progress func(CopyProgress)
}

// DefaultCopyBatch is the rows of one INSERT of a copy.
const DefaultCopyBatch = 1000

// maxCopyValues bounds the values bound to one INSERT: SQLite allows
// 32766, PostgreSQL 65535.
const maxCopyValues = 30000

// CopyProgress is how many of a table's rows are copied: Rows of Total,
// Done at the end of the table.
type CopyProgress struct {
	Table       string
	Rows, Total int64
	Done        bool
}

// Copied is a table copied and its rows, counted in the target once
// copied.
type Copied struct {
	Table string
	Rows  int64
}

// copyTable is a table of the source as the copy reads it.
type copyTable struct {
	name    string
	columns []string
	parents []string // the tables its foreign keys reference
	rowid   bool     // has a rowid: read in its order (insertion order)
	rows    int64    // counted in the source's snapshot
}

// Copy copies every table of the SQLite store src into dst, a store of
// either engine at the same schema version that holds no data (else
// ErrNotEmpty). The tables are those of src's schema itself, parents
// before the tables that reference them, so a table a migration adds is
// copied without a word here. src is read in one snapshot; its rows are
// streamed into dst in batches, all in one transaction of dst: a copy
// that fails or is interrupted leaves dst as empty as it was. Before
// the commit each table's rows are counted in dst against the source,
// and on PostgreSQL each identity column's sequence is moved past the
// ids copied, so the rows dst adds next get new ids (its foreign keys are
// checked then too: see dropKeys).
func Copy(ctx context.Context, src, dst *DB, opt CopyOptions) ([]Copied, error) {
	switch {
	case src.d.postgres:
		return nil, errors.New("copy: the source must be a SQLite store")
	case src == dst:
		return nil, errors.New("copy: the source is the target")
	}
	if opt.Batch <= 0 {
		opt.Batch = DefaultCopyBatch
	}
	// the store's one connection, holding a read snapshot (BEGIN
	// DEFERRED: the DSN's BEGIN IMMEDIATE would stop other writers for
	// the whole copy)
	conn, err := src.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: source: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return nil, fmt.Errorf("copy: source: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
	tables, err := sourceTables(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("copy: source schema: %w", err)
	}
	seed, err := seeded(ctx, tables)
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	var out []Copied
	err = dst.write(ctx, "copy", func(tx *sql.Tx) error {
		out = out[:0] // a retried attempt starts afresh
		if err := refuseData(ctx, tx, tables, seed); err != nil {
			return err
		}
		restore := func() error { return nil }
		if dst.d.postgres {
			var err error
			if restore, err = dropKeys(ctx, tx); err != nil {
				return fmt.Errorf("keys: %w", err)
			}
		}
		for _, t := range tables {
			n, err := copyRows(ctx, conn, tx, t, opt)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			var stored int64
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteName(t.name)).Scan(&stored); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			if n != t.rows || stored != t.rows {
				return fmt.Errorf("%s: %d rows in the source, %d read, %d stored", t.name, t.rows, n, stored)
			}
			out = append(out, Copied{Table: t.name, Rows: stored})
		}
		if err := restore(); err != nil {
			return fmt.Errorf("keys: %w", err)
		}
		if dst.d.postgres {
			return resetIdentities(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// refuseData is ErrNotEmpty when a table of the target has a row other
// than those every new store has (seed); those are deleted, since the
// source, migrated as far, has its own.
func refuseData(ctx context.Context, tx *sql.Tx, tables []copyTable, seed map[string]int64) error {
	for _, t := range tables {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteName(t.name)).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if n != seed[t.name] {
			return fmt.Errorf("%w (table %s has rows)", ErrNotEmpty, t.name)
		}
	}
	for _, t := range tables {
		if seed[t.name] > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+quoteName(t.name)); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}
	return nil
}

// seeded counts the rows a new store holds in each table: what the
// migrations insert (a revision counter, say).
func seeded(ctx context.Context, tables []copyTable) (map[string]int64, error) {
	dir, err := os.MkdirTemp("", "pkgpersist-seed-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fresh, err := Open(filepath.Join(dir, "new.db"))
	if err != nil {
		return nil, err
	}
	defer fresh.Close()
	seed := map[string]int64{}
	for _, t := range tables {
		var n int64
		if err := fresh.db.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteName(t.name)).Scan(&n); err != nil {
			return nil, fmt.Errorf("a new store's %s: %w", t.name, err)
		}
		seed[t.name] = n
	}
	return seed, nil
}

// sourceTables are the tables of a SQLite store in an order that puts
// every table after those its foreign keys reference (else in the order
// they were created), with their columns and row counts. schema_version
// is each store's own, and SQLite's internal tables are its business.
func sourceTables(ctx context.Context, conn *sql.Conn) ([]copyTable, error) {
	rs, err := conn.QueryContext(ctx, `SELECT m.name, l.wr FROM sqlite_master m
		JOIN pragma_table_list l ON l.schema = 'main' AND l.name = m.name
		WHERE m.type = 'table' AND l.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.name <> 'schema_version'
		ORDER BY m.rowid`)
	if err != nil {
		return nil, err
	}
	var created []copyTable
	for rs.Next() {
		var t copyTable
		var withoutRowid bool
		if err := rs.Scan(&t.name, &withoutRowid); err != nil {
			rs.Close()
			return nil, err
		}
		t.rowid = !withoutRowid
		created = append(created, t)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	for i := range created {
		t := &created[i]
		if t.columns, err = texts(ctx, conn, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, t.name); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		if t.parents, err = texts(ctx, conn, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, t.name); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteName(t.name)).Scan(&t.rows); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	return parentsFirst(created)
}

// parentsFirst orders tables so that each comes after the tables it
// references, otherwise keeping their order. A table referencing itself
// or a table not copied is no constraint; a cycle is an error.
func parentsFirst(tables []copyTable) ([]copyTable, error) {
	known := map[string]bool{}
	for _, t := range tables {
		known[t.name] = true
	}
	placed := map[string]bool{}
	var out []copyTable
	for len(out) < len(tables) {
		progress := false
		for _, t := range tables {
			if placed[t.name] {
				continue
			}
			ready := true
			for _, p := range t.parents {
				if p != t.name && known[p] && !placed[p] {
					ready = false
				}
			}
			if ready {
				out, placed[t.name], progress = append(out, t), true, true
				break // from the first again: creation order wherever it holds
			}
		}
		if !progress {
			return nil, errors.New("the tables' foreign keys form a cycle")
		}
	}
	return out, nil
}

// texts runs a query of one text column on a connection, a transaction
// or the database.
func texts(ctx context.Context, db queryer, query string, args ...any) ([]string, error) {
	rs, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var s string
		if err := rs.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rs.Err()
}

// copyRows streams a table's rows from the source snapshot into tx, a
// batch an INSERT, and returns how many it read.
func copyRows(ctx context.Context, conn *sql.Conn, tx *sql.Tx, t copyTable, opt CopyOptions) (int64, error) {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quoteName(c)
	}
	order := ""
	if t.rowid {
		order = " ORDER BY rowid"
	}
	rs, err := conn.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+quoteName(t.name)+order)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	batch := max(1, min(opt.Batch, maxCopyValues/len(cols)))
	insert := func(rows int) string {
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		return `INSERT INTO ` + quoteName(t.name) + ` (` + strings.Join(cols, ", ") + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
	}
	var full *sql.Stmt // the INSERT of a whole batch, prepared once
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	row := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range row {
		ptrs[i] = &row[i]
	}
	vals := make([]any, 0, batch*len(cols))
	var n int64
	flush := func() error {
		if len(vals) == 0 {
			return nil
		}
		var err error
		if rows := len(vals) / len(cols); rows < batch {
			_, err = tx.ExecContext(ctx, insert(rows), vals...)
		} else {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insert(batch)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, vals...)
		}
		if err != nil {
			return err
		}
		vals = vals[:0]
		if opt.Progress != nil {
			opt.Progress(CopyProgress{Table: t.name, Rows: n, Total: t.rows})
		}
		return nil
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return n, err
		}
		vals = append(vals, row...)
		n++
		if len(vals) == batch*len(cols) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rs.Err(); err != nil {
		return n, err
	}
	if err := flush(); err != nil {
		return n, err
	}
	if opt.Progress != nil {
		opt.Progress(CopyProgress{Table: t.name, Rows: n, Total: t.rows, Done: true})
	}
	return n, nil
}

// dropKeys drops the keys and indexes of the tables of PostgreSQL's
// current schema (foreign keys, primary keys, unique constraints, other
// indexes; checks stay) and returns what makes them again, as pg_restore
// does. PostgreSQL checks each foreign key and adds to each index row by
// row as rows are inserted, which is most of a copy's time: foreign keys
// alone took 4.4 s against 2.1 s without for 100,000 results rows here.
// Made again, each key checks all the rows in one join and each index is
// built from sorted rows. Both happen in the copy's transaction: a copy
// that fails keeps them, and rows a key refuses fail the copy.
func dropKeys(ctx context.Context, tx *sql.Tx) (restore func() error, err error) {
	// in the order they can be dropped: foreign keys before the keys
	// they reference
	rs, err := tx.QueryContext(ctx, `SELECT 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
			'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid),
			CASE c.contype WHEN 'f' THEN 0 ELSE 1 END
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE c.contype IN ('f', 'p', 'u') AND n.nspname = current_schema()
		UNION ALL
		SELECT 'DROP INDEX ' || i.indexrelid::regclass, pg_get_indexdef(i.indexrelid), 2
		FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = current_schema()
			AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
		ORDER BY 3, 1`)
	if err != nil {
		return nil, err
	}
	var drop, create []string
	for rs.Next() {
		var d, m string
		var order int
		if err := rs.Scan(&d, &m, &order); err != nil {
			rs.Close()
			return nil, err
		}
		drop, create = append(drop, d), append(create, m)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	for _, d := range drop {
		if _, err := tx.ExecContext(ctx, d); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	}
	return func() error {
		for i := len(create) - 1; i >= 0; i-- {
			if _, err := tx.ExecContext(ctx, create[i]); err != nil {
				return fmt.Errorf("%s: %w", create[i], err)
			}
		}
		return nil
	}, nil
}

// resetIdentities moves each identity column's sequence to the largest
// id its table holds: rows copied with their ids leave the sequence where
// it was, and the next row added would collide with them.
func resetIdentities(ctx context.Context, tx *sql.Tx) error {
	rs, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name`)
	if err != nil {
		return err
	}
	var ids [][2]string
	for rs.Next() {
		var table, column string
		if err := rs.Scan(&table, &column); err != nil {
			rs.Close()
			return err
		}
		ids = append(ids, [2]string{table, column})
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		// setval of NULL (an empty table) leaves the sequence alone
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), max(`+quoteName(id[1])+`)) FROM `+quoteName(id[0]),
			quoteName(id[0]), id[1]); err != nil {
			return fmt.Errorf("sequence of %s.%s: %w", id[0], id[1], err)
		}
	}
	return nil
}

// quoteName quotes an identifier for both engines (the schema's names
// are lower case, as PostgreSQL folds unquoted ones).
func quoteName(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
