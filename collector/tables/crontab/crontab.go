// Package crontab is osquery's crontab table (specs/posix/crontab.table,
// osquery/tables/system/posix/crontab.cpp) over a root: one row per job
// line of /etc/crontab and of the files in /etc/cron.d/, /var/at/tabs/,
// /var/spool/cron/ (RHEL, SUSE: one file per user) and
// /var/spool/cron/crontabs/ (Debian), each line read as the cronline
// package says.
//
// Where osquery does something surprising, so does this table:
//   - a system crontab's user field (/etc/crontab, /etc/cron.d) is the first
//     word of command ("root run-parts /etc/cron.hourly");
//   - the columns a line does not set are empty strings, not NULL (osquery's
//     DynamicTableRow::get_column reads the row with operator[], which
//     inserts an empty value before it checks for a missing one): minute to
//     day_of_week of an @event line, event of the others;
//   - files are listed as glob(dir/*) lists them: names starting with "."
//     are left out, everything that is not a directory after following
//     symlinks is read (cron's own rules for /etc/cron.d names do not
//     apply), in byte order; the directory is named by its canonical path,
//     as osquery's replaceGlobWildcards canonicalizes the glob's base.
//
// Where it differs, it is to never drop silently what it could not read:
//   - a file osquery skips without a word (not readable, a symlink loop)
//     or with a log line (a read error, larger than --read_max, 50 MiB by
//     default) is a problem of the root (fsroot.Problem): a hunt that met
//     one is incomplete or a finding, never clean. A file of any size is
//     read, streamed; a line longer than lines.MaxLine is a problem too;
//   - a FIFO, device or socket is not opened (osquery opens it
//     non-blocking and reads what is there): it is a problem, cause special;
//   - osquery's hidden pid_with_namespace column is not served: the engine
//     reads a root, not another process's mount namespace, and a query
//     that names the column fails instead of answering for the wrong
//     namespace.
//
// Paths are as seen inside the root, and every name is resolved inside it.
package crontab

import (
	"context"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/cronline"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/lines"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// System is osquery's kSystemCron, read first.
const System = "/etc/crontab"

// Dirs are osquery's kCronSearchDirs, listed in this order after System.
var Dirs = []string{
	"/etc/cron.d/",              // system jobs, with a user field
	"/var/at/tabs/",             // per-user (macOS, BSD)
	"/var/spool/cron/",          // per-user (RHEL, Fedora, SUSE, Alpine)
	"/var/spool/cron/crontabs/", // per-user (Debian, Ubuntu)
}

// Table is osquery's crontab table.
func Table() *table.Table {
	return &table.Table{
		Name:        "crontab",
		Description: "Line parsed values from system and user cron/tab, as osquery's crontab table reads them, inside the root.",
		Columns: []table.Column{
			{Name: "event", Type: table.Text, Description: "The job @event name (rare)"},
			{Name: "minute", Type: table.Text, Description: "The exact minute for the job"},
			{Name: "hour", Type: table.Text, Description: "The hour of the day for the job"},
			{Name: "day_of_month", Type: table.Text, Description: "The day of the month for the job"},
			{Name: "month", Type: table.Text, Description: "The month of the year for the job"},
			{Name: "day_of_week", Type: table.Text, Description: "The day of the week for the job"},
			{Name: "command", Type: table.Text, Description: "Raw command string (in /etc/crontab and /etc/cron.d, starting with the user field)"},
			{Name: "path", Type: table.Text, Description: "File parsed"},
			table.RootColumn,
		},
		Generate: table.PerRoot(rows),
	}
}

func rows(ctx context.Context, root string) ([]table.Row, error) {
	fs, err := fsroot.OpenContext(ctx, root)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	files := []string{System}
	for _, d := range Dirs {
		files = append(files, List(fs, d)...)
	}
	var out []table.Row
	for _, f := range files {
		if err := table.Check(ctx); err != nil {
			return nil, err
		}
		out = read(ctx, fs, f, root, out)
	}
	return out, table.Check(ctx)
}

// List is osquery's listFilesInDirectory(dir): glob(dir/*) with GLOB_MARK,
// directories left out. Errors other than a missing directory are the
// root's problems.
func List(fs *fsroot.Root, dir string) []string {
	real, err := fs.Realpath(dir)
	if err != nil {
		fs.Report(dir, err)
		return nil
	}
	if fs.Kind(real) != "dir" {
		return nil // osquery: "Path not a directory"
	}
	names, _ := fs.ReadDir(real) // a listing cut short is reported by ReadDir
	sort.Strings(names)
	prefix := strings.TrimSuffix(real, "/") + "/"
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, ".") || fs.Kind(prefix+n) == "dir" {
			continue
		}
		out = append(out, prefix+n)
	}
	return out
}

// read appends the rows of one file. A file that does not exist adds
// nothing (osquery: isReadable fails); one that cannot be read, or not to
// the end, is reported, and the lines read before the error count.
func read(ctx context.Context, fs *fsroot.Root, name, root string, out []table.Row) []table.Row {
	f, err := fs.OpenFile(name)
	if err != nil {
		return out // OpenFile reported it, unless the file is not there
	}
	defer f.Close()
	lr := lines.New(f, func() error { return table.Check(ctx) })
	for {
		l, ok := lr.Next()
		if !ok {
			break
		}
		if e, ok := cronline.Parse(l); ok {
			out = append(out, table.Row{
				"event": e.Event, "minute": e.Minute, "hour": e.Hour, "day_of_month": e.DayOfMonth,
				"month": e.Month, "day_of_week": e.DayOfWeek, "command": e.Command, "path": name, "root": root,
			})
		}
	}
	if err := lr.Err(); err != nil {
		fs.Report(name, err)
	}
	return out
}
