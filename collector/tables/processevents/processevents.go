// Package processevents is osquery's process_events table (specs/posix/
// process_events.table, Linux columns), its schema only: the packs'
// event queries compile in the engine, which refuses to run them.
package processevents

import "github.com/pkgpersist/pkgpersist/extension/table"

// Table is process_events.
func Table() *table.Table {
	col := func(name string, t table.Type, hidden bool, desc string) table.Column {
		return table.Column{Name: name, Type: t, Hidden: hidden, Description: desc}
	}
	return &table.Table{
		Name:        "process_events",
		Description: "osquery's process execution events; refused by the engine, which captures none.",
		Evented:     true,
		Instead:     "use pm_process_events through osqueryd with the pkgpersist extension, or pkgpersist watch",
		Columns: []table.Column{
			col("pid", table.BigInt, false, "Process (or thread) ID"),
			col("path", table.Text, false, "Path of executed file"),
			col("mode", table.Text, false, "File mode permissions"),
			col("cmdline", table.Text, false, "Command line arguments (argv)"),
			col("cmdline_size", table.BigInt, true, "Actual size (bytes) of command line arguments"),
			col("env", table.Text, true, "Environment variables delimited by spaces"),
			col("env_count", table.BigInt, true, "Number of environment variables"),
			col("env_size", table.BigInt, true, "Actual size (bytes) of environment list"),
			col("cwd", table.Text, false, "The process current working directory"),
			col("auid", table.BigInt, false, "Audit User ID at process start"),
			col("uid", table.BigInt, false, "User ID at process start"),
			col("euid", table.BigInt, false, "Effective user ID at process start"),
			col("gid", table.BigInt, false, "Group ID at process start"),
			col("egid", table.BigInt, false, "Effective group ID at process start"),
			col("owner_uid", table.BigInt, false, "File owner user ID"),
			col("owner_gid", table.BigInt, false, "File owner group ID"),
			col("atime", table.BigInt, false, "File last access in UNIX time"),
			col("mtime", table.BigInt, false, "File modification in UNIX time"),
			col("ctime", table.BigInt, false, "File last metadata change in UNIX time"),
			col("btime", table.BigInt, false, "File creation in UNIX time"),
			col("overflows", table.Text, true, "List of structures that overflowed"),
			col("parent", table.BigInt, false, "Process parent's PID, or -1 if cannot be determined."),
			col("time", table.BigInt, false, "Time of execution in UNIX time"),
			col("uptime", table.BigInt, false, "Time of execution in system uptime"),
			col("eid", table.Text, true, "Event ID"),
			col("fsuid", table.BigInt, false, "Filesystem user ID at process start"),
			col("suid", table.BigInt, false, "Saved user ID at process start"),
			col("fsgid", table.BigInt, false, "Filesystem group ID at process start"),
			col("sgid", table.BigInt, false, "Saved group ID at process start"),
			col("syscall", table.Text, false, "Syscall name: fork, vfork, clone, execve, execveat"),
		},
	}
}
