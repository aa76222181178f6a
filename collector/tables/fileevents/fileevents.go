// Package fileevents is osquery's file_events table (specs/posix/
// file_events.table), its schema only: events exist only in a running
// osqueryd. The engine knows the table so that the packs' event queries
// compile, and refuses to run them.
package fileevents

import "github.com/pkgpersist/pkgpersist/extension/table"

// Table is file_events.
func Table() *table.Table {
	return &table.Table{
		Name:        "file_events",
		Description: "osquery's file integrity events; refused by the engine, which captures none.",
		Evented:     true,
		Instead:     "use pm_file_events through osqueryd with the pkgpersist extension, or pkgpersist watch",
		Columns: []table.Column{
			{Name: "target_path", Type: table.Text, Description: "The path associated with the event"},
			{Name: "category", Type: table.Text, Description: "The category of the file defined in the config"},
			{Name: "action", Type: table.Text, Description: "Change action (UPDATE, REMOVE, etc)"},
			{Name: "transaction_id", Type: table.BigInt, Description: "ID used during bulk update"},
			{Name: "inode", Type: table.BigInt, Description: "Filesystem inode number"},
			{Name: "uid", Type: table.BigInt, Description: "Owning user ID"},
			{Name: "gid", Type: table.BigInt, Description: "Owning group ID"},
			{Name: "mode", Type: table.Text, Description: "Permission bits"},
			{Name: "size", Type: table.BigInt, Description: "Size of file in bytes"},
			{Name: "atime", Type: table.BigInt, Description: "Last access time"},
			{Name: "mtime", Type: table.BigInt, Description: "Last modification time"},
			{Name: "ctime", Type: table.BigInt, Description: "Last status change time"},
			{Name: "md5", Type: table.Text, Description: "The MD5 of the file after change"},
			{Name: "sha1", Type: table.Text, Description: "The SHA1 of the file after change"},
			{Name: "sha256", Type: table.Text, Description: "The SHA256 of the file after change"},
			{Name: "hashed", Type: table.Integer, Description: "1 if the file was hashed, 0 if not, -1 if hashing failed"},
			{Name: "time", Type: table.BigInt, Description: "Time of file event"},
			{Name: "eid", Type: table.Text, Hidden: true, Description: "Event ID"},
		},
	}
}
