// Package coverage is the pkgpersist_coverage table: for every other
// pkgpersist table, what it could not read or evaluate in full on a root.
// It is how a hunt knows its "nothing found" is complete, whatever engine
// ran it (the embedded engine, osqueryi, an enrolled osqueryd): it always
// returns rows, one per table at least.
package coverage

import (
	"context"
	"errors"
	"sync"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Name is the table's name.
const Name = "pkgpersist_coverage"

// The statuses of a row.
const (
	Complete    = "complete"    // the table read and evaluated everything it needed
	Unreadable  = "unreadable"  // pkgpersist could not look (permission, I/O): the result is incomplete
	Unevaluated = "unevaluated" // something under the root stopped the evaluation (size, time, special files, loops, missing checksums): a finding
)

// Table returns the table, covering the tables tables returns (called at
// each generation, so it may name this table's own registry).
func Table(tables func() []*table.Table) *table.Table {
	return &table.Table{
		Name:        Name,
		Description: "Whether pkgpersist's other tables could read and evaluate everything they needed on the root: one `complete` row per table that could, and otherwise one row per file or directory it could not read (`unreadable`: permission or I/O, so the result is incomplete — run as root) or not evaluate in full (`unevaluated`: a size or time bound, a FIFO or device where a file belongs, a symlink loop, a package without the checksums its files are checked against — a finding, since an attacker can cause it). It always returns rows: a host that returns none did not run it.",
		Columns: []table.Column{
			{Name: "source", Type: table.Text, Description: "The pkgpersist table"},
			{Name: "path", Type: table.Text, Description: "The file or directory it could not read or evaluate in full, as seen inside the root; `''` on a `complete` row, or when the table as a whole failed"},
			{Name: "status", Type: table.Text, Description: "`complete`, `unreadable` or `unevaluated`"},
			{Name: "cause", Type: table.Text, Description: "`permission`, `io`, `unsupported`, `limit`, `deadline`, `special`, `loop`, `unverifiable` (a package's checksums are missing, so its files cannot be checked), or `error` when the table failed as a whole; `''` on a `complete` row"},
			{Name: "reason", Type: table.Text, Description: "What happened, in one line"},
			table.RootColumn,
		},
		Generate: func(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
			var out []table.Row
			for _, root := range table.Roots(q) {
				out = append(out, Rows(ctx, tables(), root)...)
			}
			return out, nil
		},
	}
}

// Rows runs every table but this one on root, at once and in three
// quarters of ctx's time (so that a table that runs out of time is a row,
// not this table's failure), and reports what each could not read or
// evaluate.
func Rows(ctx context.Context, tables []*table.Table, root string) []table.Row {
	ctx, cancel := table.Reading(ctx)
	defer cancel()
	var ts []*table.Table
	for _, t := range tables {
		// evented tables read no root; pm_event_status is their coverage
		if t.Name != Name && !t.Evented {
			ts = append(ts, t)
		}
	}
	results := make([][]table.Row, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = covered(ctx, t, root)
		}()
	}
	wg.Wait()
	var out []table.Row
	for _, rs := range results {
		out = append(out, rs...)
	}
	return out
}

// covered runs one table and turns what it recorded into rows.
func covered(ctx context.Context, t *table.Table, root string) []table.Row {
	problems := &fsroot.Problems{}
	q := table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: root}}}}
	_, err := t.Run(fsroot.WithProblems(ctx, problems), q)
	row := func(path, status, cause, reason string) table.Row {
		return table.Row{"source": t.Name, "path": path, "status": status, "cause": cause, "reason": reason, "root": root}
	}
	var out []table.Row
	for _, p := range problems.List() {
		status := Unevaluated
		if fsroot.Incomplete(p.Cause) {
			status = Unreadable
		}
		out = append(out, row(p.Path, status, p.Cause, p.Detail))
	}
	if err != nil {
		cause := "error"
		if errors.Is(err, context.DeadlineExceeded) {
			cause = fsroot.CauseDeadline
		}
		out = append(out, row("", Unevaluated, cause, err.Error()))
	}
	if len(out) == 0 {
		out = append(out, row("", Complete, "", ""))
	}
	return out
}
