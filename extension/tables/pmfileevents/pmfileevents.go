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
		Description: "File events in the package managers' paths (the packs' FIM list) captured by the extension with fanotify (needs root), each with the writing process's path, cmdline and ancestry from the same process table as `pm_process_events`, and the file's sha256 and owning package after the event. Kept in the same kind of bounded ring; losses in `pm_event_status`.",
		Evented:     true,
		Columns: append(events.Timing(),
			col("action", table.Text, "`CREATED`, `UPDATED`, `DELETED`, `MOVED_FROM` or `MOVED_TO`, osquery's file_events words"),
			col("target_path", table.Text, "The file"),
			col("pid", table.BigInt, "The process that made the change"),
			col("path", table.Text, "Its executable"),
			col("cmdline", table.Text, "Its cmdline"),
			col("ancestry", table.Text, "JSON array of executable paths from its parent up to pid 1, at the event"),
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
