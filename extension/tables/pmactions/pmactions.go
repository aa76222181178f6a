// Package pmactions is the package_manager_actions table: the commands that
// DNF 4's post-transaction-actions plugin, the libdnf5 actions plugin and
// YUM's post-transaction-actions plugin run on package transactions, with
// whether the plugin that runs them is enabled.
package pmactions

import (
	"context"
	"errors"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/actions"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/ini"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/extension/tables/dnfplugins"
	"github.com/pkgpersist/pkgpersist/extension/tables/yumplugins"
)

// Table returns the package_manager_actions table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "package_manager_actions",
		Description: "One row per action line: commands DNF 4 post-transaction-actions, libdnf5 actions and YUM post-transaction-actions run on package transactions, with whether the plugin that runs them is enabled and why not.",
		Columns: provenance.FileColumns([]table.Column{
			{Name: "manager", Type: table.Text, Description: "`dnf`, `dnf5` or `yum`"},
			{Name: "path", Type: table.Text, Description: "The action file, as seen inside the root"},
			{Name: "line", Type: table.Integer, Description: "Line of the action file"},
			{Name: "trigger", Type: table.Text, Description: "When it runs: the package state (`in`, `out`, `any`; YUM: `install`, `update`, `remove`, `any`) or the libdnf5 hook and direction (e.g. `post_transaction:in`)"},
			{Name: "package_filter", Type: table.Text, Description: "The packages (or, for YUM, a file path) it applies to"},
			{Name: "command", Type: table.Text, Description: "The command as written (DNF 4 and YUM run it with a shell; libdnf5 splits it into arguments and runs it without one)"},
			{Name: "enabled", Type: table.Integer, Description: "1 when the plugin that runs it is enabled and takes the line"},
			{Name: "reason", Type: table.Text, Description: "Why it does not run"},
		}, "the action file", false),
		Generate: table.PerRoot(Rows),
	}
}

// Row is one action before rendering.
type Row struct {
	Manager string
	Path    string
	actions.Action
	Enabled bool
	Reason  string
	digests *fsroot.Digests
	unread  bool
}

// The plugins' action directories when their .conf does not set actiondir.
const (
	dnf4Plugin       = "post-transaction-actions"
	dnf4ConfDefault  = "/etc/dnf/plugins/post-transaction-actions.conf"
	dnf4DirDefault   = "/etc/dnf/plugins/post-transaction-actions.d/"
	dnf5Plugin       = "actions"
	dnf5ConfDefault  = "/etc/dnf/libdnf5-plugins/actions.conf"
	yumPlugin        = "post-transaction-actions"
	yumConfDefault   = "/etc/yum/pluginconf.d/post-transaction-actions.conf"
	yumActionDefault = "/etc/yum/post-actions/"
)

// Evaluate lists every action line of the root; reading stops when ctx is
// done, and the file being read then says so.
func Evaluate(ctx context.Context, fs *fsroot.Root) []Row {
	stop := func() error { return table.Check(ctx) }
	dnf := map[string]dnfplugins.Plugin{}
	for _, p := range dnfplugins.Evaluate(ctx, fs) {
		if _, seen := dnf[p.Manager+"/"+p.Name]; !seen || p.Enabled {
			dnf[p.Manager+"/"+p.Name] = p
		}
	}
	var yum *yumplugins.Plugin
	for _, p := range yumplugins.Evaluate(ctx, fs) {
		if p.Name == yumPlugin {
			p := p
			yum = &p
		}
	}
	var out []Row

	// DNF 4
	p4, ok := dnf["dnf/"+dnf4Plugin]
	conf := p4.ConfPath
	if conf == "" {
		conf = dnf4ConfDefault
	}
	plugin4 := func(a actions.Action) (bool, string) {
		return state(ok, p4.Enabled, p4.Reason, a.Skipped, "DNF 4's "+dnf4Plugin+" plugin")
	}
	for _, f := range globConcat(fs, actionDir(fs, conf, dnf4DirDefault, stop), "*.action") {
		rows, _ := readActions(fs, "dnf", f, actions.DNF4, stop, plugin4)
		out = append(out, rows...)
	}

	// libdnf5
	p5, ok5 := dnf["dnf5/"+dnf5Plugin]
	conf5 := p5.ConfPath
	if conf5 == "" {
		conf5 = dnf5ConfDefault
	}
	plugin5 := func(a actions.Action) (bool, string) {
		return state(ok5, p5.Enabled, p5.Reason, a.Skipped, "the libdnf5 "+dnf5Plugin+" plugin")
	}
	var rows5 []Row
	failed := ""
	for _, f := range sortedGlob(fs, path.Join(path.Dir(conf5), "actions.d"), ".actions") {
		rows, perr := readActions(fs, "dnf5", f, actions.DNF5, stop, plugin5)
		rows5 = append(rows5, rows...)
		if perr != nil {
			r := Row{Manager: "dnf5", Path: f, Action: actions.Action{Line: perr.Line}}
			if ok5 && p5.Enabled && failed == "" {
				failed = f + ":" + strconv.Itoa(perr.Line) + ": " + perr.Msg
			}
			r.Reason = "the actions plugin rejects this line: " + perr.Msg
			if ok5 && p5.Enabled {
				r.Reason = "dnf5 runs nothing: " + r.Reason
			}
			rows5 = append(rows5, r)
		}
	}
	if failed != "" {
		for i := range rows5 {
			if rows5[i].Enabled {
				rows5[i].Enabled = false
				rows5[i].Reason = "dnf5 runs nothing: the actions plugin rejects " + failed
			}
		}
	}
	out = append(out, rows5...)

	// YUM
	yconf := yumConfDefault
	if yum != nil && yum.ConfPath != "" {
		yconf = yum.ConfPath
	}
	pluginYUM := func(a actions.Action) (bool, string) {
		if yum == nil {
			return state(false, false, "", a.Skipped, "YUM's "+yumPlugin+" plugin")
		}
		return state(true, yum.Enabled, yum.Reason, a.Skipped, "YUM's "+yumPlugin+" plugin")
	}
	for _, f := range globConcat(fs, actionDir(fs, yconf, yumActionDefault, stop), "*.action") {
		rows, _ := readActions(fs, "yum", f, actions.YUM, stop, pluginYUM)
		out = append(out, rows...)
	}
	return out
}

// readActions streams one action file into rows, each with the plugin's
// verdict on it. A libdnf5 line the plugin rejects is returned for the
// caller to judge; a file that cannot be opened, or read to the end, is a
// row saying so after the actions read before that point.
func readActions(fs *fsroot.Root, manager, file string, format actions.Format, stop func() error, verdict func(actions.Action) (bool, string)) ([]Row, *actions.Error) {
	f, err := fs.OpenFile(file)
	if err != nil {
		return []Row{{Manager: manager, Path: file, Reason: "not read: " + err.Error() + " (the plugin reads it; its actions are unknown)"}}, nil
	}
	defer f.Close()
	acts, err := actions.Parse(format, f, stop)
	var perr *actions.Error
	var d *fsroot.Digests
	if sums, whole := f.Digests(); whole {
		d = &sums
	}
	var rows []Row
	for _, a := range acts {
		r := Row{Manager: manager, Path: file, Action: a, digests: d}
		r.Enabled, r.Reason = verdict(a)
		rows = append(rows, r)
	}
	switch {
	case errors.As(err, &perr):
	case err != nil:
		fs.Report(file, err)
		rows = append(rows, Row{Manager: manager, Path: file, unread: true,
			Reason: "not evaluated after this point: " + err.Error() + " (the plugin reads it; what follows is unknown)"})
	}
	return rows, perr
}

// state combines the plugin's state and the line's.
func state(installed, enabled bool, pluginReason, skipped, plugin string) (bool, string) {
	switch {
	case !installed:
		return false, plugin + " is not installed"
	case !enabled:
		return false, plugin + " is not enabled: " + pluginReason
	case skipped != "":
		return false, skipped
	}
	return true, ""
}

// actionDir is [main] actiondir of the plugin's .conf, or the default.
func actionDir(fs *fsroot.Root, conf, def string, stop func() error) string {
	file, err := fs.OpenFile(conf)
	if err != nil {
		return def
	}
	defer file.Close()
	f, err := ini.ParseReader(file, stop)
	if err != nil {
		return def
	}
	if v, ok := f.Section("main").Get("actiondir"); ok {
		return v
	}
	return def
}

// globConcat is Python's glob.glob(dir + pattern): the plugins join by
// string concatenation, so an actiondir without a trailing slash matches
// names beside it. Hidden names do not match '*'.
func globConcat(fs *fsroot.Root, dir, pattern string) []string {
	full := dir + pattern
	parent, base := path.Dir(full), path.Base(full)
	names, _ := fs.ReadDir(parent)
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(base, n); ok && !strings.HasPrefix(n, ".") {
			if p := path.Join(parent, n); fs.Kind(p) == "file" {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// sortedGlob lists the regular files of dir with the extension, sorted.
func sortedGlob(fs *fsroot.Root, dir, ext string) []string {
	names, _ := fs.ReadDir(dir)
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if p := path.Join(dir, n); path.Ext(n) == ext && fs.Kind(p) == "file" {
			out = append(out, p)
		}
	}
	return out
}

// Rows evaluates one root.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	return provenance.RootRows(ctx, root, Table().Columns, func(rctx context.Context, fs *fsroot.Root) []provenance.Item {
		acts := Evaluate(rctx, fs)
		items := make([]provenance.Item, len(acts))
		for i, a := range acts {
			items[i] = provenance.Item{Path: a.Path, Digests: a.digests, Unread: a.unread, Row: table.Row{
				"manager": a.Manager, "path": a.Path, "line": strconv.Itoa(a.Line),
				"trigger": a.Trigger, "package_filter": a.Filter, "command": a.Command,
				"enabled": table.Bool(a.Enabled), "reason": a.Reason, "root": root}}
		}
		return items
	})
}
