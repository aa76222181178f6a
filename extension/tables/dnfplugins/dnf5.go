package dnfplugins

import (
	"path"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/ini"
)

// libdnf5 (rpm-software-management/dnf5): plugin configurations in
// pluginconfpath (include/libdnf5/conf/const.hpp PLUGINS_CONF_DIR), libraries
// in pluginpath (libdnf5/config.h.in: ${libdir}/libdnf5/plugins/, a build
// setting, so every usual libdir is tried), and the dnf5 command line's own
// plugins in ${libdir}/dnf5/plugins/ (dnf5/main.cpp load_plugins).
const dnf5ConfDir = "/etc/dnf/libdnf5-plugins"

var libDirs = []string{"/usr/lib64", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"}

// DNF5PluginPath is the libdnf5 plugin directory of the root: dnf.conf's
// pluginpath when set, else the first libdir that has libdnf5/plugins.
func dnf5PluginPath(fs *fsroot.Root, conf *ini.File) string {
	if v, ok := conf.Section("main").Get("pluginpath"); ok {
		return cleanDir(v)
	}
	for _, l := range libDirs {
		if d := l + "/libdnf5/plugins"; fs.Kind(d) == "dir" {
			return d
		}
	}
	return "/usr/lib64/libdnf5/plugins"
}

// evaluateDNF5 follows libdnf5's Plugins::load_plugins and
// Base::load_plugin_config: every regular *.conf of pluginconfpath, sorted
// by name, names a plugin ([main] name, else the file's stem) and must say
// enabled= (a boolean, or host-only / installroot-only); an enabled plugin
// loads <pluginpath>/<name>.so. A conf without enabled, with a value that
// is not a boolean, or naming a missing library stops dnf5 — after the
// plugins before it were loaded.
func evaluateDNF5(fs *fsroot.Root, dnfConf *ini.File, dnfConfErr string) []Plugin {
	confDir := dnf5ConfDir
	if v, ok := dnfConf.Section("main").Get("pluginconfpath"); ok {
		confDir = cleanDir(v)
	}
	pluginDir := dnf5PluginPath(fs, dnfConf)
	if fs.Kind(confDir) != "dir" && fs.Kind(pluginDir) != "dir" {
		return evaluateDNF5Apps(fs)
	}
	plugins := true
	if v, ok := dnfConf.Section("main").Get("plugins"); ok {
		if b, valid := ini.Bool(v); valid {
			plugins = b
		}
	}
	var out []Plugin
	named := map[string]bool{}
	failure := dnfConfErr
	for _, conf := range confFiles(fs, confDir) {
		stem := strings.TrimSuffix(path.Base(conf), ".conf")
		p := Plugin{Manager: "dnf5", PluginDir: pluginDir, ConfPath: conf, Name: stem}
		data, err := fs.ReadFile(conf)
		var f *ini.File
		if err == nil {
			f, err = ini.Parse(data)
		}
		if err != nil {
			p.Path = path.Join(pluginDir, stem+".so")
			if failure == "" {
				failure = "cannot load " + conf + ": " + err.Error()
			}
			p.Reason = "dnf5 runs no plugin: " + failure
			out = append(out, p)
			continue
		}
		main := f.Section("main")
		if v, ok := main.Get("name"); ok {
			p.Name = v
		}
		p.Path = path.Join(pluginDir, p.Name+".so")
		named[p.Path] = true
		switch {
		case failure != "":
			p.Reason = "dnf5 runs no plugin: " + failure
		case !plugins:
			p.Reason = "plugins are off (plugins=0 in dnf.conf)"
		default:
			v, ok := main.Get("enabled")
			enabled, valid := ini.Bool(v)
			switch {
			case !ok:
				failure = conf + ": [main] enabled is missing"
			case v == "host-only":
				enabled, valid = true, true
				p.Reason = "" // enabled for the host itself (installroot /)
			case v == "installroot-only":
				enabled, valid = false, true
				p.Reason = "enabled=installroot-only: loaded only for transactions in another installroot"
			case !valid:
				failure = conf + ": invalid option value: enabled=" + v
			}
			if failure != "" {
				p.Reason = "dnf5 runs no plugin: " + failure
				break
			}
			if !enabled {
				if p.Reason == "" {
					p.Reason = "disabled: enabled=" + v + " in " + conf
				}
				break
			}
			if fs.Kind(p.Path) != "file" {
				failure = "cannot find plugin library " + p.Path + " (named by " + conf + ")"
				p.Reason = "dnf5 runs no plugin: " + failure
				break
			}
			p.Imported, p.Enabled = true, true
		}
		out = append(out, p)
	}
	if failure != "" {
		// dnf5 stops at the failure: what loaded before it ran its load
		// code, but no hook of any plugin runs
		for i := range out {
			if out[i].Enabled {
				out[i].Enabled = false
				out[i].Reason = "dnf5 runs no plugin: " + failure
			}
		}
	}
	// libraries no configuration names are never loaded
	names, _ := fs.ReadDir(pluginDir)
	sort.Strings(names)
	for _, n := range names {
		so := path.Join(pluginDir, n)
		if strings.HasSuffix(n, ".so") && !named[so] {
			out = append(out, Plugin{Manager: "dnf5", Name: strings.TrimSuffix(n, ".so"), Path: so, PluginDir: pluginDir,
				Reason: "no .conf in " + confDir + " names it: libdnf5 never loads it"})
		}
	}
	return append(out, evaluateDNF5Apps(fs)...)
}

// evaluateDNF5Apps lists the dnf5 command line's plugins: dnf5 loads every
// *.so of ${libdir}/dnf5/plugins/, sorted, with no configuration
// (dnf5/plugins.cpp Plugins::load_plugins).
func evaluateDNF5Apps(fs *fsroot.Root) []Plugin {
	var out []Plugin
	for _, l := range libDirs {
		dir := l + "/dnf5/plugins"
		names, err := fs.ReadDir(dir)
		if err != nil {
			continue
		}
		sort.Strings(names)
		for _, n := range names {
			p := path.Join(dir, n)
			if !strings.HasSuffix(n, ".so") || fs.Kind(p) != "file" {
				continue
			}
			out = append(out, Plugin{Manager: "dnf5", Name: strings.TrimSuffix(n, ".so"), Path: p, PluginDir: dir,
				Enabled: true, Imported: true})
		}
	}
	return out
}

// confFiles are the regular *.conf files of dir, sorted by name (libdnf5
// utils::fs::create_sorted_file_list).
func confFiles(fs *fsroot.Root, dir string) []string {
	names, _ := fs.ReadDir(dir)
	sort.Strings(names)
	var out []string
	for _, n := range names {
		p := path.Join(dir, n)
		if path.Ext(n) == ".conf" && n != ".conf" && fs.Kind(p) == "file" {
			out = append(out, p)
		}
	}
	return out
}
