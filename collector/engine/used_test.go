package engine

import (
	"context"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/table"
)

// usedTable is a table of three columns and 20 rows that records the
// columns each generation is told are used and, when lazy, leaves the
// others out of its rows.
func usedTable(lazy bool, seen *[]map[string]bool) *table.Table {
	return &table.Table{
		Name:    "used_t",
		Columns: []table.Column{{Name: "a", Type: table.Text}, {Name: "b", Type: table.Integer}, {Name: "c", Type: table.Text}, table.RootColumn},
		Generate: func(_ context.Context, q table.QueryContext) ([]table.Row, error) {
			*seen = append(*seen, q.Used)
			var rows []table.Row
			for i := 0; i < 20; i++ {
				r := table.Row{"root": "/"}
				for col, v := range map[string]string{"a": "a" + strconv.Itoa(i%5), "b": strconv.Itoa(i), "c": "c" + strconv.Itoa(i%3)} {
					if !lazy || q.Uses(col) {
						r[col] = v
					}
				}
				rows = append(rows, r)
			}
			return rows, nil
		},
	}
}

// TestUsedColumns: the engine tells a table which of its columns the
// statement reads, and a table that leaves the others out answers every
// kind of statement exactly as one that produces them all.
func TestUsedColumns(t *testing.T) {
	var lazySeen, fullSeen []map[string]bool
	lazy, err := New([]*table.Table{usedTable(true, &lazySeen)}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	full, err := New([]*table.Table{usedTable(false, &fullSeen)}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	for _, e := range []*Engine{lazy, full} {
		if err := e.Exec(context.Background(), "CREATE TEMP VIEW used_v AS SELECT a, c AS cc FROM used_t WHERE b > 4"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		sql  string
		used []string // the columns the table is told of; nil: not checked
	}{
		{"SELECT * FROM used_t", []string{"a", "b", "c"}},
		{"SELECT a FROM used_t", []string{"a"}},
		{"SELECT a FROM used_t WHERE b > 10", []string{"a", "b"}},
		{"SELECT a FROM used_t ORDER BY c, b", []string{"a", "b", "c"}},
		{"SELECT count(*) FROM used_t", []string{}},
		{"SELECT count(*) FROM used_t WHERE c = 'c1'", []string{"c"}},
		{"SELECT DISTINCT a FROM used_t", []string{"a"}},
		{"SELECT a, count(*) FROM used_t GROUP BY a HAVING max(b) > 3", []string{"a", "b"}},
		{"SELECT a FROM used_t WHERE c = 'c1' OR c = 'c2' OR b = 3", nil},
		{"SELECT x.a, y.c FROM used_t x JOIN used_t y ON x.b = y.b + 1", nil},
		{"SELECT a FROM used_t UNION SELECT c FROM used_t", nil},
		{"SELECT a FROM (SELECT a, b FROM used_t WHERE b < 7) WHERE b > 2", nil},
		{"WITH w AS (SELECT c, b FROM used_t) SELECT c FROM w WHERE b % 2 = 0", nil},
		{"SELECT a FROM used_t WHERE b IN (SELECT b FROM used_t WHERE c = 'c0')", nil},
		{"SELECT (SELECT max(c) FROM used_t) AS m", nil},
		{"SELECT group_concat(a || c) FROM used_t WHERE root = '/'", nil},
		{"SELECT cc FROM used_v WHERE a != 'a1'", nil},
	} {
		lazySeen, fullSeen = nil, nil
		want, err := full.Query(context.Background(), c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		got, err := lazy.Query(context.Background(), c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if !reflect.DeepEqual(sortedRows(got.Rows), sortedRows(want.Rows)) {
			t.Errorf("%s: rows without unused columns %v, with them %v", c.sql, got.Rows, want.Rows)
		}
		if c.used == nil {
			continue
		}
		if len(lazySeen) == 0 {
			t.Fatalf("%s: not generated", c.sql)
		}
		for _, u := range lazySeen {
			var cols []string
			for col := range u {
				cols = append(cols, col)
			}
			sort.Strings(cols)
			if u == nil || strings.Join(cols, ",") != strings.Join(c.used, ",") {
				t.Errorf("%s: told of columns %v (nil: %v), want %v", c.sql, cols, u == nil, c.used)
			}
		}
	}
}

func sortedRows(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "\x1f")
	}
	sort.Strings(out)
	return out
}
