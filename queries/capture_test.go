package queries_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/extension/capture"
	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/queries"
	"github.com/pkgpersist/pkgpersist/test/debtest"
	"github.com/pkgpersist/pkgpersist/test/need"
	"github.com/pkgpersist/pkgpersist/test/pyparent"
)

// TestEventQueriesOnTheCapture runs pm-installs and pm-descendants on what
// the extension's capture saw of real processes: python3, started before
// the capture, runs dpkg -i of a package whose postinst runs sleep, then
// dpkg -l and sleep itself. pm-installs has the install alone, with its
// exact argv and python3 as the parent; pm-descendants has what dpkg
// started, the postinst's sleep among them, and not python3's own sleep.
// (sleep, not a program that exits at once: the capture reads a new
// program's path from /proc, which a process that is already gone no
// longer has.)
func TestEventQueriesOnTheCapture(t *testing.T) {
	if os.Geteuid() != 0 {
		need.Missing(t, "the process connector needs root")
	}
	dpkg := need.Program(t, "dpkg")
	sleep := need.Program(t, "sleep")
	dir := t.TempDir()
	marker := filepath.Join(dir, "postinst-ran")
	deb := debtest.Build(t, dir, debtest.Pkg{Name: "evtq", Version: "1", Arch: "all",
		Control: map[string]string{"postinst": "#!/bin/sh\n" + sleep + " 0.3\ntouch " + marker + "\n"}})
	root := debtest.NewRoot(t)
	install := append(append([]string{dpkg}, debtest.DpkgOptions(root)...), "-i", deb)
	list := append(append([]string{dpkg}, debtest.DpkgOptions(root)...), "-l")
	py := pyparent.Start(t, nil, install, list, []string{sleep, "0.3"})
	c := capture.Start(capture.Options{})
	t.Cleanup(c.Stop)
	if s := c.Sources.Process.Status(); !s.Running {
		t.Fatalf("capture does not run: %s", s.Error)
	}
	py.Go(t)
	py.Wait(t)
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the postinst did not run: %v", err)
	}
	e, err := engine.New(registry.WithEvents(c.Sources), "", engine.Capturing())
	must(t, err)
	defer e.Close()
	qs, err := querydef.Load(queries.FS)
	must(t, err)
	run := func(qid string, done func([]map[string]string) bool) []map[string]string {
		t.Helper()
		i := slices.IndexFunc(qs, func(q *querydef.Query) bool { return q.ID == qid })
		var rows []map[string]string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			res, err := e.Query(context.Background(), qs[i].SQL)
			must(t, err)
			rows = rows[:0]
			for _, r := range res.Rows {
				m := map[string]string{}
				for j, col := range res.Columns {
					m[col] = r[j]
				}
				rows = append(rows, m)
			}
			if done(rows) {
				break
			}
		}
		return rows
	}
	pyPID := py.PID()
	// The capture sees every process of the machine: other tests (or this
	// test in another process) may install the same package at the same
	// time, so rows are this run's by their parent's pid or their root.
	mine := func(r map[string]string) bool { return r["parent_pid"] == pyPID }
	postinst := func(r map[string]string) bool {
		return r["path"] == sleep && strings.Contains(r["ancestry_scripts"], root+"/")
	}
	installs := run("pm-installs", func(rows []map[string]string) bool { return slices.ContainsFunc(rows, mine) })
	var got []map[string]string
	for _, r := range installs {
		if r["parent_pid"] == pyPID {
			got = append(got, r)
		}
	}
	if len(got) != 1 {
		res, err := e.Query(context.Background(), "SELECT eid, event, pid, ppid, path, argv, parent_path, ancestry FROM pm_process_events WHERE ppid = "+pyPID+" OR pid = "+pyPID)
		must(t, err)
		st, err := e.Query(context.Background(), "SELECT * FROM pm_event_status")
		must(t, err)
		t.Fatalf("pm-installs from python3: %v\npython3's events: %v\nstatus: %v %v", got, res.Rows, st.Columns, st.Rows)
	}
	var argv []string
	must(t, json.Unmarshal([]byte(got[0]["argv"]), &argv))
	if got[0]["path"] != dpkg || !slices.Equal(argv, install) || !regexp.MustCompile(`^/usr/bin/python3\.\d+$`).MatchString(got[0]["parent_path"]) {
		t.Errorf("pm-installs: %v", got[0])
	}
	desc := run("pm-descendants", func(rows []map[string]string) bool {
		return slices.ContainsFunc(rows, postinst)
	})
	ids := 0
	for _, r := range desc {
		if r["parent_pid"] == pyPID {
			t.Errorf("python3's own child is no package manager's descendant: %v", r)
		}
		if postinst(r) {
			ids++
			var anc []string
			must(t, json.Unmarshal([]byte(r["ancestry"]), &anc))
			if !slices.Contains(anc, dpkg) {
				t.Errorf("sleep without dpkg in its ancestry: %v", r)
			}
		}
	}
	if ids != 1 {
		t.Errorf("pm-descendants has %d runs of sleep, want the postinst's: %v", ids, desc)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
