// Package osqext is osquery's osquery_extensions table as the engine sees
// itself: osquery's core and the pkgpersist extension, whose tables the
// engine serves. The packs' discovery query reads it.
package osqext

import (
	"context"

	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Table is osquery_extensions.
func Table() *table.Table {
	return &table.Table{
		Name:        "osquery_extensions",
		Description: "Extensions loaded: here osquery's core and pkgpersist.",
		Columns: []table.Column{
			{Name: "uuid", Type: table.BigInt, Description: "The transient ID assigned for communication"},
			{Name: "name", Type: table.Text, Description: "Extension's name"},
			{Name: "version", Type: table.Text, Description: "Extension's version"},
			{Name: "sdk_version", Type: table.Text, Description: "osquery SDK version used to build the extension"},
			{Name: "path", Type: table.Text, Description: "Path of the extension's Thrift connection or library path"},
			{Name: "type", Type: table.Text, Description: "SDK extension type: core, extension, or module"},
		},
		Generate: func(context.Context, table.QueryContext) ([]table.Row, error) {
			return []table.Row{
				{"uuid": "0", "name": "core", "version": "", "sdk_version": "0.0.0", "path": "", "type": "core"},
				{"uuid": "1", "name": "pkgpersist", "version": "", "sdk_version": "", "path": "", "type": "extension"},
			}, nil
		},
	}
}
