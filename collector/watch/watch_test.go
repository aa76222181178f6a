package watch

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/queries"
)

// execRow is a pm_process_events exec row of path with argv (JSON).
func execRow(pid, path, argv string) table.Row {
	return table.Row{"event": "exec", "pid": pid, "ppid": "1", "path": path, "cmdline": "", "argv": argv,
		"cwd": "/", "uid": "0", "euid": "0", "gid": "0", "egid": "0", "parent_path": "/usr/bin/python3.12",
		"parent_cmdline": "python3 x.py", "ancestry": `["/usr/bin/python3.12"]`, "exit_code": "", "seeded": "0"}
}

func newWatcher(t *testing.T, max int) (*Watcher, *events.Sources) {
	t.Helper()
	src := &events.Sources{
		Process: events.NewRing("process", events.Limits{Max: max}, nil),
		File:    events.NewRing("file", events.Limits{Max: max}, nil),
	}
	src.Process.SetRunning(true, "")
	src.File.SetRunning(true, "")
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(src, qs, 42)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, src
}

func run(t *testing.T, w *Watcher) ([]store.Logged, []Loss) {
	t.Helper()
	out, lost, err := w.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out, lost
}

// named are the logged rows of one query.
func named(out []store.Logged, name string) []store.Logged {
	var r []store.Logged
	for _, l := range out {
		if l.Name == name {
			r = append(r, l)
		}
	}
	return r
}

// TestWatchedQueries: the extension's event queries on its rings are
// watched, osquery's own (process_events, file_events) are not.
func TestWatchedQueries(t *testing.T) {
	w, _ := newWatcher(t, 0)
	got := w.Queries()
	for _, id := range []string{"pm-installs", "pm-descendants", "pm-writes", "pm-events-lost"} {
		if !slices.Contains(got, id) {
			t.Errorf("%s not watched: %v", id, got)
		}
	}
	for _, id := range []string{"pkg-installs", "pm-children", "pm-file-events", "pm-process-file-events", "hooks-inventory"} {
		if slices.Contains(got, id) {
			t.Errorf("%s watched: %v", id, got)
		}
	}
	if w.status == nil || w.status.q.ID != "pm-events-lost" {
		t.Errorf("status query %v", w.status)
	}
}

// TestEachEventOnce: a run logs the events added since the previous one,
// each once, under osqueryd's name for the query.
func TestEachEventOnce(t *testing.T) {
	w, src := newWatcher(t, 0)
	src.Process.Add(execRow("10", "/usr/bin/dpkg", `["/usr/bin/dpkg","-i","a.deb"]`))
	src.Process.Add(execRow("11", "/usr/bin/true", `["/usr/bin/true"]`))
	out, lost := run(t, w)
	inst := named(out, "pack_pkgpersist_pm-installs")
	if len(inst) != 1 || inst[0].Row["pid"] != "10" || inst[0].Row["eid"] != "1" || inst[0].Action != "added" || inst[0].Epoch != 42 || inst[0].Counter != 0 {
		t.Fatalf("first run: %+v", inst)
	}
	if len(lost) != 0 {
		t.Errorf("lost %v", lost)
	}
	out, _ = run(t, w)
	if inst := named(out, "pack_pkgpersist_pm-installs"); len(inst) != 0 {
		t.Errorf("again without new events: %+v", inst)
	}
	src.Process.Add(execRow("12", "/usr/bin/rpm", `["/usr/bin/rpm","-ivh","b.rpm"]`))
	src.Process.Add(execRow("13", "/usr/bin/dpkg", `["/usr/bin/dpkg","-i","a.deb"]`))
	out, _ = run(t, w)
	inst = named(out, "pack_pkgpersist_pm-installs")
	var pids []string
	for _, l := range inst {
		pids = append(pids, l.Row["pid"])
		if l.Counter != 2 {
			t.Errorf("counter %d, want 2 (the third run)", l.Counter)
		}
	}
	if !slices.Equal(pids, []string{"12", "13"}) {
		t.Errorf("third run logged pids %v, want 12 and 13", pids)
	}
}

// TestStatusOnChange: pm-events-lost logs a row when pm_event_status
// changes, not on every run.
func TestStatusOnChange(t *testing.T) {
	w, src := newWatcher(t, 0)
	if out, _ := run(t, w); len(named(out, "pack_pkgpersist_pm-events-lost")) != 0 {
		t.Fatalf("both sources run and lost nothing: %+v", out)
	}
	src.Process.Lost(3)
	out, _ := run(t, w)
	st := named(out, "pack_pkgpersist_pm-events-lost")
	if len(st) != 1 || st[0].Row["source"] != "process" || st[0].Row["lost_kernel"] != "3" {
		t.Fatalf("after a kernel loss: %+v", st)
	}
	if out, _ := run(t, w); len(named(out, "pack_pkgpersist_pm-events-lost")) != 0 {
		t.Errorf("logged again unchanged: %+v", out)
	}
}

// TestEvictedUnread: events the ring pushed out before a run read them
// are a loss, logged under pm-events-lost with their eids; the rest are
// logged.
func TestEvictedUnread(t *testing.T) {
	w, src := newWatcher(t, 3)
	for _, pid := range []string{"1", "2", "3", "4", "5"} {
		src.Process.Add(execRow(pid, "/usr/bin/dpkg", `["/usr/bin/dpkg","-i","a.deb"]`))
	}
	out, lost := run(t, w)
	if !slices.Equal(lost, []Loss{{Source: "process", From: 1, To: 2}}) {
		t.Errorf("lost %v, want eids 1 and 2", lost)
	}
	if n := len(named(out, "pack_pkgpersist_pm-installs")); n != 3 {
		t.Errorf("%d installs logged, want the 3 kept", n)
	}
	st := named(out, "pack_pkgpersist_pm-events-lost")
	if len(st) != 1 || !strings.Contains(st[0].Row["error"], "2 process events (eid 1 to 2)") || st[0].Row["evicted"] != "2" || st[0].Row["evicted_unread"] != "2" {
		t.Errorf("loss row %+v", st)
	}
	// read in time, nothing is lost
	src.Process.Add(execRow("6", "/usr/bin/dpkg", `["/usr/bin/dpkg","-i","a.deb"]`))
	if _, lost := run(t, w); len(lost) != 0 {
		t.Errorf("lost %v", lost)
	}
}
