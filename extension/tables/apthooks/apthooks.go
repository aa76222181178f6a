// Package apthooks is the apt_hooks table: every command APT will run on the
// host's behalf, resolved exactly as APT resolves its configuration, with
// the entries APT ignores, replaces or removes kept as inactive rows.
package apthooks

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pkgpersist/pkgpersist/extension/aptconf"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Table returns the apt_hooks table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "apt_hooks",
		Description: "Every command APT runs on the host's behalf (update and dpkg hooks, proxy auto-detection, binary overrides, dpkg invoke options), resolved as APT resolves its configuration; entries APT does not run are rows with active = 0 and the reason.",
		Columns: append(provenance.FileColumns([]table.Column{
			{Name: "hook", Type: table.Text, Description: "Configuration key whose entries APT runs, e.g. `DPkg::Post-Invoke`; a `Binary::<name>::` scope is kept, e.g. `Binary::apt::DPkg::Post-Invoke`; empty for a file that could not be read or parsed"},
			{Name: "name", Type: table.Text, Description: "The entry's tag below the hook key (`''` for an anonymous `::` entry, or for a scalar setting)"},
			{Name: "position", Type: table.Integer, Description: "Order in which APT runs it among the hook's entries (0-based); -1 when APT does not run it"},
			{Name: "command", Type: table.Text, Description: "The command as APT passes it to `/bin/sh -c` (or executes it, for scalar settings), after APT's own string processing"},
			{Name: "active", Type: table.Integer, Description: "1 if APT runs it with the configuration as it is now"},
			{Name: "reason", Type: table.Text, Description: "Why it is not active: file ignored by APT (and the rule), replaced or removed by `#clear` (at file:line), empty value, scalar value with no list, grandchild entry, a configuration error that stops APT (`apt runs nothing: …`)…"},
			{Name: "path", Type: table.Text, Description: "File that defines it, as seen inside the root"},
			{Name: "line", Type: table.Integer, Description: "Line of the file where the entry ends"},
		}, "the file", false), ConfigColumn),
		Generate: func(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
			return PerConfig(func(ctx context.Context, root, aptConfig string) ([]table.Row, error) {
				return rows(ctx, root, aptConfig, q.Uses)
			})(ctx, q)
		},
	}
}

// ConfigColumn is the hidden apt_config column of the tables that read
// APT's configuration.
var ConfigColumn = table.Column{Name: "apt_config", Type: table.Text, Hidden: true, Operators: []table.Operator{table.Equals}, Description: "A configuration file APT reads first, as when the `APT_CONFIG` environment variable names it (path inside the root); default none"}

// PerConfig generates rows for every root and every apt_config the query
// constrains (none: APT_CONFIG unset).
func PerConfig(rows func(ctx context.Context, root, aptConfig string) ([]table.Row, error)) table.Generate {
	return func(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
		aptConfigs := q.Equals("apt_config")
		if len(aptConfigs) == 0 {
			aptConfigs = []string{""}
		}
		var out []table.Row
		for _, root := range table.Roots(q) {
			for _, ac := range aptConfigs {
				rs, err := rows(ctx, root, ac)
				if err != nil {
					return nil, err
				}
				out = append(out, rs...)
			}
		}
		return out, nil
	}
}

// Entry is one row before it is rendered.
type Entry struct {
	Hook     string
	Name     string
	Position int
	Command  string
	Active   bool
	Reason   string
	Origin   aptconf.Origin
}

// Rows evaluates the root, as APT would with APT_CONFIG naming aptConfig
// ("" for unset), and renders the rows.
func Rows(ctx context.Context, root, aptConfig string) ([]table.Row, error) {
	return rows(ctx, root, aptConfig, func(string) bool { return true })
}

// rows is Rows with the columns a statement reads: the provenance of the
// files is looked up only when it reads some of it.
func rows(ctx context.Context, root, aptConfig string, uses func(column string) bool) ([]table.Row, error) {
	fs, rctx, done, err := table.OpenRoot(ctx, root)
	if err != nil {
		return nil, err
	}
	defer done()
	res := aptconf.Load(fs, aptConfig, func() error { return table.Check(rctx) })
	entries := Evaluate(res, fs)
	for _, f := range res.Files {
		if f.Unread != "" {
			fs.Report(f.Path, unreadCause(rctx, f.Unread))
		}
	}
	return render(ctx, root, aptConfig, fs, res, entries, uses)
}

// unreadCause is the problem of a file not read to the end: the caller's
// deadline, or a bound on the work.
func unreadCause(ctx context.Context, why string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", why, ctx.Err())
	}
	return fmt.Errorf("%s: %w", why, fsroot.ErrTooLarge)
}

// Evaluate turns a loaded configuration into entries: one per assignment to
// a hook key (live or not), plus the ignored and failed files.
func Evaluate(res *aptconf.Result, fs aptconf.FS) []Entry {
	var out []Entry
	o := newOrder()
	for _, a := range res.Conf.Assignments {
		if a.Origin.Builtin() {
			continue
		}
		if e, ok := o.entryFor(a, true); ok {
			out = append(out, e)
		}
	}
	for _, f := range res.Files {
		switch {
		case f.Err != nil:
			out = append(out, Entry{Position: -1, Reason: "apt runs nothing: " + f.Err.Msg, Origin: f.Err.Origin})
		case f.Unread != "":
			out = append(out, Entry{Position: -1, Reason: "not evaluated: " + f.Unread + " (apt reads it; its entries are unknown)", Origin: aptconf.Origin{Path: f.Path}})
		case f.Ignored != "":
			out = append(out, ignoredEntries(fs, f, res.Interrupted)...)
		}
	}
	if res.Failed != nil {
		for i := range out {
			if out[i].Active {
				out[i].Active = false
				out[i].Position = -1
				out[i].Reason = "apt runs nothing: " + res.Failed.Error()
			}
		}
	}
	return out
}

// ignoredEntries lists what a file apt skips would define, all inactive.
func ignoredEntries(fs aptconf.FS, f *aptconf.File, interrupted func() error) []Entry {
	conf, read := aptconf.ReadAlone(fs, f.Path, interrupted)
	var out []Entry
	o := newOrder()
	for _, a := range conf.Assignments {
		if e, ok := o.entryFor(a, false); ok {
			e.Active, e.Position, e.Reason = false, -1, f.Ignored
			out = append(out, e)
		}
	}
	if len(out) == 0 && (read.Err != nil || read.Unread != "") {
		why := read.Unread
		if read.Err != nil {
			why = read.Err.Msg
		}
		out = append(out, Entry{Position: -1, Reason: f.Ignored + "; " + why, Origin: aptconf.Origin{Path: f.Path}})
	}
	return out
}

// entryFor decides what apt does with one assignment. live says whether
// the assignment is of the configuration apt runs with (false for a file
// read alone).
func (o *order) entryFor(a *aptconf.Assignment, live bool) (Entry, bool) {
	m, ok := classify(a.Item)
	if !ok {
		return Entry{}, false
	}
	e := Entry{Hook: m.hook, Position: -1, Command: a.Value, Origin: a.Origin}
	if m.depth > 0 {
		e.Name = a.Item.Tag
	}
	if m.kind == dpkgOptions {
		// A bare --post-invoke is no row of its own: the entry after it,
		// its command, is.
		cmd, isInvoke := invokeCommand(a.Value)
		if !isInvoke && !o.followsBareInvoke(a.Item) {
			return Entry{}, false
		}
		if isInvoke {
			e.Command = cmd
		}
	}
	switch {
	case a.Replaced != nil:
		e.Reason = "replaced at " + a.Replaced.String()
		return e, true
	case a.Cleared != nil:
		e.Reason = "removed by #clear at " + a.Cleared.String()
		return e, true
	}
	switch m.kind {
	case list, dpkgOptions:
		switch {
		case m.depth == 0:
			if a.Value == "" {
				return Entry{}, false
			}
			e.Reason = "scalar value with no list: apt runs only the entries below " + m.hook
		case m.depth > 1:
			e.Reason = "grandchild entry: apt runs only the direct children of " + m.hook
		case a.Value == "":
			e.Reason = "empty value: apt skips it"
		default:
			e.Active = true
		}
	case scalar:
		switch {
		case m.depth > 0:
			e.Reason = "below a scalar setting: apt reads only the value of " + m.hook
		case a.Value == "":
			e.Reason = "empty value: apt runs nothing"
		case m.shadowedBy != "" && siblingValue(m.key, m.shadowedBy) != "":
			e.Reason = "not used: apt uses " + m.shadowedBy + " instead"
		default:
			e.Active = true
		}
	case vector:
		switch {
		case m.depth > 1:
			e.Reason = "grandchild entry: apt reads only the direct children of " + m.hook
		case a.Value == "":
			e.Reason = "empty value"
		case m.depth == 1 && m.key.Value != "":
			e.Reason = "not used: " + m.hook + " has a value of its own, which apt uses instead of the list"
		default:
			e.Active = true
		}
	}
	if e.Active && live {
		e.Position = o.position(m, a.Item)
	}
	return e, true
}

// order answers where an entry stands among its siblings, walking each
// list once: a hook of 10,000 entries walked once per entry took seconds.
type order struct {
	// positions maps each child of a hook key to its place in the
	// order apt runs the key's entries.
	positions map[keyKind]map[*aptconf.Item]int
	// afterBare holds, per parent, the entries that are the command
	// of a preceding bare --pre-invoke/--post-invoke entry.
	afterBare map[*aptconf.Item]map[*aptconf.Item]bool
}

type keyKind struct {
	key  *aptconf.Item
	kind kind
}

func newOrder() *order {
	return &order{positions: map[keyKind]map[*aptconf.Item]int{}, afterBare: map[*aptconf.Item]map[*aptconf.Item]bool{}}
}

// position is the entry's place in the order apt runs the hook's entries.
func (o *order) position(m match, item *aptconf.Item) int {
	if m.depth == 0 {
		return 0
	}
	k := keyKind{m.key, m.kind}
	pos, ok := o.positions[k]
	if !ok {
		pos = map[*aptconf.Item]int{}
		n := 0
		for _, c := range m.key.Children {
			if _, seen := pos[c]; !seen {
				pos[c] = n
			}
			if o.runs(m.kind, c) {
				n++
			}
		}
		o.positions[k] = pos
	}
	if p, ok := pos[item]; ok {
		return p
	}
	return -1
}

// runs reports whether apt runs a live direct child of a hook key.
func (o *order) runs(k kind, c *aptconf.Item) bool {
	if c.Value == "" {
		return false
	}
	if k == dpkgOptions {
		_, ok := invokeCommand(c.Value)
		return ok || o.followsBareInvoke(c)
	}
	return true
}

// followsBareInvoke reports a DPkg::Options entry that is the command of a
// preceding bare --pre-invoke/--post-invoke entry (apt skips empty entries
// when it builds dpkg's argument list).
func (o *order) followsBareInvoke(item *aptconf.Item) bool {
	if item.Parent == nil || item.Value == "" {
		return false
	}
	after, ok := o.afterBare[item.Parent]
	if !ok {
		after = map[*aptconf.Item]bool{}
		var prev string
		for _, c := range item.Parent.Children {
			if c.Value == "" {
				continue
			}
			if _, seen := after[c]; !seen {
				after[c] = isBareInvokeOption(prev)
			}
			prev = c.Value
		}
		o.afterBare[item.Parent] = after
	}
	return after[item]
}

func siblingValue(key *aptconf.Item, tag string) string {
	if key.Parent == nil {
		return ""
	}
	for _, c := range key.Parent.Children {
		if asciiEqualFold(c.Tag, tag) {
			return c.Value
		}
	}
	return ""
}

// render adds the file facts and the package owner to each entry.
func render(ctx context.Context, root, aptConfig string, fs *fsroot.Root, res *aptconf.Result, entries []Entry, uses func(string) bool) ([]table.Row, error) {
	digests := map[string]*fsroot.Digests{}
	facts := map[string]*fsroot.Facts{}
	unread := map[string]bool{}
	for _, f := range res.Files {
		if f.Digests != nil {
			digests[f.Path] = f.Digests
		}
		if f.Facts != nil {
			facts[f.Path] = f.Facts
		}
		unread[f.Path] = unread[f.Path] || f.Unread != ""
	}
	// the provenance columns the statement reads; those it does not are
	// left out, which merges no rows: they are the same in every row of
	// a file, and path is kept
	var wanted []table.Column
	for _, c := range provenance.Columns("", false) {
		if uses(c.Name) {
			wanted = append(wanted, c)
		}
	}
	const own = 10 // the columns set here
	items := make([]provenance.Item, len(entries))
	rows := make([]table.Row, len(entries))
	for i, e := range entries {
		row := make(table.Row, own+len(wanted))
		row["hook"], row["name"], row["position"] = e.Hook, e.Name, strconv.Itoa(e.Position)
		row["command"], row["active"], row["reason"] = e.Command, table.Bool(e.Active), e.Reason
		row["path"], row["line"] = e.Origin.Path, strconv.Itoa(e.Origin.Line)
		row["root"], row["apt_config"] = root, aptConfig
		items[i] = provenance.Item{Path: e.Origin.Path, Digests: digests[e.Origin.Path], Facts: facts[e.Origin.Path], Unread: unread[e.Origin.Path], Row: row}
		rows[i] = row
	}
	if len(wanted) == 0 {
		return rows, nil
	}
	return provenance.Rows(ctx, fs, wanted, items)
}
