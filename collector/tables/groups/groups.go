// Package groups is osquery's groups table, read from the root's /etc/group.
package groups

import (
	"context"
	"strconv"

	"github.com/pkgpersist/pkgpersist/collector/colonfile"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Table is osquery's groups table (specs/groups.table, Linux columns).
func Table() *table.Table {
	return &table.Table{
		Name:        "groups",
		Description: "Local system groups, from /etc/group under the root.",
		Columns: []table.Column{
			{Name: "gid", Type: table.BigInt, Description: "Unsigned int64 group ID", Index: true},
			{Name: "gid_signed", Type: table.BigInt, Description: "A signed int64 version of gid"},
			{Name: "groupname", Type: table.Text, Description: "Canonical local group name"},
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
	data, err := fs.ReadFile("/etc/group")
	if err != nil {
		return nil, nil
	}
	var out []table.Row
	for _, f := range colonfile.Records(data, 4) {
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		out = append(out, table.Row{"gid": strconv.FormatUint(gid, 10), "gid_signed": strconv.FormatInt(int64(int32(gid)), 10),
			"groupname": f[0], "root": root})
	}
	return out, nil
}
