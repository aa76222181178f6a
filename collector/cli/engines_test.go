package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/pgtest"
)

// eventsLog writes an osqueryd results log with the events the reports
// read: package-manager hook writes and children on four hosts, and
// installs by a usual and an unusual parent, all before now.
func eventsLog(t *testing.T, now time.Time) string {
	t.Helper()
	var b strings.Builder
	line := func(host, query string, at time.Time, cols map[string]string) {
		l, _ := json.Marshal(map[string]any{
			"name": "pack_pkgpersist_" + query, "hostIdentifier": host, "unixTime": at.Unix(),
			"calendarTime": at.UTC().Format("Mon Jan 2 15:04:05 2006 UTC"), "epoch": 0, "counter": 0,
			"numerics": false, "columns": cols, "action": "added",
		})
		b.Write(append(l, '\n'))
	}
	for h := range 4 {
		host := fmt.Sprintf("web%d", h)
		for i := range h + 1 {
			at := now.Add(-time.Duration(24*h+i+1) * time.Hour)
			line(host, "pm-writes", at, map[string]string{"path": "/usr/bin/dpkg", "target_path": "/etc/apt/apt.conf.d/20listchanges"})
			line(host, "pm-descendants", at, map[string]string{"path": "/usr/bin/sh", "parent_path": "/usr/bin/apt-get"})
		}
		if h == 3 {
			line(host, "pm-writes", now.Add(-2*time.Hour), map[string]string{"path": "/usr/bin/curl", "target_path": "/etc/apt/apt.conf.d/99backdoor"})
			line(host, "pm-descendants", now.Add(-2*time.Hour), map[string]string{"path": "/tmp/.x/implant", "parent_path": "/usr/bin/apt-get"})
		}
	}
	install := func(host string, at time.Time, parent string) {
		line(host, "pm-installs", at, map[string]string{"path": "/usr/bin/rpm", "argv": `["rpm","-i","/tmp/x.rpm"]`,
			"cmdline": "rpm -i /tmp/x.rpm", "parent_path": parent, "time": fmt.Sprint(at.Unix())})
	}
	install("web0", now.Add(-48*time.Hour), "/usr/bin/dnf")
	install("web1", now.Add(-3*time.Minute), "/usr/bin/dnf")
	install("web2", now.Add(-2*time.Minute), "/usr/sbin/httpd")
	path := filepath.Join(t.TempDir(), "osqueryd.results.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// volatile are the parts of the commands' output that differ between two
// stores filled the same way at different times: times, durations and
// the --db itself (and its size).
var volatile = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)|\b\d+(\.\d+)?(ns|µs|ms|s)\b|"(started|finished|at|saved|first_seen|last_seen|enrolled)":\s*"?[^",}]*"?|\d+ -> \d+ bytes`)

// TestCommandsOnEitherEngine: every command that reads or writes the
// store answers the same on a SQLite file and on PostgreSQL, from the
// same hunts and the same ingested log.
func TestCommandsOnEitherEngine(t *testing.T) {
	pg := pgtest.Start(t, "fsync=off")
	now := time.Now().UTC().Truncate(time.Second)
	log := eventsLog(t, now)
	at := now.Format(time.RFC3339)
	steps := [][]string{
		{"hunt", "--root", planted, "--format", "json"},
		{"hunt", "--root", planted, "--format", "json"},
		{"diff", "--format", "json", "--since", "24h"},
		{"ingest", log},
		{"ingest", log},
		{"report", "stacks", "--format", "json", "--now", at},
		{"report", "new-terms", "--format", "json", "--now", at},
		{"hosts"},
		{"triage", "add", "--match", "path=/etc/apt/apt.conf.d/10block.conf", "--reason", "the mirror check of the web team", "--who", "t", "download-in-hooks"},
		{"triage", "list", "--format", "json"},
		{"report", "new-terms", "--format", "json", "--now", at},
		{"prune", "--keep", "8760h"},
	}
	outputs := map[string][]string{}
	for _, engine := range []string{"sqlite", "postgres"} {
		db := filepath.Join(t.TempDir(), "p.db")
		if engine == "postgres" {
			db = pg.NewDatabase(t)
		}
		for _, s := range steps {
			args := append(append([]string{}, s[:1]...), "--db", db)
			if s[0] == "report" || s[0] == "triage" {
				args = append([]string{s[0], s[1], "--db", db}, s[2:]...)
			} else {
				args = append(args, s[1:]...)
			}
			code, out, errs := runCLI(args...)
			if code != 0 {
				t.Fatalf("%s: %v: exit %d\n%s%s", engine, s, code, out, errs)
			}
			out = strings.ReplaceAll(out, db, "DB")
			outputs[engine] = append(outputs[engine], volatile.ReplaceAllString(out, "…"))
		}
	}
	for i, s := range steps {
		if a, b := outputs["sqlite"][i], outputs["postgres"][i]; a != b {
			t.Errorf("%v answers differently:\nsqlite:   %s\npostgres: %s", s, a, b)
		}
	}
	// what the steps must have found, so that equal is not equally empty
	for i, want := range map[int]string{0: `"command"`, 5: "/usr/bin/curl", 6: "/usr/sbin/httpd", 9: "the mirror check"} {
		if !strings.Contains(outputs["postgres"][i], want) {
			t.Errorf("%v: no %q in %s", steps[i], want, outputs["postgres"][i])
		}
	}
}
