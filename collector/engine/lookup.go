package engine

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pkgpersist/pkgpersist/extension/table"
)

// lookups holds, for one statement, the rows of each table with an Index
// column, per set of constraints it was generated for: a join asks a
// lookup table (users, groups) for one key per outer row, and generating
// it again per key re-read its files once per row.
type lookups struct {
	mu sync.Mutex
	m  map[string]*lookup
}

// lookup is one generation's rows and, per Index column, the rows by
// value, built when a constraint first asks for the column.
type lookup struct {
	rows []table.Row
	by   map[string]map[string][]table.Row
}

// reset forgets the statement's rows.
func (l *lookups) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m = nil
}

// get returns the rows generated for key, generating them once.
func (l *lookups) get(key string, generate func() ([]table.Row, error)) (*lookup, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if g, ok := l.m[key]; ok {
		return g, nil
	}
	rows, err := generate()
	if err != nil {
		return nil, err
	}
	if l.m == nil {
		l.m = map[string]*lookup{}
	}
	g := &lookup{rows: rows, by: map[string]map[string][]table.Row{}}
	l.m[key] = g
	return g, nil
}

// keyed is an `=` constraint on an Index column, with the value SQLite
// handed over.
type keyed struct {
	column table.Column
	value  any
}

// find returns the rows whose columns equal every key. The rows are
// shared: callers must not change the slice.
func (g *lookup) find(keys []keyed) []table.Row {
	if len(keys) == 0 {
		return g.rows
	}
	k := keys[0]
	want, ok := constraintKey(k.column.Type, k.value)
	if !ok {
		return nil
	}
	idx, built := g.by[k.column.Name]
	if !built {
		idx = map[string][]table.Row{}
		for _, r := range g.rows {
			if v, ok := rowKey(k.column, r); ok {
				idx[v] = append(idx[v], r)
			}
		}
		g.by[k.column.Name] = idx
	}
	rows := idx[want]
	if len(keys) == 1 {
		return rows
	}
	var out []table.Row
	for _, r := range rows {
		if keysMatch(r, keys[1:]) {
			out = append(out, r)
		}
	}
	return out
}

func keysMatch(r table.Row, keys []keyed) bool {
	for _, k := range keys {
		want, ok := constraintKey(k.column.Type, k.value)
		if !ok {
			return false
		}
		if got, ok := rowKey(k.column, r); !ok || got != want {
			return false
		}
	}
	return true
}

// rowKey is the value SQLite compares for a row's column, as the cursor
// hands it over: an integer column's value that parses is an integer, any
// other is text; a missing value (NULL) equals nothing.
func rowKey(c table.Column, r table.Row) (string, bool) {
	v, ok := r[c.Name]
	if !ok {
		return "", false
	}
	if numeric(c.Type) {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return "i" + strconv.FormatInt(n, 10), true
		}
		if v == "" {
			return "", false
		}
	}
	return "t" + v, true
}

// constraintKey is the key an `=` operand equals, after the column's
// affinity as SQLite applies it when comparing (the test checks it
// against SQLite's own comparison): an integer column takes text that
// reads as an integral number as that integer; a text column takes
// numbers as their text. NULL, blobs and non-integral numbers equal no
// value a row carries.
func constraintKey(t table.Type, v any) (string, bool) {
	switch x := v.(type) {
	case int64:
		if numeric(t) {
			return "i" + strconv.FormatInt(x, 10), true
		}
		return "t" + strconv.FormatInt(x, 10), true
	case float64:
		if !numeric(t) {
			return "t" + text(x), true
		}
		if n := int64(x); float64(n) == x && x > -1<<63 && x < 1<<63 {
			return "i" + strconv.FormatInt(n, 10), true
		}
	case string:
		if !numeric(t) {
			return "t" + x, true
		}
		if n, ok := integral(x); ok {
			return "i" + strconv.FormatInt(n, 10), true
		}
		if _, err := strconv.ParseFloat(strings.Trim(x, sqliteSpace), 64); err == nil && decimal(x) {
			return "", false
		}
		return "t" + x, true
	}
	return "", false
}

const sqliteSpace = " \t\n\v\f\r"

// integral reads s as SQLite's numeric affinity would: a decimal number,
// spaces around it allowed, that is an integer or a real without a
// fraction that fits one.
func integral(s string) (int64, bool) {
	s = strings.Trim(s, sqliteSpace)
	if !decimal(s) {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if n := int64(f); err == nil && float64(n) == f && f > -1<<63 && f < 1<<63 {
		return n, true
	}
	return 0, false
}

// decimal reports text made only of what a decimal number holds (Go
// would also read hexadecimal, "inf" and "nan", which SQLite does not).
func decimal(s string) bool {
	s = strings.Trim(s, sqliteSpace)
	return s != "" && strings.Trim(s, "0123456789+-.eE") == ""
}

func numeric(t table.Type) bool { return t == table.Integer || t == table.BigInt }

// queryKey encodes the constraints a table generates for.
func queryKey(name string, q table.QueryContext) string {
	cols := make([]string, 0, len(q.Constraints))
	for c := range q.Constraints {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	var b strings.Builder
	b.WriteString(strconv.Quote(name))
	for _, c := range cols {
		for _, x := range q.Constraints[c] {
			b.WriteString(" " + strconv.Quote(c) + ":" + strconv.Itoa(int(x.Op)) + ":" + strconv.Quote(x.Expr))
		}
	}
	return b.String()
}
