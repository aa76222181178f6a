package dnfplugins

import (
	"context"
	"path"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/ini"
	"github.com/pkgpersist/pkgpersist/extension/pyscan"
)

// Where a DNF 4 installation and stray plugin directories are looked for:
// the dnf Python package's const.py (which holds DNF's compiled-in plugin
// and configuration paths) and the dnf-plugins directories beside it.
var (
	pythonLibDirs = []string{
		"/usr/lib/python3/dist-packages",
		"/usr/lib/python3*/site-packages",
		"/usr/lib64/python3*/site-packages",
		"/usr/local/lib/python3*/site-packages",
		"/usr/local/lib/python3*/dist-packages",
		"/usr/local/lib64/python3*/site-packages",
	}
)

// DNF 4's defaults when no const.py says otherwise (dnf/const.py.in).
const (
	defaultConfFile     = "/etc/dnf/dnf.conf"
	defaultPluginConf   = "/etc/dnf/plugins"
	pluginBase          = "dnf.Plugin"
	pluginBaseQualified = "dnf.plugin.Plugin"
	// dnf.plugin.Plugin.name, which a subclass without its own name keeps
	invalidName = "<invalid>"
)

// dnf4Install is what a root's DNF 4 is configured to do.
type dnf4Install struct {
	constPy        string   // "" when DNF 4 is not installed
	confFile       string   // dnf.conf
	pluginPath     []string // effective
	pluginConfPath []string
	plugins        bool // the main switch
	// failed is why DNF refuses to run ("" when it runs).
	failed string
}

// locateDNF4 finds the dnf package and reads its compiled-in paths.
func locateDNF4(ctx context.Context, fs *fsroot.Root) (dnf4Install, []string) {
	inst := dnf4Install{confFile: defaultConfFile, pluginConfPath: []string{defaultPluginConf}, plugins: true}
	var libs []string
	for _, pattern := range pythonLibDirs {
		libs = append(libs, globDirs(fs, pattern)...)
	}
	for _, lib := range libs {
		c := lib + "/dnf/const.py"
		if fs.Kind(c) != "file" {
			continue
		}
		m := pyscan.Options{Major: 3}.ScanFileOnce(ctx, fs, c).Module
		if m == nil {
			continue
		}
		inst.constPy = c
		// the dnf-plugins directory beside the dnf package, unless
		// const.py names another
		inst.pluginPath = []string{lib + "/dnf-plugins"}
		if v, ok := m.Constant("PLUGINPATH"); ok {
			inst.pluginPath = []string{v}
		}
		if v, ok := m.Constant("PLUGINCONFPATH"); ok {
			inst.pluginConfPath = []string{v}
		}
		if v, ok := m.Constant("CONF_FILENAME"); ok {
			inst.confFile = v
		}
		break
	}
	return inst, libs
}

// readDNFConf applies dnf.conf's [main] plugins, pluginpath and
// pluginconfpath, as DNF reads them with libdnf's parser.
func (inst *dnf4Install) readDNFConf(fs *fsroot.Root) {
	f, failed := readINI(fs, inst.confFile)
	if failed != "" {
		inst.failed = failed
		return
	}
	main := f.Section("main")
	if v, ok := main.Get("plugins"); ok {
		b, valid := ini.Bool(v)
		if !valid {
			inst.failed = "config error in " + inst.confFile + ": plugins: not a boolean: " + v
			return
		}
		inst.plugins = b
	}
	if v, ok := main.Get("pluginpath"); ok {
		inst.pluginPath = ini.List(v)
	}
	if v, ok := main.Get("pluginconfpath"); ok {
		inst.pluginConfPath = ini.List(v)
	}
}

// pyFiles lists the *.py files of dir the way Python's glob does: names
// not starting with '.', in any order (DNF does not sort them).
func pyFiles(fs *fsroot.Root, dir string) []string {
	names, _ := fs.ReadDir(dir)
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".py") {
			out = append(out, path.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out
}

// globDirs expands one '*' in a directory pattern inside the root.
func globDirs(fs *fsroot.Root, pattern string) []string {
	i := strings.IndexByte(pattern, '*')
	if i < 0 {
		if fs.Kind(pattern) == "dir" {
			return []string{pattern}
		}
		return nil
	}
	parent, rest := path.Dir(pattern[:i+1]), pattern[len(path.Dir(pattern[:i+1]))+1:]
	seg, tail, _ := strings.Cut(rest, "/")
	names, _ := fs.ReadDir(parent)
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(seg, n); ok {
			p := path.Join(parent, n)
			if tail != "" {
				p = path.Join(p, tail)
			}
			if fs.Kind(p) == "dir" {
				out = append(out, p)
			}
		}
	}
	return out
}

// evaluateDNF4 lists every module on DNF 4's plugin path and every module in
// a dnf-plugins directory that is not on it.
func evaluateDNF4(ctx context.Context, fs *fsroot.Root) []Plugin {
	inst, libs := locateDNF4(ctx, fs)
	if inst.constPy != "" {
		inst.readDNFConf(fs)
	}
	var out []Plugin
	onPath := map[string]bool{}
	imported := map[string]string{} // module name -> file DNF imported
	var loaded []int                // indexes in out of the plugin classes DNF found
	if inst.constPy != "" {
		for _, dir := range inst.pluginPath {
			dir = cleanDir(dir)
			onPath[dir] = true
			for _, file := range pyFiles(fs, dir) {
				mod := strings.TrimSuffix(path.Base(file), ".py")
				base := Plugin{Manager: "dnf", Path: file, PluginDir: dir}
				switch {
				case inst.failed != "":
					base.Reason = "dnf runs no plugin: " + inst.failed
					out = append(out, scanModule(ctx, fs, base)...)
					continue
				case !inst.plugins:
					base.Reason = "plugins are off (plugins=0 in " + inst.confFile + ")"
					out = append(out, scanModule(ctx, fs, base)...)
					continue
				case imported[mod] != "":
					base.Reason = "not imported: DNF imported the module of the same name from " + imported[mod]
					out = append(out, scanModule(ctx, fs, base)...)
					continue
				}
				imported[mod] = file
				base.Imported = fs.Kind(file) == "file"
				for _, p := range scanModule(ctx, fs, base) {
					if p.class {
						loaded = append(loaded, len(out))
					}
					out = append(out, p)
				}
			}
		}
	}
	// enablement, once every module is imported (as DNF does it)
	if failure := inst.checkEnabled(fs, out, loaded); failure != "" {
		for i := range out {
			if out[i].Enabled || out[i].class {
				out[i].Enabled = false
				out[i].Reason = "dnf runs no plugin: " + failure
			}
		}
	}
	// dnf-plugins directories DNF does not use
	why := "not on DNF's plugin path (" + strings.Join(inst.pluginPath, " ") + ")"
	if inst.constPy == "" {
		why = "DNF 4 is not installed (no dnf/const.py)"
	}
	for _, lib := range libs {
		dir := lib + "/dnf-plugins"
		if onPath[dir] || fs.Kind(dir) != "dir" {
			continue
		}
		for _, file := range pyFiles(fs, dir) {
			out = append(out, scanModule(ctx, fs, Plugin{Manager: "dnf", Path: file, PluginDir: dir, Reason: why})...)
		}
	}
	for i := range out {
		if out[i].class && out[i].Imported && out[i].Reason == "" && !out[i].Enabled {
			out[i].Reason = "disabled"
		}
		if out[i].cond != "" && out[i].Imported {
			out[i].Reason = joinReason(out[i].Reason, "the class is defined only under "+out[i].cond+": DNF has this plugin only when that branch runs at import")
		}
	}
	return out
}

// checkEnabled is dnf.plugin.Plugins._check_enabled: each plugin class
// reads <config_name or name>.conf from every pluginconfpath directory
// (later files override earlier keys) and is dropped when [main] enabled
// is false. A file libdnf cannot parse, or a value that is not a
// boolean, stops DNF: that is returned.
func (inst *dnf4Install) checkEnabled(fs *fsroot.Root, out []Plugin, loaded []int) string {
	for _, i := range loaded {
		p := &out[i]
		if !p.Imported {
			continue
		}
		if p.nameUnknown {
			p.Reason = "name is computed when the module runs (" + p.nameExpr + "); enabled state unknown"
			continue
		}
		conf := p.Name
		if p.configName != "" {
			conf = p.configName
		}
		enabled, decided := true, ""
		for _, dir := range inst.pluginConfPath {
			file := cleanDir(dir) + "/" + conf + ".conf"
			if fs.Kind(file) != "file" {
				continue
			}
			data, err := fs.ReadFile(file)
			if err != nil {
				return "cannot read " + file + ": " + err.Error()
			}
			f, err := ini.Parse(data)
			if err != nil {
				return "parsing " + file + " failed: " + err.Error()
			}
			if v, ok := f.Section("main").Get("enabled"); ok {
				b, valid := ini.Bool(v)
				if !valid {
					return file + ": enabled: not a boolean: " + v
				}
				enabled, decided = b, file
			}
			if p.ConfPath == "" || decided == file {
				p.ConfPath = file
			}
		}
		p.Enabled = enabled
		if !enabled {
			p.Reason = "disabled: enabled=0 in " + decided
		}
	}
	return ""
}

// scanModule turns one module into rows: one per direct dnf.Plugin
// subclass its import defines (dnf.plugin.Plugins._plugin_classes is
// Plugin.__subclasses__(): a class statement anywhere that runs at import,
// inside try, if, with, for or another class too), or one for the module
// when it defines none.
func scanModule(ctx context.Context, fs *fsroot.Root, base Plugin) []Plugin {
	scan := pyscan.Options{Major: 3}.ScanFileOnce(ctx, fs, base.Path)
	base.digests, base.unread = scan.Digests, scan.Stopped
	imported := base.Imported
	failed := ""
	switch m := scan.Module; {
	case scan.ReadErr != nil:
		base.Imported = false
		base.Reason = joinReason(base.Reason, "cannot be read: "+scan.ReadErr.Error())
		return []Plugin{base}
	case scan.Err != nil:
		failed = scan.Err.Error()
	case m.Py2Only != nil:
		failed = "DNF's Python 3 cannot compile " + m.Py2Only.String()
	}
	if failed != "" {
		base.Imported = false
		if imported {
			base.Reason = joinReason(base.Reason, "import fails, nothing of it runs: "+failed)
		} else {
			base.Reason = joinReason(base.Reason, "not valid Python 3: "+failed)
		}
		return []Plugin{base}
	}
	m := scan.Module
	base.Calls = m.Calls
	var out []Plugin
	direct := map[string]bool{}
	byName := map[string]pyscan.Class{}
	for _, c := range m.Classes {
		if c.When.Run == pyscan.Never {
			continue
		}
		byName[c.Name] = c
		if hasDecorator(c, registerCommand) {
			// dnf.plugin.register_command makes a direct dnf.Plugin
			// subclass named after the command's first alias
			p := base
			p.class = true
			p.cond = c.When.Cond
			if aliases := inheritedAttr(c, byName, "aliases"); len(aliases.Items) > 0 && aliases.When.Run == pyscan.Certain {
				p.Name = aliases.Items[0]
			} else {
				p.nameUnknown, p.nameExpr = true, "aliases of "+c.Name
			}
			out = append(out, p)
		}
		isDirect, isIndirect := false, false
		for _, b := range c.Bases {
			switch {
			case b == pluginBase || b == pluginBaseQualified:
				isDirect = true
			case direct[b]:
				isIndirect = true
			}
		}
		if !isDirect && !isIndirect {
			continue
		}
		p := base
		p.Name = invalidName
		p.cond = c.When.Cond
		if a, ok := c.Attrs["name"]; ok {
			switch {
			case a.When.Run != pyscan.Certain:
				p.Name, p.nameUnknown, p.nameExpr = "", true, a.Text+" only if "+a.When.Cond
			case a.Literal && a.String:
				p.Name = a.Text
			default:
				p.Name, p.nameUnknown, p.nameExpr = "", true, a.Text
			}
		}
		if a, ok := c.Attrs["config_name"]; ok && a.Literal && a.String && a.When.Run == pyscan.Certain {
			p.configName = a.Text
		}
		if isDirect {
			direct[c.Name] = true
			p.class = true
		} else {
			p.Reason = joinReason(p.Reason, "indirect subclass of dnf.Plugin (class "+c.Name+"): DNF instantiates only direct subclasses")
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		if base.Imported {
			base.Reason = joinReason(base.Reason, "defines no dnf.Plugin subclass; its module code still runs when DNF starts")
		} else {
			base.Reason = joinReason(base.Reason, "defines no dnf.Plugin subclass")
		}
		out = append(out, base)
	}
	return out
}

// registerCommand is DNF's class decorator that turns a command class into
// a plugin.
const registerCommand = "dnf.plugin.register_command"

func hasDecorator(c pyscan.Class, name string) bool {
	for _, d := range c.Decorators {
		if d == name {
			return true
		}
	}
	return false
}

// inheritedAttr finds a class attribute on the class or, following its
// bases within the module, on the first base that defines it.
func inheritedAttr(c pyscan.Class, classes map[string]pyscan.Class, attr string) pyscan.Attr {
	seen := map[string]bool{}
	for {
		if a, ok := c.Attrs[attr]; ok {
			return a
		}
		seen[c.Name] = true
		next := false
		for _, b := range c.Bases {
			if bc, ok := classes[b]; ok && !seen[b] {
				c, next = bc, true
				break
			}
		}
		if !next {
			return pyscan.Attr{}
		}
	}
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// cleanDir drops trailing slashes, as the paths DNF joins with "/%s.py".
func cleanDir(d string) string {
	if d == "" {
		return d
	}
	return path.Clean(d)
}
