// Package yumplugins is the yum_plugins table: the plugin modules YUM 3
// loads, with the *_hook functions through which it calls them. The rules
// are yum's (rpm-software-management/yum: yum/plugins.py YumPlugins
// _importplugins, _loadplugin, _getpluginconf, apiverok; yum/config.py
// BoolOption and the [main] defaults): plugins=1 must be set, each module's
// <name>.conf must exist with enabled true, and only then is the module
// imported; after the import it must have requires_api_version (bound by
// any statement that runs at import, module level or inside try, if, with,
// for or class bodies) naming an API YUM supports. YUM 3 runs Python 2.
package yumplugins

import (
	"context"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/ini"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/pyscan"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// YUM's defaults (yum/config.py YumConf / StartupConf).
var (
	confFiles         = []string{"/etc/yum/yum.conf", "/etc/yum.conf"}
	defaultPluginPath = []string{"/usr/share/yum-plugins", "/usr/lib/yum-plugins"}
	defaultConfPath   = []string{"/etc/yum/pluginconf.d"}
)

// Slots are the plugin hook points of YUM's API 2.7 (yum/plugins.py
// SLOT_TO_CONDUIT); a module hooks one by defining <slot>_hook.
var Slots = []string{"config", "postconfig", "init", "args", "predownload", "postdownload",
	"prelistenabledrepos", "prereposetup", "postreposetup", "close", "clean", "pretrans",
	"posttrans", "preverifytrans", "postverifytrans", "exclude", "preresolve", "postresolve",
	"historybegin", "historyend", "compare_providers", "verify_package"}

// Table returns the yum_plugins table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "yum_plugins",
		Description: "Every plugin module YUM 3 finds on its plugin path, with whether YUM loads it (plugins=1 and an enabled <name>.conf), the hook functions it defines, and why not.",
		Columns: provenance.FileColumns([]table.Column{
			{Name: "name", Type: table.Text, Description: "The plugin's name: its module name, as YUM reports it"},
			{Name: "manager", Type: table.Text, Description: "`yum`"},
			{Name: "path", Type: table.Text, Description: "The plugin module, as seen inside the root"},
			{Name: "plugin_dir", Type: table.Text, Description: "The directory it was found in"},
			{Name: "conf_path", Type: table.Text, Description: "The configuration file YUM reads for it (`''` when none exists: YUM then does not load it)"},
			{Name: "enabled", Type: table.Integer, Description: "1 when YUM loads the plugin"},
			{Name: "imported", Type: table.Integer, Description: "1 when YUM imports the module (YUM reads the .conf first and imports only enabled plugins; it checks requires_api_version after the import)"},
			{Name: "hooks", Type: table.Text, Description: "The `*_hook` functions the module defines at import that YUM calls, comma-separated (e.g. `pretrans_hook`)"},
			{Name: "calls", Type: table.Text, Description: pyscan.CallsDescription},
			{Name: "reason", Type: table.Text, Description: "Why it is not loaded; for a plugin that loads only on a condition the module's code cannot settle statically (requires_api_version set in an if or except branch), which condition"},
		}, "the module", true),
		Generate: table.PerRoot(Rows),
	}
}

// Bool is yum's BoolOption: 1/yes/true and 0/no/false, any case; anything
// else (on and off included) is an error.
func Bool(v string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "true":
		return true, true
	case "0", "no", "false":
		return false, true
	}
	return false, false
}

// Plugin is one row before rendering.
type Plugin struct {
	Name, Path, PluginDir, ConfPath, Reason string
	Enabled, Imported                       bool
	Hooks                                   []string
	Calls                                   []pyscan.Call
	scan                                    pyscan.FileScan
}

// Config is what yum.conf says about plugins.
type Config struct {
	File           string
	Plugins        bool
	PluginPath     []string
	PluginConfPath []string
	Failed         string
}

// ReadConfig reads the [main] plugin settings of the root's yum.conf.
func ReadConfig(fs *fsroot.Root) Config {
	c := Config{PluginPath: defaultPluginPath, PluginConfPath: defaultConfPath}
	for _, f := range confFiles {
		if fs.Kind(f) == "file" {
			c.File = f
			break
		}
	}
	if c.File == "" {
		return c
	}
	data, err := fs.ReadFile(c.File)
	if err != nil {
		c.Failed = "cannot read " + c.File + ": " + err.Error()
		return c
	}
	f, err := ini.Parse(data)
	if err != nil {
		c.Failed = "config error in " + c.File + ": " + err.Error()
		return c
	}
	main := f.Section("main")
	if v, ok := main.Get("plugins"); ok {
		b, valid := Bool(v)
		if !valid {
			c.Failed = c.File + ": plugins: invalid boolean value " + v
			return c
		}
		c.Plugins = b
	}
	if v, ok := main.Get("pluginpath"); ok {
		c.PluginPath = ini.List(v)
	}
	if v, ok := main.Get("pluginconfpath"); ok {
		c.PluginConfPath = ini.List(v)
	}
	return c
}

// Evaluate lists the modules on YUM's plugin path, within ctx's time.
func Evaluate(ctx context.Context, fs *fsroot.Root) []Plugin {
	c := ReadConfig(fs)
	var out []Plugin
	seen := map[string]string{}
	failed := c.Failed
	for _, dir := range c.PluginPath {
		if fs.Kind(dir) != "dir" {
			continue
		}
		names, _ := fs.ReadDir(dir)
		sort.Strings(names)
		for _, n := range names {
			if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".py") {
				continue
			}
			mod, _, _ := strings.Cut(n, ".py")
			p := Plugin{Name: mod, Path: path.Join(dir, n), PluginDir: dir}
			p.scan = pyscan.Options{Major: 2}.ScanFileOnce(ctx, fs, p.Path)
			if m := p.scan.Module; m != nil {
				p.Hooks = hooks(m)
				p.Calls = m.Calls
			}
			switch {
			case failed != "":
				p.Reason = "yum runs no plugin: " + failed
			case c.File == "":
				p.Reason = "YUM is not configured (no yum.conf): plugins default to off"
			case !c.Plugins:
				p.Reason = "plugins are off (plugins=1 is not set in " + c.File + ")"
			case seen[mod] != "":
				failed = "two or more plugins with the name " + mod + " exist in the plugin search path (" + seen[mod] + ", " + p.Path + ")"
				p.Reason = "yum runs no plugin: " + failed
			default:
				p.Enabled, p.Reason, p.ConfPath = enabled(fs, c, mod)
				if p.Enabled {
					// imported now; the API version is checked after
					p.Imported, p.Enabled, p.Reason = loadable(p.scan)
				}
				if strings.HasPrefix(p.Reason, "yum runs no plugin: ") {
					failed = strings.TrimPrefix(p.Reason, "yum runs no plugin: ")
				}
			}
			seen[mod] = p.Path
			out = append(out, p)
		}
	}
	if failed != "" {
		for i := range out {
			if out[i].Enabled {
				out[i].Enabled = false
				out[i].Reason = "yum runs no plugin: " + failed
			}
		}
	}
	return out
}

// enabled reads the first <mod>.conf on the conf path.
func enabled(fs *fsroot.Root, c Config, mod string) (bool, string, string) {
	for _, dir := range c.PluginConfPath {
		f := path.Join(dir, mod+".conf")
		if fs.Kind(f) != "file" {
			continue
		}
		data, err := fs.ReadFile(f)
		if err != nil {
			continue // yum takes the first readable one
		}
		ini, err := ini.Parse(data)
		if err != nil {
			return false, "yum runs no plugin: config error in " + f + ": " + err.Error(), f
		}
		v, ok := ini.Section("main").Get("enabled")
		if !ok {
			return false, "not loaded: " + f + " does not set enabled", f
		}
		b, valid := Bool(v)
		if !valid {
			return false, "yum runs no plugin: " + f + ": enabled: invalid boolean value " + v, f
		}
		if !b {
			return false, "disabled: enabled=" + v + " in " + f, f
		}
		return true, "", f
	}
	return false, "not loaded: no " + mod + ".conf in " + strings.Join(c.PluginConfPath, " "), ""
}

// apiVersion is yum/plugins.py API_VERSION (YUM 3.4.3).
const apiMajor, apiMinor = 2, 7

// loadable is what YUM does after the import: it refuses a module without
// requires_api_version or whose version apiverok rejects.
func loadable(scan pyscan.FileScan) (imported, enabled bool, reason string) {
	switch {
	case scan.ReadErr != nil:
		return false, false, "cannot be read: " + scan.ReadErr.Error()
	case scan.Err != nil:
		return false, false, "import fails, nothing of it runs: " + scan.Err.Error()
	case scan.Module.Py3Only != nil:
		return false, false, "import fails, nothing of it runs: YUM 3 runs Python 2, which cannot compile " + scan.Module.Py3Only.String()
	}
	var certain, possible []pyscan.Binding
	var dead string
	for _, b := range scan.Module.Globals["requires_api_version"] {
		switch b.When.Run {
		case pyscan.Certain:
			certain = append(certain, b)
		case pyscan.Possible:
			possible = append(possible, b)
		default:
			dead = b.When.Cond
		}
	}
	switch {
	case len(certain) > 0:
		// the value on the path where nothing raises
		ok, why := apiVerOK(certain[len(certain)-1])
		return true, ok, why
	case len(possible) > 0:
		for _, b := range possible {
			if ok, why := apiVerOK(b); ok {
				return true, true, "loaded only if that branch runs at import: requires_api_version is set only under " + b.When.Cond + " (line " + strconv.Itoa(b.Line) + suffix(why) + "); otherwise YUM refuses it: no requires_api_version"
			}
		}
		b := possible[0]
		_, why := apiVerOK(b)
		return true, false, "not loaded: requires_api_version is set only under " + b.When.Cond + " (line " + strconv.Itoa(b.Line) + "), and then " + why
	}
	why := "not loaded: the module does not specify requires_api_version"
	if dead != "" {
		why += " where it runs at import (it is set only in code that does not run: " + dead + ")"
	}
	return true, false, why
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}

// apiVerOK is yum's apiverok(API_VERSION, requires_api_version): the major
// versions must match and the plugin's minor must not exceed YUM's.
// parsever splits on '.' into exactly two int()s; anything else raises
// out of _loadplugin, and yum exits.
func apiVerOK(b pyscan.Binding) (bool, string) {
	v := b.Value
	if !v.Literal {
		return true, "requires_api_version is computed (" + v.Text + "): YUM loads the plugin if it is a version " + strconv.Itoa(apiMajor) + ".x up to " + apiVersion
	}
	if !v.String {
		return false, "yum runs no plugin: requires_api_version is not a string (" + v.Text + "); YUM's parsever raises and yum exits"
	}
	parts := strings.Split(v.Text, ".")
	if len(parts) != 2 {
		return false, "yum runs no plugin: requires_api_version '" + v.Text + "' is not major.minor; YUM's parsever raises ValueError and yum exits"
	}
	major, err1 := pyInt(parts[0])
	minor, err2 := pyInt(parts[1])
	if err1 != nil || err2 != nil {
		return false, "yum runs no plugin: requires_api_version '" + v.Text + "' is not two integers; YUM's parsever raises ValueError and yum exits"
	}
	if major != apiMajor || minor > apiMinor {
		return false, "not loaded: requires API " + v.Text + "; YUM 3 supports API " + apiVersion
	}
	return true, ""
}

var apiVersion = strconv.Itoa(apiMajor) + "." + strconv.Itoa(apiMinor)

// pyInt is Python 2's int() of a string: surrounding whitespace and a sign
// are allowed.
func pyInt(s string) (int, error) {
	return strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(s), "+"))
}

// hooks are the <slot>_hook names the module binds at import (YUM calls
// getattr(module, slot+'_hook') for each slot).
func hooks(m *pyscan.Module) []string {
	var out []string
	for _, s := range Slots {
		for _, b := range m.Globals[s+"_hook"] {
			if b.When.Run != pyscan.Never && b.Kind != pyscan.BindDel {
				out = append(out, s+"_hook")
				break
			}
		}
	}
	return out
}

// Rows evaluates one root.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	return provenance.RootRows(ctx, root, Table().Columns, func(_ context.Context, fs *fsroot.Root) []provenance.Item {
		plugins := Evaluate(ctx, fs)
		items := make([]provenance.Item, len(plugins))
		for i, p := range plugins {
			items[i] = provenance.Item{Path: p.Path, Digests: p.scan.Digests, Unread: p.scan.Stopped, Row: table.Row{
				"name": p.Name, "manager": "yum", "path": p.Path, "plugin_dir": p.PluginDir,
				"conf_path": p.ConfPath, "enabled": table.Bool(p.Enabled), "imported": table.Bool(p.Imported),
				"hooks": strings.Join(p.Hooks, ","), "calls": pyscan.CallLines(p.Calls), "reason": p.Reason, "root": root}}
		}
		return items
	})
}
