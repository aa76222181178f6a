package webreport

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/queries"
	"github.com/pkgpersist/pkgpersist/test/storetest"
)

// TestLoggedFindings: what enrolled osqueryd hosts log from the pack's
// detection queries is their findings: a differential query's rows
// added and not removed since, a snapshot query's rows in its latest
// snapshot, each first seen when it was first logged; the hosts table
// says when the host last logged.
func TestLoggedFindings(t *testing.T) {
	st, o := fixture(t)
	ctx := context.Background()
	t1, t2 := day1.Add(time.Hour), day3.Add(time.Hour)
	kept := store.Row{"manager": "apt", "hook": "DPkg::Post-Invoke", "command": "/tmp/.x", "path": "/etc/apt/apt.conf.d/77logged", "line": "1"}
	gone := store.Row{"manager": "apt", "hook": "DPkg::Post-Invoke", "command": "/tmp/.y", "path": "/etc/apt/apt.conf.d/78gone", "line": "1"}
	old := store.Row{"source_table": "apt_hooks", "path": "/etc/apt/apt.conf.d/10old", "line": "1", "word": "/usr/bin/old"}
	snap := store.Row{"source_table": "apt_hooks", "path": "/etc/apt/apt.conf.d/11snap", "line": "1", "word": "/usr/bin/snap"}
	logs := []store.Logged{
		{Name: "pack_pkgpersist_unowned-hooks", Action: "added", UnixTime: t1.Unix(), Counter: 0, Row: kept},
		{Name: "pack_pkgpersist_unowned-hooks", Action: "added", UnixTime: t1.Unix(), Counter: 0, Row: gone},
		{Name: "pack_pkgpersist_unowned-hooks", Action: "removed", UnixTime: t2.Unix(), Counter: 1, Row: gone},
		{Name: "pack/pkgpersist/hook-runs-unowned", Action: "snapshot", UnixTime: t1.Unix(), Row: old},
		{Name: "pack/pkgpersist/hook-runs-unowned", Action: "snapshot", UnixTime: t1.Unix(), Row: snap},
		{Name: "pack/pkgpersist/hook-runs-unowned", Action: "snapshot", UnixTime: t2.Unix(), Row: snap},
	}
	if _, err := st.SaveLogsByHost(ctx, map[string][]store.Logged{"node1": logs}, map[string]int64{}); err != nil {
		t.Fatal(err)
	}
	p, err := Load(ctx, st, o)
	if err != nil {
		t.Fatal(err)
	}
	var host *HostView
	for i := range p.Hosts {
		if p.Hosts[i].Name == "node1" {
			host = &p.Hosts[i]
		}
	}
	if host == nil || host.Findings != 2 || host.State != "logging" || host.LastLogged != stamp(t2) || host.LastHunt != "" {
		t.Fatalf("node1: %+v", host)
	}
	found := map[string]FindingView{}
	for _, f := range p.Findings {
		if f.HostList == "node1" {
			found[f.File] = f
		}
	}
	if len(found) != 2 || found["/etc/apt/apt.conf.d/77logged"].FirstSeen != stamp(t1) || found["/etc/apt/apt.conf.d/11snap"].FirstSeen != stamp(t1) ||
		found["/etc/apt/apt.conf.d/11snap"].LastSeen != stamp(t2) {
		t.Errorf("node1's findings: %+v", found)
	}
	// the chart counts each row first logged: kept, gone, old and snap on day 1
	var b bytes.Buffer
	if err := p.Render(&b, "n"); err != nil {
		t.Fatal(err)
	}
	day := day1.UTC().Format("2006-01-02")
	if want := `data-day="` + day + `" data-count="9"`; !strings.Contains(b.String(), want) {
		t.Errorf("chart lacks %s", want)
	}
	if !strings.Contains(b.String(), "/etc/apt/apt.conf.d/77logged") || !strings.Contains(b.String(), `data-host="node1" data-state="logging"`) {
		t.Error("the page lacks node1's finding or its row")
	}
}

// TestLoggedFindingsOnly: a store that only received logs (serve, never
// a hunt, so no query stored) shows them by the detections' own
// definitions.
func TestLoggedFindingsOnly(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	row := store.Row{"manager": "apt", "hook": "DPkg::Post-Invoke", "command": "/tmp/.x", "path": "/etc/apt/apt.conf.d/77logged", "line": "1"}
	logs := []store.Logged{{Name: "pack_pkgpersist_unowned-hooks", Action: "added", UnixTime: day1.Unix(), Row: row}}
	if _, err := st.SaveLogsByHost(ctx, map[string][]store.Logged{"node1": logs}, map[string]int64{}); err != nil {
		t.Fatal(err)
	}
	o := Defaults()
	o.Queries, o.Now = qs, now
	p, err := Load(ctx, st, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Findings) != 1 || p.Findings[0].File != "/etc/apt/apt.conf.d/77logged" || p.Findings[0].Severity == "" || len(p.Hosts) != 1 || p.Hosts[0].Findings != 1 {
		t.Errorf("findings %+v, hosts %+v", p.Findings, p.Hosts)
	}
	if p.Chart.Total != 1 {
		t.Errorf("chart counts %d", p.Chart.Total)
	}
}
