// Package tables lists the tables of the embedded engine: every extension
// table, and osquery's own tables the hunt queries need.
package tables

import (
	"github.com/pkgpersist/pkgpersist/collector/tables/aptsources"
	"github.com/pkgpersist/pkgpersist/collector/tables/file"
	"github.com/pkgpersist/pkgpersist/collector/tables/groups"
	"github.com/pkgpersist/pkgpersist/collector/tables/users"
	"github.com/pkgpersist/pkgpersist/collector/tables/yumsources"
	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Engine returns the engine's tables.
func Engine() []*table.Table {
	return append(registry.Tables(),
		file.Table(), users.Table(), groups.Table(), aptsources.Table(), yumsources.Table())
}
