// Package pmfileevents is the pm_file_events table: creations,
// modifications, renames and deletions in the package managers' paths,
// each with the process that made it and the file's provenance after it
// (osquery's file_events has no process).
package pmfileevents

import (
	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Name is the table's name.
const Name = "pm_file_events"

// Table returns the table over src's file ring.
func Table(src *events.Sources) *table.Table {
	col := func(name string, t table.Type, desc string) table.Column {
		return table.Column{Name: name, Type: t, Description: desc}
	}
	return &table.Table{
		Name:        Name,
		Description: "File events in the package managers' paths (the packs' FIM list, the same patterns with osquery's `%`/`%%` meaning) captured by the extension with fanotify (needs root, Linux 5.17+), each with the writing process's path, cmdline and ancestry from the same process table as `pm_process_events` (a writer that exited before its event was read is still named), and the file's sha256 and owning package after the event. A new file written in place is `CREATED` then `UPDATED` (close after write); a file renamed into place is `MOVED_TO` (and `MOVED_FROM` where it left a watched path); files already in a directory that appears are `CREATED` by the process that made it appear. Kept in the same kind of bounded ring; fanotify queue overflows count as `lost_kernel` in `pm_event_status`.",
		Evented:     true,
		Columns: append(events.Timing(),
			col("action", table.Text, "`CREATED`, `UPDATED` (closed after a write), `DELETED`, `MOVED_FROM` or `MOVED_TO`, osquery's file_events words"),
			col("target_path", table.Text, "The file"),
			col("pid", table.BigInt, "The process that made the change"),
			col("path", table.Text, "Its executable"),
			col("script", table.Text, "The `#!` script (or binfmt_misc file) it runs, whose interpreter `path` is; `''` for a program, or when not known (a process already running when the capture started)"),
			col("cmdline", table.Text, "Its cmdline"),
			col("ancestry", table.Text, "JSON array of executable paths from its parent up to pid 1, at the event"),
			col("ancestry_scripts", table.Text, "JSON array beside `ancestry`: each ancestor's `script` (`''` for programs)"),
			col("sha256", table.Text, "The file's SHA-256 after the event; `''` when it is gone"),
			col("package", table.Text, "The package that owns the path; `''` when none does"),
			col("manager", table.Text, "`dpkg` or `rpm` for the owning package; `''` when unowned"),
		),
		Generate: events.Generate(Name, func() *events.Ring {
			if src == nil {
				return nil
			}
			return src.File
		}),
	}
}
