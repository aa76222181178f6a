// Package users is osquery's users table, read from the root's /etc/passwd.
package users

import (
	"context"
	"strconv"

	"github.com/pkgpersist/pkgpersist/collector/colonfile"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Table is osquery's users table (specs/users.table, Linux columns).
func Table() *table.Table {
	return &table.Table{
		Name:        "users",
		Description: "Local user accounts, from /etc/passwd under the root.",
		Columns: []table.Column{
			{Name: "uid", Type: table.BigInt, Description: "User ID", Index: true},
			{Name: "gid", Type: table.BigInt, Description: "Group ID (unsigned)"},
			{Name: "uid_signed", Type: table.BigInt, Description: "User ID as int64 signed"},
			{Name: "gid_signed", Type: table.BigInt, Description: "Default group ID as int64 signed"},
			{Name: "username", Type: table.Text, Description: "Username"},
			{Name: "description", Type: table.Text, Description: "Optional user description"},
			{Name: "directory", Type: table.Text, Description: "User's home directory"},
			{Name: "shell", Type: table.Text, Description: "User's configured default shell"},
			{Name: "uuid", Type: table.Text, Description: "Empty on Linux"},
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
	data, err := fs.ReadFile("/etc/passwd")
	if err != nil {
		return nil, nil // no passwd, no users
	}
	var out []table.Row
	for _, f := range colonfile.Records(data, 7) {
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, table.Row{
			"uid": strconv.FormatUint(uid, 10), "gid": strconv.FormatUint(gid, 10),
			"uid_signed": strconv.FormatInt(int64(int32(uid)), 10), "gid_signed": strconv.FormatInt(int64(int32(gid)), 10),
			"username": f[0], "description": f[4], "directory": f[5], "shell": f[6], "uuid": "", "root": root,
		})
	}
	return out, nil
}
