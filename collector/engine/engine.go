package engine

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// driverSeq names each Engine's driver: database/sql keeps drivers in a
// process-wide registry, and an engine's tables are its own.
var driverSeq atomic.Int64

// Engine is an in-memory SQLite with the tables as eponymous virtual
// tables. Queries may name a root in each table's hidden root column; Root
// makes it the default for every table.
type Engine struct {
	db      *sql.DB
	ctx     atomic.Pointer[context.Context]
	evented planned
	used    used
	lookups lookups
	// capturing: the evented tables with a generator answer
	capturing bool
	// dbs: the package databases read by the engine's statements
	dbs *dbcache.Cache
}

// planned is the first evented table SQLite planned to read in the
// running statement. Filter alone would miss a table SQLite never scans
// (WHERE 0, the inner side of a join whose outer side is empty), which
// would answer zero rows.
type planned struct {
	mu sync.Mutex
	t  *table.Table
}

func (p *planned) set(t *table.Table) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.t == nil {
		p.t = t
	}
}

func (p *planned) take() *table.Table {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.t
	p.t = nil
	return t
}

// used are the columns of each table a statement reads, as SQLite's
// authorizer reports them while it compiles the statement (SQLITE_READ,
// for every column named, a SELECT *'s included): a table need not
// produce what nobody reads.
type used struct {
	mu sync.Mutex
	m  map[string]map[string]bool
}

// authorize records a column read and allows every action.
func (u *used) authorize(op int, tbl, column, _ string) int {
	if op == sqlite3.SQLITE_READ {
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.m == nil {
			u.m = map[string]map[string]bool{}
		}
		tbl = strings.ToLower(tbl)
		if u.m[tbl] == nil {
			u.m[tbl] = map[string]bool{}
		}
		// "" when the statement reads none of the table's columns
		// (count(*))
		if column != "" {
			u.m[tbl][column] = true
		}
	}
	return sqlite3.SQLITE_OK
}

// reset forgets the columns of the last statement.
func (u *used) reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m = nil
}

// of returns the columns of tbl the statement reads, nil when unknown
// (every column).
func (u *used) of(tbl string) map[string]bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.m[strings.ToLower(tbl)]
}

// NoEventSource is the error of a statement that reads an evented table:
// the engine runs no capture, and a query over events must not be
// answered with zero rows as if nothing had happened.
type NoEventSource struct {
	Table   string
	Instead string
}

func (e *NoEventSource) Error() string {
	if e.Instead == "" {
		// the extension's own evented tables give their own advice
		return events.NoSource(e.Table).Error()
	}
	return fmt.Sprintf("%s has no event source in pkgpersist's engine: %s", e.Table, e.Instead)
}

// refusal is the error for an evented table t.
func refusal(t *table.Table) *NoEventSource {
	return &NoEventSource{Table: t.Name, Instead: t.Instead}
}

// Option changes what an engine does.
type Option func(*Engine)

// Capturing serves the evented tables that answer from a capture running
// in this process (the extension's, built over its rings) instead of
// refusing them. osquery's own evented tables are refused still: nothing
// here captures for them.
func Capturing() Option { return func(e *Engine) { e.capturing = true } }

// New opens an engine serving tables; root is the filesystem root a query
// evaluates when it does not name one ("" for "/").
func New(tables []*table.Table, root string, opts ...Option) (*Engine, error) {
	e := &Engine{dbs: dbcache.New()}
	for _, o := range opts {
		o(e)
	}
	bg := context.Background()
	e.ctx.Store(&bg)
	name := fmt.Sprintf("sqlite3_pkgpersist_%d", driverSeq.Add(1))
	sql.Register(name, &sqlite3.SQLiteDriver{
		ConnectHook: func(conn *sqlite3.SQLiteConn) error {
			conn.RegisterAuthorizer(e.used.authorize)
			for _, t := range tables {
				m := &module{t: t, root: root, ctx: func() context.Context { return *e.ctx.Load() }, evented: &e.evented, lookups: &e.lookups,
					refuse: t.Evented && (!e.capturing || t.Generate == nil), used: &e.used}
				if err := conn.CreateModule(t.Name, m); err != nil {
					return fmt.Errorf("register %s: %w", t.Name, err)
				}
			}
			return nil
		},
	})
	db, err := sql.Open(name, ":memory:")
	if err != nil {
		return nil, err
	}
	// one connection: the virtual tables live per connection
	db.SetMaxOpenConns(1)
	e.db = db
	return e, nil
}

// Close releases the engine.
func (e *Engine) Close() error { return e.db.Close() }

// Result is a query's columns and rows, every value rendered as osqueryi
// --json renders it (a string; NULL as ""), and what the tables could not
// read or evaluate in full while they answered it.
type Result struct {
	Columns  []string
	Rows     [][]string
	Problems []fsroot.Problem
}

// Exec runs statements that return no rows (for example, temporary tables
// that shadow a table in tests).
func (e *Engine) Exec(ctx context.Context, stmts string) error {
	e.used.reset()
	_, err := e.db.ExecContext(ctx, stmts)
	return err
}

// Query runs one SQL statement. A statement that reads an evented table
// fails with a *NoEventSource.
func (e *Engine) Query(ctx context.Context, query string) (*Result, error) {
	res := &Result{}
	problems, err := e.Stream(ctx, query, func(cols []string) error {
		res.Columns = cols
		return nil
	}, func(row []string) error {
		res.Rows = append(res.Rows, slices.Clone(row))
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Problems = problems
	return res, nil
}

// Stream runs one SQL statement and hands its columns to columns, then
// each row to row as SQLite produces it (row's slice is reused: a caller
// that keeps a row copies it), so that memory does not grow with the
// rows. An error of either callback stops the statement and is returned
// as it is. The problems are what the tables could not read or evaluate
// in full. A statement that reads an evented table fails with a
// *NoEventSource before any row.
func (e *Engine) Stream(ctx context.Context, query string, columns func([]string) error, row func([]string) error) ([]fsroot.Problem, error) {
	e.evented.take()
	problems, err := e.query(ctx, query, columns, row)
	if t := e.evented.take(); t != nil {
		return nil, refusal(t)
	}
	return problems, err
}

// Explain compiles a statement without running it (SQLite's EXPLAIN: no
// table is read), evented tables included: it says whether the SQL can
// work where the tables have rows.
func (e *Engine) Explain(ctx context.Context, query string) error {
	e.evented.take()
	_, err := e.query(ctx, "EXPLAIN "+query, nil, nil)
	e.evented.take()
	return err
}

func (e *Engine) query(ctx context.Context, query string, columns func([]string) error, row func([]string) error) ([]fsroot.Problem, error) {
	problems := &fsroot.Problems{}
	ctx = dbcache.With(fsroot.WithProblems(ctx, problems), e.dbs)
	e.ctx.Store(&ctx)
	e.used.reset()
	e.lookups.reset()
	defer func() { bg := context.Background(); e.ctx.Store(&bg); e.lookups.reset() }()
	rows, err := e.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if columns == nil {
		return nil, nil
	}
	// SQLite has planned the statement: an evented table it would read
	// is refused before any row is handed on
	if t := e.evented.take(); t != nil {
		e.evented.set(t)
		return nil, nil
	}
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if err := columns(cols); err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			out[i] = text(v)
		}
		if err := row(out); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return problems.List(), nil
}
