package newterms

import (
	"bytes"
	"context"
	"github.com/pkgpersist/pkgpersist/test/storetest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/ingest"
	"github.com/pkgpersist/pkgpersist/collector/report"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// now is the run time the fixture is built around: 2026-11-22T12:00:00Z.
var now = time.Unix(1795348800, 0)

// events ingests testdata/installs.results.log: osqueryd result lines in
// event, batch and snapshot format, installs on ten hosts placed on
// both sides of the look-back start (inclusive), the history start
// (inclusive) and the run time, plus non-installs (-qip, -e). The snapshot
// holds two dpkg installs by apt-get on hostJ, three days apart: the
// recent one is not new, fleet-wide or per host. hostK logs pm-installs
// (the extension's events): an install from cron of a file whose name
// holds " -q", which only the exact argv shows is an install, and a
// pkg-installs row its pm-installs rows stand in for.
func events(t *testing.T) []store.LoggedEvent {
	t.Helper()
	st := storetest.Open(t)
	defer st.Close()
	f, err := os.Open("testdata/installs.results.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s, err := ingest.Read(context.Background(), st, f, "installs"); err != nil || s.Bad != 0 || s.Rows != 19 {
		t.Fatalf("ingest: %+v %v", s, err)
	}
	o := Defaults
	evs, err := Load(context.Background(), st, now.Add(-o.Lookback-o.History))
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if os.Getenv("PKGPERSIST_UPDATE_GOLDEN") != "" {
		os.WriteFile(p, got, 0o644)
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n%s", name, got)
	}
}

// summary is one line per alert: host, rule, parent, form, whether the
// published rule sees it.
func summary(alerts []store.Change) string {
	var b strings.Builder
	for _, a := range alerts {
		b.WriteString(strings.Join([]string{a.At.UTC().Format(time.RFC3339), a.Host, a.QueryID, a.Row["parent_path"], a.Row["install_form"], a.Row["published_rule_matches"]}, " ") + "\n")
	}
	return b.String()
}

func TestDetect(t *testing.T) {
	evs := events(t)
	for _, c := range []struct {
		name    string
		perHost bool
		want    string
	}{
		{"fleet-wide", false, `2026-11-22T11:51:00Z hostA pkgpersist-rpm-unusual-parent /usr/bin/python3 -Uvh false
2026-11-22T11:55:00Z hostA pkgpersist-rpm-unusual-parent /usr/sbin/httpd -i true
2026-11-22T11:56:00Z hostG pkgpersist-dpkg-unusual-parent /usr/sbin/nginx --unpack false
2026-11-22T11:58:20Z hostK pkgpersist-rpm-unusual-parent /usr/sbin/cron -i true
2026-11-22T11:59:00Z hostE pkgpersist-rpm-unusual-parent /usr/bin/ruby -i true
`},
		{"per-host", true, `2026-11-22T11:51:00Z hostA pkgpersist-rpm-unusual-parent /usr/bin/python3 -Uvh false
2026-11-22T11:55:00Z hostA pkgpersist-rpm-unusual-parent /usr/sbin/httpd -i true
2026-11-22T11:56:00Z hostG pkgpersist-dpkg-unusual-parent /usr/sbin/nginx --unpack false
2026-11-22T11:57:00Z hostB pkgpersist-rpm-unusual-parent /usr/bin/dnf -ivh false
2026-11-22T11:58:20Z hostK pkgpersist-rpm-unusual-parent /usr/sbin/cron -i true
2026-11-22T11:59:00Z hostD pkgpersist-rpm-unusual-parent /usr/bin/perl -i true
2026-11-22T11:59:00Z hostE pkgpersist-rpm-unusual-parent /usr/bin/ruby -i true
2026-11-22T11:59:00Z hostH pkgpersist-rpm-unusual-parent /usr/sbin/httpd -i true
`},
	} {
		o := Defaults
		o.Now, o.PerHost = now, c.perHost
		alerts := Detect(evs, o)
		if got := summary(alerts); got != c.want {
			t.Errorf("%s:\n got\n%s\nwant\n%s", c.name, got, c.want)
		}
		var csv, ecs bytes.Buffer
		if err := report.Write(&csv, report.Options{Format: "csv", Command: report.NewTerms}, alerts); err != nil {
			t.Fatal(err)
		}
		if err := report.Write(&ecs, report.Options{Format: "ndjson", ECS: true, Command: report.NewTerms}, alerts); err != nil {
			t.Fatal(err)
		}
		golden(t, c.name+".csv", csv.Bytes())
		golden(t, c.name+".ecs.ndjson", ecs.Bytes())
	}
	// the cap
	o := Defaults
	o.Now, o.PerHost, o.MaxAlerts = now, true, 3
	if n := len(Detect(evs, o)); n != 3 {
		t.Errorf("max 3 alerts: got %d", n)
	}
}

// TestRulePerTool: an install by each tool installargv classifies alerts
// under that tool's rule; a dry run (apk add -s, pacman -Up) does not.
func TestRulePerTool(t *testing.T) {
	row := func(argv, parent string) store.Row {
		args := strings.Fields(argv)
		return store.Row{"path": args[0], "cmdline": argv, "parent_path": parent}
	}
	at := now.Add(-time.Minute)
	var evs []store.LoggedEvent
	for _, r := range []store.Row{
		row("/usr/bin/rpm -i x.rpm", "/p/rpm"), row("/usr/bin/dpkg -i x.deb", "/p/dpkg"),
		row("/usr/bin/pacman -U x.pkg.tar.zst", "/p/pacman"), row("/sbin/apk add x.apk", "/p/apk"),
		row("/usr/bin/pacman -Up y.pkg.tar.zst", "/p/pacman-print"), row("/sbin/apk add -s x.apk", "/p/apk-sim"),
	} {
		evs = append(evs, store.LoggedEvent{Host: "h", Logged: at, Row: r})
	}
	o := Defaults
	o.Now = now
	var got []string
	for _, a := range Detect(evs, o) {
		got = append(got, a.QueryID+" "+a.Query.Title+" "+a.Row["parent_path"]+" "+a.Row["install_form"])
	}
	want := `pkgpersist-rpm-unusual-parent RPM Package Installed by Unusual Parent Process /p/rpm -i
pkgpersist-dpkg-unusual-parent DPKG Package Installed by Unusual Parent Process /p/dpkg -i
pkgpersist-pacman-unusual-parent Pacman Package Installed by Unusual Parent Process /p/pacman -U
pkgpersist-apk-unusual-parent APK Package Installed by Unusual Parent Process /p/apk add`
	if g := strings.Join(got, "\n"); g != want {
		t.Errorf("got\n%s\nwant\n%s", g, want)
	}
}
