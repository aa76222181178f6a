// Package processfileevents is osquery's process_file_events table
// (specs/linux/process_file_events.table): audit-based file events that
// name the process that wrote, its schema only: the packs' query on it
// compiles in the engine, which refuses to run it.
package processfileevents

import "github.com/pkgpersist/pkgpersist/extension/table"

// Table is process_file_events.
func Table() *table.Table {
	text := func(name, desc string) table.Column {
		return table.Column{Name: name, Type: table.Text, Description: desc}
	}
	big := func(name, desc string) table.Column {
		return table.Column{Name: name, Type: table.BigInt, Description: desc}
	}
	return &table.Table{
		Name:        "process_file_events",
		Description: "osquery's audit-based file integrity events, with the process; refused by the engine, which captures none.",
		Evented:     true,
		Instead:     "use pm_file_events through osqueryd with the pkgpersist extension, or pkgpersist watch",
		Columns: []table.Column{
			text("operation", "Operation type"),
			big("pid", "Process ID"),
			big("ppid", "Parent process ID"),
			big("time", "Time of execution in UNIX time"),
			text("executable", "The executable path"),
			text("partial", "True if this is a partial event (i.e.: this process existed before we started osquery)"),
			text("cwd", "The current working directory of the process"),
			text("path", "The path associated with the event"),
			text("dest_path", "The canonical path associated with the event"),
			text("uid", "The uid of the process performing the action"),
			text("gid", "The gid of the process performing the action"),
			text("auid", "Audit user ID of the process using the file"),
			text("euid", "Effective user ID of the process using the file"),
			text("egid", "Effective group ID of the process using the file"),
			text("fsuid", "Filesystem user ID of the process using the file"),
			text("fsgid", "Filesystem group ID of the process using the file"),
			text("suid", "Saved user ID of the process using the file"),
			text("sgid", "Saved group ID of the process using the file"),
			big("uptime", "Time of execution in system uptime"),
			{Name: "eid", Type: table.Text, Hidden: true, Description: "Event ID"},
		},
	}
}
