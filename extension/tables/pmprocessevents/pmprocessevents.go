// Package pmprocessevents is the pm_process_events table: exec, fork and
// exit events from the kernel's process connector, each exec with its
// parent's path and command line and its ancestry as they were at that
// moment (osquery's process_events carries only the parent's pid).
package pmprocessevents

import (
	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Name is the table's name.
const Name = "pm_process_events"

// Table returns the table over src's process ring.
func Table(src *events.Sources) *table.Table {
	col := func(name string, t table.Type, desc string) table.Column {
		return table.Column{Name: name, Type: t, Description: desc}
	}
	return &table.Table{
		Name:        Name,
		Description: "Process exec, fork and exit events captured by the extension from the kernel's process connector (netlink, needs root as osqueryd runs), kept in a bounded ring (`--events_max`, `--events_expiry`). Every exec row carries its parent's path and command line and the ancestry up to pid 1 as they were at that moment, also for parents started before the capture (seeded from /proc). What each exec ran is also read from fanotify's open-for-exec events (the kernel raises them before the exec event): a process gone before /proc was read still has its `path` (not its `argv`, `cwd` or ids), and a script's row names the script (`script`) beside its interpreter (`path`). Events the kernel dropped and rows the ring pushed out are counted in `pm_event_status`.",
		Evented:     true,
		Columns: append(events.Timing(),
			col("event", table.Text, "`exec`, `fork` or `exit`"),
			col("pid", table.BigInt, "Process id"),
			col("ppid", table.BigInt, "Parent process id at the event"),
			col("path", table.Text, "Executable (/proc/PID/exe at the exec; for a process gone before /proc was read, the executable the kernel opened for the exec, reported by fanotify)"),
			col("script", table.Text, "The file execve ran when it is not the executable: a `#!` script (e.g. /usr/bin/dnf, whose `path` is python's), or a binfmt_misc file; `''` for a program, and when not known (a process already running when the capture started, or whose opens fanotify lost)"),
			col("cmdline", table.Text, "Arguments joined by spaces, as osquery's cmdline"),
			col("argv", table.Text, "Arguments as a JSON array of strings, exact"),
			col("cwd", table.Text, "Working directory at the exec"),
			col("uid", table.BigInt, "Real user id"),
			col("euid", table.BigInt, "Effective user id"),
			col("gid", table.BigInt, "Real group id"),
			col("egid", table.BigInt, "Effective group id"),
			col("parent_path", table.Text, "The parent's executable at the event"),
			col("parent_cmdline", table.Text, "The parent's cmdline at the event"),
			col("ancestry", table.Text, "JSON array of executable paths from the parent up to pid 1, at the event"),
			col("ancestry_scripts", table.Text, "JSON array beside `ancestry`: each ancestor's `script` (`''` for programs), so that a package manager that is a script (dnf, yum, unattended-upgrade) is matched by path in the ancestry"),
			col("exit_code", table.BigInt, "Exit status on `exit` rows (the exit code, or 128 + the signal that ended it)"),
			col("seeded", table.Integer, "1 when the process's facts came from /proc when the capture started (it was already running), not from its exec"),
		),
		Generate: events.Generate(Name, func() *events.Ring {
			if src == nil {
				return nil
			}
			return src.Process
		}),
	}
}
