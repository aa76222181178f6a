package stacks

import (
	"bytes"
	"context"
	"github.com/pkgpersist/pkgpersist/test/storetest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/ingest"
	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// testdata/hunt.results.log holds both queries' events in event, batch
// and snapshot lines, with groups on both sides of every threshold:
// 20 writes on 4 hosts (kept), 21 writes (dropped), 5 hosts (dropped), a
// package manager writing (left out), a single write (kept); 49 children
// on 5 hosts (kept), 50 (dropped), 6 hosts (dropped), a parent not in the
// list in the hunt (apt-get, kept now), 2 children on one host (kept).
// Host h10 logs the extension's queries and osquery's: a write by a
// process at /tmp named dpkg (kept: pm-writes judged it by path) and a
// grandchild of dpkg (kept: pm-descendants judged it by ancestry), while
// its osquery rows are not stacked at all.
func load(t *testing.T) *store.DB {
	t.Helper()
	st := storetest.Open(t)
	t.Cleanup(func() { st.Close() })
	f, err := os.Open("testdata/hunt.results.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s, err := ingest.Read(context.Background(), st, f, "hunt"); err != nil || s.Bad != 0 {
		t.Fatalf("ingest: %+v %v", s, err)
	}
	return st
}

const wantStacks = `stack,executable,path,count,hosts,host_list
files,/tmp/dpkg,/etc/apt/apt.conf.d/20listchanges,1,1,h10
files,/usr/bin/curl,/usr/lib/python3/dist-packages/dnf-plugins/z.py,1,1,h7
files,/usr/bin/python3,/etc/apt/apt.conf.d/99evil,20,4,"h0,h1,h2,h3"
children,/tmp/x,,1,1,h8
children,/usr/bin/curl,,1,1,h10
children,/tmp/.hidden/payload,,2,1,h8
children,/usr/bin/sh,,49,5,"h0,h1,h2,h3,h4"
`

// stacked loads both stacks in [since, until] and writes them as CSV.
func stacked(t testing.TB, st *store.DB, since, until time.Time) ([]Logged, []Logged, string) {
	t.Helper()
	ctx := context.Background()
	files, err := Load(ctx, st, FileSources, since, until)
	if err != nil {
		t.Fatal(err)
	}
	children, err := Load(ctx, st, ChildSources, since, until)
	if err != nil {
		t.Fatal(err)
	}
	rows := append(Rows("files", Files(files, Defaults)), Rows("children", Children(children, Defaults))...)
	var got bytes.Buffer
	if err := output.Write(&got, "csv", Columns, rows); err != nil {
		t.Fatal(err)
	}
	return files, children, got.String()
}

// TestStacksFromRollups: with the rollups kept, a window whose whole
// days hold the events stacks them as the events do.
func TestStacksFromRollups(t *testing.T) {
	st := load(t)
	if err := Prepare(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	// the events are on 2026-11-22 before noon: the window's second
	// whole day
	until := time.Unix(1795348800+86400, 0)
	if _, _, got := stacked(t, st, until.Add(-3*24*time.Hour), until); got != wantStacks {
		t.Errorf("stacks from rollups:\n%s\nwant\n%s", got, wantStacks)
	}
}

func TestStacks(t *testing.T) {
	st := load(t)
	files, children, got := stacked(t, st, time.Unix(1795348800-7200, 0), time.Unix(1795348800, 0))
	if got != wantStacks {
		t.Errorf("stacks:\n%s\nwant\n%s", got, wantStacks)
	}
	// the thresholds are flags: loosened, the dropped groups come back
	o := Defaults
	o.FileMaxCount, o.FileMaxHosts, o.ChildMaxHosts, o.ChildCountBelow = 21, 5, 6, 51
	o.PackageManagers = nil
	if n := len(Files(files, o)); n != 6 {
		t.Errorf("loosened files stack: %d groups, want 6", n)
	}
	if n := len(Children(children, o)); n != 6 {
		t.Errorf("loosened children stack: %d groups, want 6", n)
	}
	o.ChildLimit = 1
	if got := Children(children, o); len(got) != 1 || !strings.HasPrefix(got[0].Executable, "/tmp/") {
		t.Errorf("limit 1: %+v", got)
	}
}

// TestWindow: the since and until bounds are inclusive.
func TestWindow(t *testing.T) {
	st := load(t)
	ctx := context.Background()
	file := FileSources[1]
	all, err := st.LoggedRows(ctx, file.QueryID, time.Unix(0, 0))
	if err != nil || len(all) == 0 {
		t.Fatal(len(all), err)
	}
	first, last := all[0].Logged, all[len(all)-1].Logged
	atFirst, atLast := 0, 0
	for _, e := range all {
		if e.Logged.Equal(first) {
			atFirst++
		}
		if e.Logged.Equal(last) {
			atLast++
		}
	}
	count := func(since, until time.Time) int {
		gs, err := st.GroupLogged(ctx, file.QueryID, since, until, file.Columns)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range gs {
			n += g.Count
		}
		return n
	}
	for what, c := range map[string][2]int{
		"whole window":          {count(first, last), len(all)},
		"since after the first": {count(first.Add(time.Second), last), len(all) - atFirst},
		"until before the last": {count(first, last.Add(-time.Second)), len(all) - atLast},
	} {
		if c[0] != c[1] {
			t.Errorf("%s: %d events, want %d", what, c[0], c[1])
		}
	}
}
