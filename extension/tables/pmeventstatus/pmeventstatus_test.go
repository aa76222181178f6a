package pmeventstatus

import (
	"context"
	"slices"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// TestRowsHaveTheColumns: a ring's row and a missing ring's row carry
// exactly the table's columns, the byte bound among them.
func TestRowsHaveTheColumns(t *testing.T) {
	ring := events.NewRing("process", events.Limits{MaxBytes: 1 << 20}, nil)
	ring.Add(table.Row{"cmdline": "dpkg -i x.deb"})
	tab := Table(&events.Sources{Process: ring})
	rows, err := tab.Generate(context.Background(), table.QueryContext{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	var want []string
	for _, c := range tab.Columns {
		want = append(want, c.Name)
	}
	slices.Sort(want)
	for _, r := range rows {
		var got []string
		for k := range r {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("row %v\nhas columns %v\nwant %v", r, got, want)
		}
	}
	if p := rows[0]; p["max_bytes"] != "1048576" || p["bytes"] == "0" || p["kept"] != "1" {
		t.Errorf("process row %v", p)
	}
	if f := rows[1]; f["max_bytes"] != "0" || f["running"] != "0" {
		t.Errorf("file row %v", f)
	}
}
