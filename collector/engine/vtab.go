// Package engine runs osquery SQL without osquery: an in-memory SQLite
// (go-sqlite3, build tag sqlite_vtable) whose eponymous virtual tables are
// the very table definitions the osquery extension serves.
package engine

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pkgpersist/pkgpersist/extension/table"
)

// module adapts one table.Table to SQLite's virtual-table interface.
type module struct {
	t   *table.Table
	ctx func() context.Context
	// root is the engine's default root, for queries that name none.
	root string
	// evented records that a statement plans to read an evented table
	// the engine refuses
	evented *planned
	refuse  bool
	// used are the columns of the table the running statement reads
	used *used
	// lookups are the statement's rows of the tables with an Index column
	lookups *lookups
}

func (m *module) EponymousOnlyModule() {}

func (m *module) Create(c *sqlite3.SQLiteConn, args []string) (sqlite3.VTab, error) {
	return m.Connect(c, args)
}

func (m *module) Connect(c *sqlite3.SQLiteConn, _ []string) (sqlite3.VTab, error) {
	if err := c.DeclareVTab(schema(m.t)); err != nil {
		return nil, fmt.Errorf("%s: declare: %w", m.t.Name, err)
	}
	return &vtab{m: m}, nil
}

func (m *module) DestroyModule() {}

// schema is the CREATE TABLE statement SQLite is told; hidden columns stay
// out of SELECT *, as in osquery.
func schema(t *table.Table) string {
	var cols []string
	for _, c := range t.Columns {
		col := quoteIdent(c.Name) + " " + string(c.Type)
		if c.Hidden {
			col += " HIDDEN"
		}
		cols = append(cols, col)
	}
	return "CREATE TABLE x(" + strings.Join(cols, ", ") + ")"
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

type vtab struct{ m *module }

// Constraints are handed to the table in idxStr as "column:op" pairs, one
// per argv value. The adapter claims only equality and LIKE on the columns
// the table reads as parameters (Table.Params), and re-applies them itself
// on the rows, exactly: SQLite does not re-check a claimed constraint.
func (v *vtab) BestIndex(cst []sqlite3.InfoConstraint, _ []sqlite3.InfoOrderBy) (*sqlite3.IndexResult, error) {
	if v.m.refuse {
		v.m.evented.set(v.m.t)
	}
	used := make([]bool, len(cst))
	var keys []string
	required := v.m.t.Required
	satisfied := len(required) == 0
	lookup := false
	for i, c := range cst {
		if !c.Usable || c.Column < 0 || c.Column >= len(v.m.t.Columns) {
			continue
		}
		col := v.m.t.Columns[c.Column]
		op := table.Operator(c.Op)
		indexed := col.Index && op == table.Equals
		if !indexed && !v.m.t.Param(col.Name, op) {
			continue
		}
		lookup = lookup || indexed
		used[i] = true
		keys = append(keys, col.Name+":"+strconv.Itoa(int(op)))
		for _, r := range required {
			if r == col.Name {
				satisfied = true
			}
		}
	}
	cost, rows := 1e6, 0.0
	switch {
	case !satisfied:
		// SQLite must not choose a plan without the required
		// constraint while one with it exists
		cost = 1e30
	case lookup:
		// a key answers from an index over rows generated once
		cost, rows = 1, 1
	case len(keys) > 0:
		cost = 10
	}
	return &sqlite3.IndexResult{Used: used, IdxStr: strings.Join(keys, ","), EstimatedCost: cost, EstimatedRows: rows}, nil
}

func (v *vtab) Disconnect() error { return nil }
func (v *vtab) Destroy() error    { return nil }
func (v *vtab) Open() (sqlite3.VTabCursor, error) {
	return &cursor{v: v}, nil
}

type cursor struct {
	v    *vtab
	rows []table.Row
	i    int
	// key identifies the constraints rows were generated for: SQLite
	// scans the inner table of a join once per outer row with the same
	// constraints, and generating it again would re-read its files (a
	// file listing joined with users read passwd once per file).
	key    string
	filled bool
	// a streamed table's rows come one at a time (pull), none kept:
	// row is the current one
	pull func() (table.Row, bool, error)
	stop func()
	q    table.QueryContext
	row  table.Row
}

func (c *cursor) Close() error {
	c.end()
	return nil
}

// end stops the stream being read, if any.
func (c *cursor) end() {
	if c.stop != nil {
		c.stop()
	}
	c.pull, c.stop, c.row = nil, nil, nil
}

// advance reads the stream's next row that matches the claimed
// constraints.
func (c *cursor) advance() error {
	for {
		r, ok, err := c.pull()
		if err != nil || !ok {
			c.end()
			return err
		}
		if matches(r, c.q) {
			c.row = r
			return nil
		}
	}
}

func (c *cursor) Filter(_ int, idxStr string, vals []any) error {
	t := c.v.m.t
	if c.v.m.refuse {
		return refusal(t)
	}
	c.end()
	key := filterKey(idxStr, vals)
	if c.filled && key == c.key {
		c.i = 0
		return nil
	}
	c.filled = false
	q := table.QueryContext{Constraints: map[string][]table.Constraint{}, Used: c.v.m.used.of(t.Name)}
	var keys []keyed
	if idxStr != "" {
		for i, k := range strings.Split(idxStr, ",") {
			col, op, _ := strings.Cut(k, ":")
			n, _ := strconv.Atoi(op)
			if i >= len(vals) {
				continue
			}
			if table.Operator(n) == table.Equals && !t.Param(col, table.Equals) {
				// only an Index column is claimed without being a parameter
				keys = append(keys, keyed{column(t, col), vals[i]})
				continue
			}
			q.Constraints[col] = append(q.Constraints[col], table.Constraint{Op: table.Operator(n), Expr: text(vals[i])})
		}
	}
	if len(q.Constraints["root"]) == 0 && c.v.m.root != "" && t.Param("root", table.Equals) {
		q.Constraints["root"] = []table.Constraint{{Op: table.Equals, Expr: c.v.m.root}}
	}
	for _, r := range t.Required {
		if len(q.Constraints[r]) > 0 {
			goto ok
		}
	}
	if len(t.Required) > 0 {
		return fmt.Errorf("%s: a constraint on %s is required", t.Name, strings.Join(t.Required, " or "))
	}
ok:
	if t.Stream != nil && !c.v.m.indexed() {
		c.q = q
		c.pull, c.stop = t.Pull(c.v.m.ctx(), q)
		return c.advance()
	}
	generate := func() ([]table.Row, error) {
		rows, err := t.Run(c.v.m.ctx(), q)
		if err != nil {
			return nil, err
		}
		// apply the claimed constraints exactly
		var out []table.Row
		for _, r := range rows {
			if matches(r, q) {
				out = append(out, r)
			}
		}
		return out, nil
	}
	if c.v.m.indexed() {
		g, err := c.v.m.lookups.get(queryKey(t.Name, q), generate)
		if err != nil {
			return err
		}
		c.rows = g.find(keys)
	} else {
		rows, err := generate()
		if err != nil {
			return err
		}
		c.rows = rows
	}
	c.i = 0
	c.key, c.filled = key, true
	return nil
}

// column is t's column called name.
func column(t *table.Table, name string) table.Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return table.Column{Name: name}
}

// indexed reports a table with an Index column: its rows are generated
// once per statement and constraints.
func (m *module) indexed() bool {
	for _, c := range m.t.Columns {
		if c.Index {
			return true
		}
	}
	return false
}

// filterKey encodes a Filter call's constraints, each value quoted so
// that no two calls share a key.
func filterKey(idxStr string, vals []any) string {
	var b strings.Builder
	b.WriteString(strconv.Quote(idxStr))
	for _, v := range vals {
		switch v.(type) {
		case nil:
			b.WriteString(" n:")
		case int64:
			b.WriteString(" i:")
		case float64:
			b.WriteString(" f:")
		case string:
			b.WriteString(" s:")
		case []byte:
			b.WriteString(" b:")
		default:
			fmt.Fprintf(&b, " %T:", v)
		}
		b.WriteString(strconv.Quote(text(v)))
	}
	return b.String()
}

func matches(r table.Row, q table.QueryContext) bool {
	for col, cs := range q.Constraints {
		for _, c := range cs {
			if !c.Match(r[col]) {
				return false
			}
		}
	}
	return true
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func (c *cursor) Next() error {
	if c.pull != nil {
		return c.advance()
	}
	c.i++
	return nil
}

func (c *cursor) EOF() bool {
	if c.row != nil {
		return false
	}
	return c.i >= len(c.rows)
}

// current is the row the cursor is on.
func (c *cursor) current() table.Row {
	if c.row != nil {
		return c.row
	}
	return c.rows[c.i]
}

// Rowid identifies a row by its values: SQLite's OR optimization merges
// the rows of each OR branch by rowid, so equal rows must share one and
// different rows must not.
func (c *cursor) Rowid() (int64, error) {
	h := fnv.New64a()
	row := c.current()
	for _, col := range c.v.m.t.Columns {
		h.Write([]byte(row[col.Name]))
		h.Write([]byte{0})
	}
	return int64(h.Sum64() &^ (1 << 63)), nil
}

// Column hands SQLite the value with the column's osquery type.
func (c *cursor) Column(ctx *sqlite3.SQLiteContext, col int) error {
	def := c.v.m.t.Columns[col]
	v, ok := c.current()[def.Name]
	if !ok {
		ctx.ResultNull()
		return nil
	}
	switch def.Type {
	case table.Integer, table.BigInt:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			ctx.ResultInt64(n)
			return nil
		}
		if v == "" {
			ctx.ResultNull()
			return nil
		}
	}
	ctx.ResultText(v)
	return nil
}
