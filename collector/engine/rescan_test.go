package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/tables/groups"
	"github.com/pkgpersist/pkgpersist/collector/tables/users"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// counted counts how often t generates its rows.
func counted(t *table.Table, n *int) *table.Table {
	gen := t.Generate
	t.Generate = func(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
		*n++
		return gen(ctx, q)
	}
	return t
}

// TestJoinReadsLookupOnce: a file listing joined with users and groups
// generates each of them once per statement, not once per file row (2,000
// files read passwd and group 2,000 times each), and the join's rows are
// those of the lookup per row.
func TestJoinReadsLookupOnce(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/usr/sbin/nologin\n",
		"etc/group":  "root:x:0:\nbin:x:1:\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const files = 200
	listing := &table.Table{Name: "listing", Columns: []table.Column{{Name: "path", Type: table.Text}, {Name: "uid", Type: table.BigInt}, {Name: "gid", Type: table.BigInt}},
		Generate: func(context.Context, table.QueryContext) ([]table.Row, error) {
			var out []table.Row
			for i := 0; i < files; i++ {
				id := strconv.Itoa(i % 3) // 2 has no user or group
				out = append(out, table.Row{"path": "/f" + strconv.Itoa(i), "uid": id, "gid": id})
			}
			return out, nil
		}}
	var nu, ng int
	e, err := New([]*table.Table{listing, counted(users.Table(), &nu), counted(groups.Table(), &ng)}, root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Query(context.Background(), `SELECT l.path, u.username, g.groupname FROM listing l
		LEFT JOIN users u ON l.uid = u.uid LEFT JOIN groups g ON l.gid = g.gid`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != files {
		t.Fatalf("%d rows, want %d", len(res.Rows), files)
	}
	names := []string{"root", "bin", ""}
	for _, r := range res.Rows {
		i, _ := strconv.Atoi(r[0][2:])
		if want := names[i%3]; r[1] != want || r[2] != want {
			t.Errorf("%v: want %q as owner and group", r, want)
		}
	}
	if nu != 1 || ng != 1 {
		t.Errorf("users generated %d times, groups %d times for %d rows; want once each", nu, ng, files)
	}
}

// TestLookupByIndex: SQLite is told that users answers `uid =` by key,
// and the key's answers are SQLite's own: each constraint gives the rows
// that SQLite's comparison of every row gives (the same comparison inside
// a CASE, which no index can serve).
func TestLookupByIndex(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/usr/sbin/nologin\nsame:x:1:5::/:/bin/sh\n"
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	var n int
	e, err := New([]*table.Table{counted(users.Table(), &n)}, root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	plan, err := e.Query(context.Background(), "EXPLAIN QUERY PLAN SELECT username FROM users WHERE uid = 1")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(plan.Rows); !strings.Contains(got, "uid:2") {
		t.Errorf("plan %s does not use the uid key", got)
	}
	for _, v := range []string{"0", "1", "2", "1.0", "1.5", "'1'", "' 1 '", "'1.0'", "'01'", "'1e0'", "'0x1'", "NULL", "-0", "'x'", "'root'", "x'31'", "5", "'+1'", "'1.'", "'.5'", "'1e'", "'--1'", "'1-'", "'9223372036854775808'", "9223372036854775807", "1e0", "'\t1'"} {
		byKey, err := e.Query(context.Background(), "SELECT username FROM users WHERE uid = "+v+" ORDER BY username")
		if err != nil {
			t.Fatal(err)
		}
		scanned, err := e.Query(context.Background(), "SELECT username FROM users WHERE CASE WHEN uid = "+v+" THEN 1 END ORDER BY username")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(byKey.Rows) != fmt.Sprint(scanned.Rows) {
			t.Errorf("uid = %s: %v by key, %v comparing each row", v, byKey.Rows, scanned.Rows)
		}
	}
}
