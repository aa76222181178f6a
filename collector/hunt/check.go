package hunt

import (
	"context"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/tables"
)

// SQLChecker compiles queries in the embedded engine without running
// them (EXPLAIN: SQLite plans the query, no table reads a file), so a
// query file that cannot work is refused before a hunt starts rather than
// failing on every host.
type SQLChecker struct{ e *engine.Engine }

// NewSQLChecker opens an engine with the embedded engine's tables.
func NewSQLChecker() (*SQLChecker, error) {
	e, err := engine.New(tables.Engine(), "/")
	if err != nil {
		return nil, err
	}
	return &SQLChecker{e: e}, nil
}

// Close releases the engine.
func (c *SQLChecker) Close() error { return c.e.Close() }

// Check returns SQLite's error for sql. osquery says osquery runs it
// (osqueryi on a host, an enrolled osqueryd): a table the engine does not
// serve is then no error, since osquery has many more.
func (c *SQLChecker) Check(ctx context.Context, sql string, osquery bool) error {
	err := c.e.Explain(ctx, sql)
	if err != nil && osquery && strings.HasPrefix(err.Error(), "no such table: ") {
		return nil
	}
	return err
}
