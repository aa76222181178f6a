package events

import (
	"context"
	"fmt"

	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Timing are the first columns of every evented table; `time` and `eid`
// take `>`, `>=` and `=`, which select from the ring.
func Timing() []table.Column {
	ops := []table.Operator{table.GreaterThan, table.GreaterThanOrEquals, table.Equals, table.LessThan, table.LessThanOrEquals}
	return []table.Column{
		{Name: "eid", Type: table.BigInt, Operators: ops, Description: "Event id, increasing with every event the extension process adds to this table (`eid > N` selects those after N)"},
		{Name: "time", Type: table.BigInt, Operators: ops, Description: "When the event was captured, in Unix seconds (`time > N` selects those after N)"},
	}
}

// NoSource is the error of an evented table in a process that captures
// nothing.
func NoSource(name string) error {
	return fmt.Errorf("%s has no event source in this process: query it through osqueryd with the pkgpersist extension loaded (running as root), or use pkgpersist watch", name)
}

// Generate answers an evented table from the ring ring returns.
func Generate(name string, ring func() *Ring) table.Generate {
	return func(_ context.Context, q table.QueryContext) ([]table.Row, error) {
		r := ring()
		if r == nil {
			return nil, NoSource(name)
		}
		return r.Select(q), nil
	}
}
