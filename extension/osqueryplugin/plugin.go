// Package osqueryplugin serves a table.Table as an osquery extension table
// plugin over osquery-go's Thrift server.
package osqueryplugin

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/osquery/osquery-go/gen/osquery"
	osqtable "github.com/osquery/osquery-go/plugin/table"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// osquery's ColumnOptions (osquery/core/sql/column.h).
const (
	opHidden     = 16
	opAdditional = 4
)

// Plugin adapts one table. It reuses osquery-go's table plugin for request
// parsing and adds what that plugin cannot say: hidden columns.
type Plugin struct {
	t       *table.Table
	inner   *osqtable.Plugin
	timeout time.Duration
	log     *slog.Logger
	dbs     *dbcache.Cache
}

// Sharing makes each generate call read the package databases through
// dbs, shared with the other tables of the process.
func (p *Plugin) Sharing(dbs *dbcache.Cache) *Plugin {
	p.dbs = dbs
	return p
}

// New returns the plugin for t; timeout bounds each generate call.
func New(t *table.Table, timeout time.Duration, log *slog.Logger) *Plugin {
	p := &Plugin{t: t, timeout: timeout, log: log}
	cols := make([]osqtable.ColumnDefinition, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = osqtable.ColumnDefinition{Name: c.Name, Type: osqtable.ColumnType(c.Type)}
	}
	p.inner = osqtable.NewPlugin(t.Name, cols, p.generate)
	return p
}

func (p *Plugin) Name() string         { return p.t.Name }
func (p *Plugin) RegistryName() string { return "table" }
func (p *Plugin) Ping() osquery.ExtensionStatus {
	return osquery.ExtensionStatus{Code: 0, Message: "OK"}
}
func (p *Plugin) Shutdown() {}

// Routes describes the columns, with osquery's option bits so that `root`
// is hidden from SELECT * and usable as a parameter.
func (p *Plugin) Routes() osquery.ExtensionPluginResponse {
	routes := make(osquery.ExtensionPluginResponse, 0, len(p.t.Columns))
	for _, c := range p.t.Columns {
		op := 0
		if c.Hidden {
			op = opHidden | opAdditional
		}
		routes = append(routes, map[string]string{
			"id": "column", "name": c.Name, "type": string(c.Type), "op": strconv.Itoa(op),
		})
	}
	return routes
}

// Call answers osquery's requests for this table.
func (p *Plugin) Call(ctx context.Context, req osquery.ExtensionPluginRequest) osquery.ExtensionResponse {
	if req["action"] == "columns" {
		return osquery.ExtensionResponse{Status: &osquery.ExtensionStatus{Code: 0, Message: "OK"}, Response: p.Routes()}
	}
	return p.inner.Call(ctx, req)
}

func (p *Plugin) generate(ctx context.Context, qc osqtable.QueryContext) ([]map[string]string, error) {
	q := table.QueryContext{Constraints: map[string][]table.Constraint{}}
	for col, list := range qc.Constraints {
		for _, c := range list.Constraints {
			q.Constraints[col] = append(q.Constraints[col], table.Constraint{Op: table.Operator(c.Operator), Expr: c.Expression})
		}
	}
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	start := time.Now()
	rows, err := p.t.Run(dbcache.With(ctx, p.dbs), q)
	if err != nil {
		p.log.Error("generate failed", "table", p.t.Name, "err", err)
		return nil, err
	}
	p.log.Debug("generated", "table", p.t.Name, "rows", len(rows), "took", time.Since(start))
	out := make([]map[string]string, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out, nil
}
