// Package systeminfo is osquery's system_info table, reduced to the host
// identity columns the packs' decorators read (hostname and uuid), so the
// example configuration's decorators run in the engine too.
package systeminfo

import (
	"context"
	"os"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Table is system_info (specs/system_info.table, identity columns only).
func Table() *table.Table {
	return &table.Table{
		Name:        "system_info",
		Description: "The host's identity: hostname and hardware UUID (identity columns of osquery's system_info).",
		Columns: []table.Column{
			{Name: "hostname", Type: table.Text, Description: "Network hostname including domain"},
			{Name: "uuid", Type: table.Text, Description: "Unique ID provided by the system: SMBIOS product UUID, else the machine-id"},
			{Name: "computer_name", Type: table.Text, Description: "Friendly computer name (the hostname on Linux)"},
			{Name: "local_hostname", Type: table.Text, Description: "Local hostname"},
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
	// A mounted image names itself in its files; the running host's kernel
	// knows its hostname and SMBIOS UUID better.
	host := firstLine(fs.ReadFile("/etc/hostname"))
	uuid := machineUUID(firstLine(fs.ReadFile("/etc/machine-id")))
	if root == "/" {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
		if u := firstLine(os.ReadFile("/sys/class/dmi/id/product_uuid")); u != "" {
			uuid = strings.ToUpper(u)
		}
	}
	short, _, _ := strings.Cut(host, ".")
	return []table.Row{{"hostname": host, "uuid": uuid, "computer_name": host, "local_hostname": short, "root": root}}, nil
}

func firstLine(b []byte, err error) string {
	if err != nil {
		return ""
	}
	l, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(l)
}

// machineUUID writes a 32-hex-digit machine-id in UUID form, so an image
// (or a host that hides SMBIOS from non-root) still has a stable ID.
func machineUUID(id string) string {
	if len(id) != 32 {
		return strings.ToUpper(id)
	}
	id = strings.ToUpper(id)
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}
