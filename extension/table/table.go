// Package table defines a pkgpersist table once: its columns (with osquery
// types) and a generate function over a query context. The osquery
// extension and the collector's embedded engine both serve tables from this
// definition through thin adapters; a table never knows which one calls it.
package table

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// Type is an osquery column type.
type Type string

// The osquery column types pkgpersist uses.
const (
	Text    Type = "TEXT"
	Integer Type = "INTEGER"
	BigInt  Type = "BIGINT"
)

// Column is one column of a table.
type Column struct {
	Name        string
	Type        Type
	Description string
	// Hidden columns are left out of SELECT * and act as parameters,
	// like osquery's own hidden columns.
	Hidden bool
	// Operators are the constraint operators the table itself applies
	// to this column (it reads them as parameters); an engine may hand
	// those constraints over instead of filtering rows afterwards.
	Operators []Operator
	// Index marks a lookup key (osquery's INDEX column option): the
	// table's rows do not depend on it, and an engine may answer `=` on
	// it from rows generated once per statement, by key, instead of
	// generating the table again for every key a join asks for.
	Index bool
}

// Row is one result row, values as osquery carries them (strings).
type Row map[string]string

// Operator is an osquery constraint operator.
type Operator int

// The operators of osquery's tables.h that pkgpersist tables act on.
const (
	Equals              Operator = 2
	GreaterThan         Operator = 4
	LessThanOrEquals    Operator = 8
	LessThan            Operator = 16
	GreaterThanOrEquals Operator = 32
	Like                Operator = 65
	Glob                Operator = 66
)

// Constraint is one operator and operand from the query's WHERE clause.
type Constraint struct {
	Op   Operator
	Expr string
}

// QueryContext holds the constraints per column.
type QueryContext struct {
	Constraints map[string][]Constraint
	// Used are the columns the statement reads, when the caller knows
	// them (nil: every column). A table may leave the others out of its
	// rows, as long as rows that differ still differ in the columns it
	// keeps.
	Used map[string]bool
}

// Uses reports whether the statement reads column.
func (q QueryContext) Uses(column string) bool { return q.Used == nil || q.Used[column] }

// Equals returns the operands of the `=` constraints on column, in order
// and without repeats.
func (q QueryContext) Equals(column string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range q.Constraints[column] {
		if c.Op == Equals && !seen[c.Expr] {
			seen[c.Expr] = true
			out = append(out, c.Expr)
		}
	}
	return out
}

// Generate produces a table's rows.
type Generate func(ctx context.Context, q QueryContext) ([]Row, error)

// Stream produces a table's rows one at a time, handing each to emit; an
// error of emit stops it and is returned.
type Stream func(ctx context.Context, q QueryContext, emit func(Row) error) error

// Table is a table definition.
type Table struct {
	Name        string
	Description string
	Columns     []Column
	Generate    Generate
	// Stream, when set, produces the rows one at a time and Generate
	// collects them (Collect): an engine may hand rows on as they come
	// (Pull), so that memory does not grow with a table's rows.
	Stream Stream
	// Required lists columns of which at least one must be constrained
	// (osquery's `file` needs path or directory).
	Required []string
	// Evented tables answer from events captured while the process that
	// serves them runs (osquery's *_events tables, pkgpersist's pm_*
	// events), not from a root: they have no root column, and a process
	// that captures nothing refuses them, since no rows would read as
	// "nothing happened".
	Evented bool
	// Instead says, for an evented table, what to use where it has no
	// event source ("" for the pkgpersist extension's own advice).
	Instead string
}

// Param reports whether the table applies op on column itself.
func (t *Table) Param(column string, op Operator) bool {
	for _, c := range t.Columns {
		if c.Name == column {
			for _, o := range c.Operators {
				if o == op {
					return true
				}
			}
		}
	}
	return false
}

// Match applies the constraint to a value as SQLite would: = compares
// exactly, LIKE is case-insensitive for ASCII letters with % and _.
func (c Constraint) Match(v string) bool {
	switch c.Op {
	case Equals:
		return v == c.Expr
	case Like:
		return LikeMatch(c.Expr, v)
	case GreaterThan, GreaterThanOrEquals, LessThan, LessThanOrEquals:
		// the evented tables' integer columns; a value that is not an
		// integer on either side matches, as the table decides then
		a, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return true
		}
		return c.MatchInt(a)
	}
	return true
}

// MatchInt applies an ordering or equality constraint to an integer; an
// operand that is not an integer, or another operator, matches.
func (c Constraint) MatchInt(v int64) bool {
	n, err := strconv.ParseInt(c.Expr, 10, 64)
	if err != nil {
		return true
	}
	switch c.Op {
	case Equals:
		return v == n
	case GreaterThan:
		return v > n
	case GreaterThanOrEquals:
		return v >= n
	case LessThan:
		return v < n
	case LessThanOrEquals:
		return v <= n
	}
	return true
}

// LikeMatch is SQLite's LIKE without ESCAPE: % matches any run, _ one
// character, ASCII letters match either case.
func LikeMatch(pattern, s string) bool {
	// iterative matcher with one backtrack point, linear in practice
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '%':
			starP, starI = p, i
			p++
		case p < len(pattern) && (pattern[p] == '_' || lower(pattern[p]) == lower(s[i])):
			if pattern[p] == '_' {
				// one UTF-8 character
				i += utf8Len(s[i])
			} else {
				i++
			}
			p++
		case starP >= 0:
			starI++
			i = starI
			p = starP + 1
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '%' {
		p++
	}
	return p == len(pattern)
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func utf8Len(b byte) int {
	switch {
	case b < 0x80:
		return 1
	case b>>5 == 0x6:
		return 2
	case b>>4 == 0xe:
		return 3
	case b>>3 == 0x1e:
		return 4
	}
	return 1
}

// DefaultTimeout bounds one generation when the caller sets no deadline.
const DefaultTimeout = 20 * time.Second

// Run calls t.Generate under a deadline (the caller's, or DefaultTimeout
// when it has none) and turns a panic into an error, so that one table can
// neither hang nor crash the process that serves it.
func (t *Table) Run(ctx context.Context, q QueryContext) (rows []Row, err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	type result struct {
		rows []Row
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: t.internal(p)}
			}
		}()
		rows, err := t.Generate(ctx, q)
		done <- result{rows, err}
	}()
	select {
	case r := <-done:
		return r.rows, t.named(r.err)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", t.Name, context.Cause(ctx))
	}
}

// internal is the error of a table that panicked.
func (t *Table) internal(p any) error {
	return fmt.Errorf("%s: internal error: %v\n%s", t.Name, p, firstFrames(debug.Stack()))
}

// named prefixes an error with the table's name, once.
func (t *Table) named(err error) error {
	if err != nil && !strings.HasPrefix(err.Error(), t.Name+":") {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	return err
}

// pullBatch is how many rows a stream hands over at once: the rows in
// flight are at most a few batches.
const pullBatch = 256

// Pull runs t.Stream as Run runs Generate (in its own goroutine, under the
// caller's deadline or DefaultTimeout, a panic turned into an error,
// errors named after the table) and hands its rows over as they come,
// a few batches ahead of the reader: next returns the next row, false at
// the end or with an error; stop ends the stream early and must be
// called. (A coroutine would not do: SQLite calls its reader from cgo
// callbacks, each locked to its own thread.)
func (t *Table) Pull(ctx context.Context, q QueryContext) (next func() (Row, bool, error), stop func()) {
	var cancel context.CancelFunc
	if _, ok := ctx.Deadline(); ok {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
	}
	batches := make(chan []Row, 2)
	// failed is set before batches is closed
	var failed error
	go func() {
		defer close(batches)
		var batch []Row
		send := func() error {
			if len(batch) == 0 {
				return nil
			}
			select {
			case batches <- batch:
				batch = nil
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		// the rows before an error or a panic are handed over before it
		defer func() {
			if p := recover(); p != nil {
				failed = t.internal(p)
				send()
			}
		}()
		err := t.Stream(ctx, q, func(r Row) error {
			if batch = append(batch, r); len(batch) < pullBatch {
				return nil
			}
			return send()
		})
		if serr := send(); err == nil {
			err = serr
		}
		failed = t.named(err)
	}()
	var rows []Row
	next = func() (Row, bool, error) {
		for len(rows) == 0 {
			select {
			case b, ok := <-batches:
				if !ok {
					return nil, false, failed
				}
				rows = b
			case <-ctx.Done():
				return nil, false, fmt.Errorf("%s: %w", t.Name, context.Cause(ctx))
			}
		}
		r := rows[0]
		rows = rows[1:]
		return r, true, nil
	}
	return next, cancel
}

// Collect makes the Generate of a Stream: every row, in one slice.
func Collect(s Stream) Generate {
	return func(ctx context.Context, q QueryContext) ([]Row, error) {
		var out []Row
		err := s(ctx, q, func(r Row) error {
			out = append(out, r)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// firstFrames keeps a panic's stack short enough for one log entry.
func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	if len(lines) > 16 {
		lines = lines[:16]
	}
	return strings.Join(lines, "\n")
}

// Reading returns the part of ctx's time a table may spend reading files:
// three quarters of what is left. A reader stopped by it says what it did
// not read, and the table still has time to answer with that.
func Reading(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, time.Now().Add(time.Until(d)*3/4))
}

// OpenRoot opens root for one table generation (fsroot.OpenContext) and
// returns it with the context for reading its files (Reading); done
// releases both.
func OpenRoot(ctx context.Context, root string) (fs *fsroot.Root, rctx context.Context, done func(), err error) {
	fs, err = fsroot.OpenContext(ctx, root)
	if err != nil {
		return nil, nil, nil, err
	}
	rctx, cancel := Reading(ctx)
	return fs, rctx, func() {
		cancel()
		fs.Close()
	}, nil
}

// Check returns the context's error, for loops that poll it.
func Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped: %w", err)
	}
	return nil
}

// Roots returns the roots a query asks for: the `=` operands of the hidden
// root column, or "/" when there is none.
func Roots(q QueryContext) []string {
	roots := q.Equals("root")
	if len(roots) == 0 {
		return []string{"/"}
	}
	return roots
}

// RootColumn is the hidden column every table has.
var RootColumn = Column{Name: "root", Type: Text, Hidden: true, Operators: []Operator{Equals},
	Description: "Filesystem root to evaluate (default `/`), e.g. a mounted disk image or container root; paths in results are as seen inside it"}

// PerRoot makes a Generate that evaluates each root the query names.
func PerRoot(rows func(ctx context.Context, root string) ([]Row, error)) Generate {
	return func(ctx context.Context, q QueryContext) ([]Row, error) {
		var out []Row
		for _, root := range Roots(q) {
			rs, err := rows(ctx, root)
			if err != nil {
				return nil, err
			}
			out = append(out, rs...)
		}
		return out, nil
	}
}

// Bool renders a boolean as osquery's INTEGER 0 or 1.
func Bool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
