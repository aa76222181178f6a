// Package tables lists the tables of the embedded engine: every extension
// table, and osquery's own tables the hunt queries and packs need (the
// evented ones with osquery's schema only: the engine refuses them).
package tables

import (
	"github.com/pkgpersist/pkgpersist/collector/tables/aptsources"
	"github.com/pkgpersist/pkgpersist/collector/tables/crontab"
	"github.com/pkgpersist/pkgpersist/collector/tables/file"
	"github.com/pkgpersist/pkgpersist/collector/tables/fileevents"
	"github.com/pkgpersist/pkgpersist/collector/tables/groups"
	"github.com/pkgpersist/pkgpersist/collector/tables/osqext"
	"github.com/pkgpersist/pkgpersist/collector/tables/processevents"
	"github.com/pkgpersist/pkgpersist/collector/tables/processfileevents"
	"github.com/pkgpersist/pkgpersist/collector/tables/systeminfo"
	"github.com/pkgpersist/pkgpersist/collector/tables/users"
	"github.com/pkgpersist/pkgpersist/collector/tables/yumsources"
	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Engine returns the engine's tables.
func Engine() []*table.Table {
	return append(registry.Tables(),
		file.Table(), users.Table(), groups.Table(), aptsources.Table(), yumsources.Table(),
		fileevents.Table(), processevents.Table(), osqext.Table(), systeminfo.Table(), processfileevents.Table(),
		crontab.Table())
}
