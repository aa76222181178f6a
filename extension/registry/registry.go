// Package registry is the one list of pkgpersist's tables, served alike by
// the osquery extension and the collector's embedded engine.
package registry

import (
	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/extension/tables/alpmhooks"
	"github.com/pkgpersist/pkgpersist/extension/tables/apkhooks"
	"github.com/pkgpersist/pkgpersist/extension/tables/apthooks"
	"github.com/pkgpersist/pkgpersist/extension/tables/coverage"
	"github.com/pkgpersist/pkgpersist/extension/tables/dnfplugins"
	"github.com/pkgpersist/pkgpersist/extension/tables/dpkghooks"
	"github.com/pkgpersist/pkgpersist/extension/tables/hooktargets"
	"github.com/pkgpersist/pkgpersist/extension/tables/packageorigins"
	"github.com/pkgpersist/pkgpersist/extension/tables/packagescripts"
	"github.com/pkgpersist/pkgpersist/extension/tables/pmactions"
	"github.com/pkgpersist/pkgpersist/extension/tables/pmeventstatus"
	"github.com/pkgpersist/pkgpersist/extension/tables/pmfileevents"
	"github.com/pkgpersist/pkgpersist/extension/tables/pmprocessevents"
	"github.com/pkgpersist/pkgpersist/extension/tables/rpmmacros"
	"github.com/pkgpersist/pkgpersist/extension/tables/rpmplugins"
	"github.com/pkgpersist/pkgpersist/extension/tables/yumplugins"
	"github.com/pkgpersist/pkgpersist/extension/tables/zypplugins"
)

// Tables returns every table, in documentation order, for a process that
// captures no events (its evented tables say so when queried).
func Tables() []*table.Table { return WithEvents(nil) }

// WithEvents returns every table, the evented ones reading src.
func WithEvents(src *events.Sources) []*table.Table {
	return []*table.Table{
		apthooks.Table(),
		dpkghooks.Table(),
		dnfplugins.Table(),
		yumplugins.Table(),
		alpmhooks.Table(),
		rpmmacros.Table(),
		rpmplugins.Table(),
		apkhooks.Table(),
		zypplugins.Table(),
		pmactions.Table(),
		hooktargets.Table(),
		packagescripts.Table(),
		packageorigins.Table(),
		pmprocessevents.Table(src),
		pmfileevents.Table(src),
		pmeventstatus.Table(src),
		coverage.Table(func() []*table.Table { return WithEvents(src) }),
	}
}
