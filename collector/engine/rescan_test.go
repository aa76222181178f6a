package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
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
