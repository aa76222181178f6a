// Package rpmplugins is the rpm_plugins table: every transaction plugin
// rpm 4.18 loads, or is configured for, with the shared object it would
// dlopen and that file's provenance.
package rpmplugins

import (
	"context"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/extension/tables/rpmmacros"
)

// Table returns the rpm_plugins table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "rpm_plugins",
		Description: "Every transaction plugin rpm (4.18) loads when a package is added to a transaction: one row per `<name>.so` in `%{__plugindir}` and per `%__transaction_<name>` macro, with the shared object rpm dlopens (the macro's value, not necessarily the file in the plugin directory) and its provenance; plugins rpm does not load are rows with the reason. A root without rpm (no rpm program, no macro file) has no rows.",
		Columns: provenance.FileColumns([]table.Column{
			{Name: "name", Type: table.Text, Description: "The plugin's name: the `.so` file's name in the plugin directory without `.so`, or the `<name>` of `%__transaction_<name>`"},
			{Name: "plugin_dir", Type: table.Text, Description: "`%{__plugindir}` expanded: the directory whose `*.so` names decide which plugins rpm sets up"},
			{Name: "macro", Type: table.Text, Description: "`%__transaction_<name>` as defined (unexpanded); `''` when it is not"},
			{Name: "macro_file", Type: table.Text, Description: "The macro file and line of the definition rpm uses (`path:line`)"},
			{Name: "path", Type: table.Text, Description: "The shared object rpm dlopens: the macro's value expanded, up to the first blank (rpm passes the rest to the plugin as options); `''` when rpm loads nothing"},
			{Name: "options", Type: table.Text, Description: "The options after the path in the macro's value"},
			{Name: "loaded", Type: table.Integer, Description: "1 when rpm dlopens `path` into every transaction that installs or erases a package (unless run with `--noplugins`)"},
			{Name: "reason", Type: table.Text, Description: "Why rpm does not load it: no `<name>.so` in the plugin directory, the macro undefined or empty (how a plugin is disabled, e.g. `%__transaction_<name> %{nil}`), a value only rpm can compute, a missing shared object (rpm then fails to add the package to the transaction)"},
		}, "the shared object", true),
		Generate: table.PerRoot(Rows),
	}
}

// Plugin is one row before rendering.
type Plugin struct {
	Name, PluginDir, Macro, MacroFile, Path, Options, Reason string
	Loaded                                                   bool
	// MacroPath and MacroLine are where the definition rpm uses is
	// ("" when there is none)
	MacroPath string
	MacroLine int
	// Dynamic marks a value only rpm can compute (a shell, Lua or
	// built-in expansion): what it loads is not known
	Dynamic bool
}

const macroPrefix = "__transaction_"

// space is C's isspace in the C locale (risspace).
const space = " \t\n\v\f\r"

// Evaluate follows rpmtsSetupTransactionPlugins (lib/transaction.c): it
// globs %{__plugindir}/*.so, and for each file's name expands
// %{?__transaction_<name>}; an empty value means not configured, else
// the value up to the first blank is dlopened (rpmpluginsAddPlugin,
// lib/rpmplugins.c).
func Evaluate(fs *fsroot.Root, m *rpmmacros.Macros) []Plugin {
	var out []Plugin
	dir, dirErr := "", ""
	if _, ok := m.Lookup("__plugindir"); !ok {
		dirErr = "%__plugindir is not defined: rpm globs %{__plugindir}/*.so literally and finds no plugin"
	} else if d, err := m.Expand("%{__plugindir}"); err != nil {
		dirErr = "%__plugindir is " + err.Error() + ": the plugin directory is not known"
	} else {
		dir = d
	}
	seen := map[string]bool{}
	if dir != "" {
		for _, so := range soFiles(fs, dir) {
			name := strings.TrimSuffix(path.Base(so), ".so")
			seen[name] = true
			out = append(out, plugin(fs, m, name, dir))
		}
	}
	// configured plugins rpm never sets up: no <name>.so in the directory
	var names []string
	for _, n := range m.Names() {
		if strings.HasPrefix(n, macroPrefix) && !seen[strings.TrimPrefix(n, macroPrefix)] {
			names = append(names, strings.TrimPrefix(n, macroPrefix))
		}
	}
	sort.Strings(names)
	for _, n := range names {
		p := plugin(fs, m, n, dir)
		p.Loaded = false
		p.Reason = "not set up: rpm sets up only the plugins with a " + n + ".so in %{__plugindir} (" + dir + ")"
		if dirErr != "" {
			p.Reason = "not set up: " + dirErr
		}
		out = append(out, p)
	}
	// plugins installed where this rpm does not look (Debian puts them in
	// /usr/lib/<triplet>/rpm-plugins while its %__plugindir is
	// /usr/lib64/rpm-plugins)
	for _, other := range otherDirs(fs, dir) {
		for _, so := range soFiles(fs, other) {
			out = append(out, Plugin{Name: strings.TrimSuffix(path.Base(so), ".so"), PluginDir: dir, Path: so,
				Reason: "not loaded: not in %{__plugindir} (" + dir + "); rpm does not look in " + other})
		}
	}
	if dirErr != "" && len(out) == 0 && hasRPM(fs, m) {
		out = append(out, Plugin{Reason: dirErr})
	}
	return out
}

// plugin is what rpmpluginsAddPlugin does for one name.
func plugin(fs *fsroot.Root, m *rpmmacros.Macros, name, dir string) Plugin {
	p := Plugin{Name: name, PluginDir: dir}
	def, ok := m.Lookup(macroPrefix + name)
	if !ok {
		p.Reason = "not configured: %" + macroPrefix + name + " is not defined"
		return p
	}
	p.Macro, p.MacroFile = def.Body, def.Path+":"+strconv.Itoa(def.Line)
	p.MacroPath, p.MacroLine = def.Path, def.Line
	v, err := m.Expand("%{?" + macroPrefix + name + "}")
	if err != nil {
		p.Dynamic = true
		p.Reason = "the value is " + err.Error() + " (a shell, Lua or built-in expansion): what rpm loads is not known"
		return p
	}
	// the path ends at the first white space, the options start after
	// the white space that follows
	so, opts := v, ""
	if i := strings.IndexAny(v, space); i >= 0 {
		so, opts = v[:i], strings.TrimLeft(v[i+1:], space)
	}
	p.Path, p.Options = so, opts
	switch {
	case v == "":
		p.Reason = "disabled: %" + macroPrefix + name + " expands to nothing"
	case so == "":
		p.Reason = "the value starts with white space: rpm dlopens an empty name and fails"
	case !strings.HasPrefix(so, "/"):
		p.Loaded = true
		p.Reason = "dlopen searches the library path for " + so + " (not a path): which file rpm loads depends on the environment"
	case fs.Kind(so) != "file":
		p.Reason = "rpm cannot dlopen " + so + " (not a file here): rpm logs an error and refuses to add the package to the transaction"
	default:
		p.Loaded = true
	}
	return p
}

// otherDirs are the usual rpm plugin directories, other than dir.
func otherDirs(fs *fsroot.Root, dir string) []string {
	var out []string
	cands := []string{"/usr/lib/rpm-plugins", "/usr/lib64/rpm-plugins"}
	names, _ := fs.ReadDir("/usr/lib")
	sort.Strings(names)
	for _, n := range names {
		cands = append(cands, "/usr/lib/"+n+"/rpm-plugins")
	}
	for _, c := range cands {
		if c != path.Clean(dir) && fs.Kind(c) == "dir" {
			out = append(out, c)
		}
	}
	return out
}

// soFiles globs dir/*.so as rpmGlob does (sorted, no dot files).
func soFiles(fs *fsroot.Root, dir string) []string {
	names, _ := fs.ReadDir(dir)
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".so") {
			out = append(out, path.Join(dir, n))
		}
	}
	return out
}

// Rows evaluates one root.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	return provenance.RootRows(ctx, root, Table().Columns, func(rctx context.Context, fs *fsroot.Root) []provenance.Item {
		macros, _, tgt := rpmmacros.Evaluate(rctx, fs)
		plugins := Evaluate(fs, rpmmacros.Defined(macros, tgt))
		items := make([]provenance.Item, len(plugins))
		for i, p := range plugins {
			prov := p.Path
			if !strings.HasPrefix(prov, "/") {
				prov = ""
			}
			items[i] = provenance.Item{Path: prov, Row: table.Row{
				"name": p.Name, "plugin_dir": p.PluginDir, "macro": p.Macro, "macro_file": p.MacroFile,
				"path": p.Path, "options": p.Options, "loaded": table.Bool(p.Loaded), "reason": p.Reason, "root": root}}
		}
		return items
	})
}

// hasRPM reports whether the root has rpm: a macro file defines something
// or the rpm program is there. Without it, that no plugin loads says
// nothing (a Debian host without rpm).
func hasRPM(fs *fsroot.Root, m *rpmmacros.Macros) bool {
	return len(m.Names()) > 0 || fs.Kind("/usr/bin/rpm") != "" || fs.Kind("/bin/rpm") != ""
}
