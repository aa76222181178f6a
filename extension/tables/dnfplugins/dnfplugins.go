// Package dnfplugins is the dnf_plugins table: every plugin module DNF 4 or
// DNF 5 finds on, or is configured for, with whether DNF imports it, whether
// it instantiates it, and why not.
package dnfplugins

import (
	"context"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/ini"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/pyscan"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Plugin is one row before rendering.
type Plugin struct {
	Name      string
	Manager   string // "dnf" or "dnf5"
	Path      string
	PluginDir string
	ConfPath  string
	Enabled   bool
	Imported  bool
	Reason    string

	// Calls are the module's calls that run commands, code or network.
	Calls []pyscan.Call

	class       bool // a direct dnf.Plugin subclass DNF would instantiate
	cond        string
	configName  string
	nameUnknown bool
	nameExpr    string
	digests     *fsroot.Digests
	unread      bool // the scan stopped before the end (deadline)
}

// Table returns the dnf_plugins table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "dnf_plugins",
		Description: "Every plugin DNF 4 or DNF 5 finds on its plugin path or is configured to load, with whether DNF imports the module, instantiates the plugin, and why not; modules in dnf-plugins directories DNF does not use are rows too.",
		Columns: provenance.FileColumns([]table.Column{
			{Name: "name", Type: table.Text, Description: "The plugin's name as DNF reports it (the `name` attribute of each direct `dnf.Plugin` subclass; a module may define several); `''` for a module that defines none"},
			{Name: "manager", Type: table.Text, Description: "`dnf` (DNF 4) or `dnf5`"},
			{Name: "path", Type: table.Text, Description: "The plugin module or shared object, as seen inside the root"},
			{Name: "plugin_dir", Type: table.Text, Description: "The directory it was found in"},
			{Name: "conf_path", Type: table.Text, Description: "The configuration file that decides whether it is enabled (`''` when there is none: DNF 4 then loads it)"},
			{Name: "enabled", Type: table.Integer, Description: "1 when DNF instantiates the plugin"},
			{Name: "imported", Type: table.Integer, Description: "1 when DNF imports or loads the module at start; DNF 4 imports every module on its path before it looks at `enabled`, so module-level code runs even for a disabled plugin"},
			{Name: "calls", Type: table.Text, Description: pyscan.CallsDescription},
			{Name: "reason", Type: table.Text, Description: "Why it is not enabled, or not imported; for a plugin class defined on a condition the module's code cannot settle statically, which condition"},
		}, "the module", true),
		Generate: table.PerRoot(Rows),
	}
}

// Evaluate lists the plugins of both DNF generations, within ctx's time.
func Evaluate(ctx context.Context, fs *fsroot.Root) []Plugin {
	conf, confErr := readINI(fs, defaultConfFile)
	return append(evaluateDNF4(ctx, fs), evaluateDNF5(fs, conf, confErr)...)
}

// readINI parses a configuration file that may be absent (an empty file
// then); the error is what stops the package manager.
func readINI(fs *fsroot.Root, name string) (*ini.File, string) {
	if fs.Kind(name) == "" {
		return &ini.File{}, ""
	}
	data, err := fs.ReadFile(name)
	if err != nil {
		return &ini.File{}, "cannot read " + name + ": " + err.Error()
	}
	f, err := ini.Parse(data)
	if err != nil {
		return &ini.File{}, "config error in " + name + ": " + err.Error()
	}
	return f, ""
}

// Rows evaluates one root.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	return provenance.RootRows(ctx, root, Table().Columns, func(_ context.Context, fs *fsroot.Root) []provenance.Item {
		plugins := Evaluate(ctx, fs)
		items := make([]provenance.Item, len(plugins))
		for i, p := range plugins {
			items[i] = provenance.Item{Path: p.Path, Digests: p.digests, Unread: p.unread, Row: table.Row{
				"name": p.Name, "manager": p.Manager, "path": p.Path, "plugin_dir": p.PluginDir,
				"conf_path": p.ConfPath, "enabled": table.Bool(p.Enabled), "imported": table.Bool(p.Imported),
				"calls": pyscan.CallLines(p.Calls), "reason": p.Reason, "root": root}}
		}
		return items
	})
}
