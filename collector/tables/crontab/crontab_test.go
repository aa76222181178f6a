package crontab_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/tables/crontab"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// query runs sql on root and returns each row's values joined by " | ".
func query(t *testing.T, root, sql string) ([]string, []fsroot.Problem) {
	t.Helper()
	e, err := engine.New([]*table.Table{crontab.Table()}, root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// the table runs under its own deadline (table.DefaultTimeout)
	res, err := e.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = strings.Join(r, " | ")
	}
	return out, res.Problems
}

// every column in the table's order, quoted so that NULL and the empty string differ
const all = `SELECT quote(event), quote(minute), quote(hour), quote(day_of_month), quote(month),
	quote(day_of_week), quote(command), path FROM crontab`

func same(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDebianLayout: testdata/debian, row by row as testdata/expected.md
// explains each one from osquery's crontab.cpp.
func TestDebianLayout(t *testing.T) {
	got, problems := query(t, "testdata/debian", all)
	same(t, got, []string{
		`'' | '17' | '*' | '*' | '*' | '*' | 'root cd / && run-parts --report /etc/cron.hourly' | /etc/crontab`,
		`'' | '25' | '6' | '*' | '*' | '*' | 'root test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }' | /etc/crontab`,
		`'' | '47' | '6' | '*' | '*' | '7' | 'root test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }' | /etc/crontab`,
		`'' | '52' | '6' | '1' | '*' | '*' | 'root test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.monthly; }' | /etc/crontab`,
		`'' | '0' | '5' | '*' | '*' | '*' | 'root /usr/local/sbin/backup --old' | /etc/cron.d/backup.dpkg-old`,
		`'' | '30' | '3' | '*' | '*' | '0' | 'root test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron' | /etc/cron.d/e2scrub_all`,
		`'' | '10' | '3' | '*' | '*' | '*' | 'root test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r' | /etc/cron.d/e2scrub_all`,
		`'' | '15' | '2' | '*' | '*' | '*' | 'root /opt/jobs/nightly' | /etc/cron.d/linked`,
		`'' | 'PATH' | '=' | '/usr/local/sbin' | '/usr/local/bin' | '/sbin' | '/bin /usr/sbin /usr/bin' | /etc/cron.d/quirks`,
		`'@reboot' | '' | '' | '' | '' | '' | 'root /usr/local/bin/on-boot --now' | /etc/cron.d/quirks`,
		`'@hourly' | '' | '' | '' | '' | '' | 'root echo "a b" tab' | /etc/cron.d/quirks`,
		`'' | '*/5' | '*' | '*' | '*' | '*' | 'root date +%Y%m%d%H%M > /tmp/stamp' | /etc/cron.d/quirks`,
		`'@weird' | '' | '' | '' | '' | '' | 'root /bin/true' | /etc/cron.d/quirks`,
		`'' | '30' | '1' | '*' | '*' | '1-5' | 'root /usr/bin/crlf-job' | /etc/cron.d/quirks`,
		`'' | '45' | '*' | '*' | '' | '*' | 'root /usr/bin/vtab-field' | /etc/cron.d/quirks`,
		`'' | '55' | '*' | '*' | '*' | '*' | 'root  /usr/bin/vtab-in-command' | /etc/cron.d/quirks`,
		"'' | '0' | '0' | '1' | '1' | '*' | 'root /usr/bin/caf\u00e9 \xff' | /etc/cron.d/quirks",
		`'' | 'no' | 'newline' | 'at' | 'the' | 'end' | '0 0 * * /usr/bin/last' | /etc/cron.d/quirks`,
		`'' | '0' | '2' | '*' | '*' | '*' | '/usr/local/sbin/backup.sh' | /var/spool/cron/crontabs/root`,
		`'@reboot' | '' | '' | '' | '' | '' | '/var/www/bin/warm-cache' | /var/spool/cron/crontabs/www-data`,
		`'' | '*/15' | '*' | '*' | '*' | '*' | 'php /var/www/cron.php' | /var/spool/cron/crontabs/www-data`,
	})
	if len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
}

// TestRHELLayout: testdata/rhel, as testdata/expected.md explains.
func TestRHELLayout(t *testing.T) {
	got, problems := query(t, "testdata/rhel", all)
	same(t, got, []string{
		`'' | '01' | '*' | '*' | '*' | '*' | 'root run-parts /etc/cron.hourly' | /etc/cron.d/0hourly`,
		`'' | '0' | '9' | '*' | '*' | 'mon-fri' | '/home/alice/bin/report.sh >> /home/alice/report.log 2>&1' | /var/spool/cron/alice`,
		`'' | '*/10' | '*' | '*' | '*' | '*' | '/usr/local/bin/collect-metrics' | /var/spool/cron/root`,
		`'@daily' | '' | '' | '' | '' | '' | '/usr/bin/find /tmp -mtime +7 -delete' | /var/spool/cron/root`,
	})
	if len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
}

func write(t *testing.T, root, name, data string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnreadableIsAProblem: what osquery skips without a word (a symlink
// loop, a FIFO it reads nothing from) is a problem of the root here, and
// the files beside it still count.
func TestUnreadableIsAProblem(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/cron.d/ok", "* * * * * root /bin/ok\n")
	if err := syscall.Mkfifo(filepath.Join(root, "etc/cron.d/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop", filepath.Join(root, "etc/cron.d/loop")); err != nil {
		t.Fatal(err)
	}
	// a dangling symlink is a file that is not there, for osquery too
	if err := os.Symlink("/nowhere", filepath.Join(root, "etc/cron.d/dangling")); err != nil {
		t.Fatal(err)
	}
	got, problems := query(t, root, "SELECT command, path FROM crontab")
	same(t, got, []string{"root /bin/ok | /etc/cron.d/ok"})
	causes := map[string]string{}
	for _, p := range problems {
		causes[p.Path] = p.Cause
	}
	if causes["/etc/cron.d/fifo"] != fsroot.CauseSpecial || causes["/etc/cron.d/loop"] != fsroot.CauseLoop || len(causes) != 2 {
		t.Errorf("problems: %+v", problems)
	}
}

// TestLayoutEdges: a spool directory that is a symlink is named by its
// canonical path, as osquery's glob base is canonicalized; an absolute
// symlink resolves inside the root; a file larger than osquery's
// --read_max is streamed, every line a row.
func TestLayoutEdges(t *testing.T) {
	root := t.TempDir()
	write(t, root, "srv/spool/root", "@reboot /bin/spooled\n")
	if err := os.MkdirAll(filepath.Join(root, "var/spool"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/srv/spool", filepath.Join(root, "var/spool/cron")); err != nil {
		t.Fatal(err)
	}
	const readMax = 50 << 20 // osquery's --read_max default: osquery reads nothing of a larger file
	big := strings.Repeat("# padding the file past osquery's read_max......\n", readMax/48+1) + "0 0 * * * root /bin/after-padding\n"
	write(t, root, "etc/crontab", big)
	got, problems := query(t, root, "SELECT command, path FROM crontab")
	same(t, got, []string{"root /bin/after-padding | /etc/crontab", "/bin/spooled | /srv/spool/root"})
	if len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
}
