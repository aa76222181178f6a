// Package dnfplugins is the dnf_plugins table: every plugin module DNF 4 or
// DNF 5 finds on, or is configured for, with whether DNF imports it, whether
// it instantiates it, and why not.
package dnfplugins

import (
	"context"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/ini"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
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

	class       bool // a direct dnf.Plugin subclass DNF would instantiate
	configName  string
	nameUnknown bool
	nameExpr    string
	data        []byte
}

// Table returns the dnf_plugins table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "dnf_plugins",
		Description: "Every plugin DNF 4 or DNF 5 finds on its plugin path or is configured to load, with whether DNF imports the module, instantiates the plugin, and why not; modules in dnf-plugins directories DNF does not use are rows too.",
		Columns: []table.Column{
			{Name: "name", Type: table.Text, Description: "The plugin's name as DNF reports it (the `name` attribute of each direct `dnf.Plugin` subclass; a module may define several); `''` for a module that defines none"},
			{Name: "manager", Type: table.Text, Description: "`dnf` (DNF 4) or `dnf5`"},
			{Name: "path", Type: table.Text, Description: "The plugin module or shared object, as seen inside the root"},
			{Name: "plugin_dir", Type: table.Text, Description: "The directory it was found in"},
			{Name: "conf_path", Type: table.Text, Description: "The configuration file that decides whether it is enabled (`''` when there is none: DNF 4 then loads it)"},
			{Name: "enabled", Type: table.Integer, Description: "1 when DNF instantiates the plugin"},
			{Name: "imported", Type: table.Integer, Description: "1 when DNF imports or loads the module at start; DNF 4 imports every module on its path before it looks at `enabled`, so module-level code runs even for a disabled plugin"},
			{Name: "reason", Type: table.Text, Description: "Why it is not enabled, or not imported"},
			{Name: "sha256", Type: table.Text, Description: "SHA-256 of the module"},
			{Name: "mtime", Type: table.BigInt, Description: "Modification time (Unix seconds)"},
			{Name: "size", Type: table.BigInt, Description: "Size in bytes"},
			{Name: "uid", Type: table.BigInt, Description: "Owner"},
			{Name: "mode", Type: table.Text, Description: "Permission bits, octal"},
			{Name: "package", Type: table.Text, Description: "Package that owns the module, `''` when none does"},
			table.RootColumn,
		},
		Generate: generate,
	}
}

func generate(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
	var rows []table.Row
	for _, root := range table.Roots(q) {
		rs, err := Rows(ctx, root)
		if err != nil {
			return nil, err
		}
		rows = append(rows, rs...)
	}
	return rows, nil
}

// Rows evaluates one root.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	fs := fsroot.New(root)
	if err := fs.Check(); err != nil {
		return nil, err
	}
	plugins := Evaluate(fs)
	if err := table.Check(ctx); err != nil {
		return nil, err
	}
	prov := provenance.New(fs)
	defer prov.Close()
	var paths []string
	for _, p := range plugins {
		paths = append(paths, p.Path)
	}
	prov.Prefetch(paths)
	rows := make([]table.Row, 0, len(plugins))
	for _, p := range plugins {
		row := table.Row{
			"name": p.Name, "manager": p.Manager, "path": p.Path, "plugin_dir": p.PluginDir,
			"conf_path": p.ConfPath, "enabled": boolInt(p.Enabled), "imported": boolInt(p.Imported),
			"reason": p.Reason, "root": root,
		}
		for k, v := range prov.File(p.Path, p.data).Columns() {
			if k != "package_modified" {
				row[k] = v
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// Evaluate lists the plugins of both DNF generations.
func Evaluate(fs *fsroot.Root) []Plugin {
	conf, confErr := readINI(fs, defaultConfFile)
	return append(evaluateDNF4(fs), evaluateDNF5(fs, conf, confErr)...)
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

func boolInt(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
