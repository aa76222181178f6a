package alpmhooks

import (
	"path"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/alpmdb"
	"github.com/pkgpersist/pkgpersist/extension/alpmhook"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// pacman's compiled-in paths (Debian's and Arch's build: meson's
// sysconfdir /etc, datarootdir /usr/share).
const (
	confFile = "/etc/pacman.conf"
	// SYSHOOKDIR, which libalpm puts first (lib/libalpm/alpm.c
	// alpm_initialize), below every HookDir
	sysHookDir = "/usr/share/libalpm/hooks"
	// HOOKDIR, the HookDir when pacman.conf names none (src/pacman/conf.c
	// setdefaults)
	defaultHookDir = "/etc/pacman.d/hooks"
	// config_max_recursion of src/pacman/conf.c
	maxInclude = 10
)

// config is what pacman.conf says about hooks.
type config struct {
	hookDirs []string // HookDir values in order; nil for the default
	dbPath   string
	// failed is why pacman refuses to start ("" when it starts)
	failed string
}

// readConfig reads pacman.conf's [options] HookDir and DBPath, following
// Include directives as src/pacman/conf.c _parse_directive and
// process_include do (a glob; a file that cannot be read stops pacman).
func readConfig(fs *fsroot.Root) config {
	c := config{dbPath: alpmdb.DefaultDBPath}
	if fs.Kind(confFile) == "" {
		return c
	}
	section := ""
	c.parse(fs, confFile, &section, 0)
	return c
}

func (c *config) parse(fs *fsroot.Root, file string, section *string, depth int) {
	f, err := fs.OpenFile(file)
	if err != nil {
		c.failed = "config file " + file + " could not be read: " + err.Error()
		return
	}
	defer f.Close()
	_ = alpmhook.ScanINI(f, nil, func(d alpmhook.Directive) bool {
		if d.Start {
			*section = d.Section
			return true
		}
		switch {
		case d.Key == "Include":
			if !d.HasValue {
				c.failed = file + ": directive 'Include' needs a value"
				return false
			}
			if depth+1 >= maxInclude {
				c.failed = "config parsing exceeded max recursion depth"
				return false
			}
			for _, inc := range glob(fs, d.Value) {
				c.parse(fs, inc, section, depth+1)
				if c.failed != "" {
					return false
				}
			}
		case *section == "" && !d.InSection:
			c.failed = file + ": all directives must belong to a section"
			return false
		case *section == "options" && d.HasValue && d.Key == "HookDir":
			// setrepeatingoption: split on spaces alone
			for _, v := range strings.Split(d.Value, " ") {
				if v != "" {
					c.hookDirs = append(c.hookDirs, v)
				}
			}
		case *section == "options" && d.HasValue && d.Key == "DBPath":
			c.dbPath = d.Value
		}
		return true
	})
}

// glob expands a pattern whose last element may hold wildcards, inside
// the root, sorted as glob(3) sorts; with GLOB_NOCHECK, as pacman calls
// it, a pattern that matches nothing is returned itself (and pacman then
// fails to read that file).
func glob(fs *fsroot.Root, pattern string) []string {
	dir, base := path.Split(pattern)
	if !strings.ContainsAny(base, "*?[") {
		return []string{pattern}
	}
	names, _ := fs.ReadDir(dir)
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(base, n); ok && !strings.HasPrefix(n, ".") {
			out = append(out, path.Join(dir, n))
		}
	}
	if len(out) == 0 {
		return []string{pattern}
	}
	return out
}

// hookDirs are libalpm's hook directories, lowest priority first.
func (c config) dirs() []string {
	dirs := []string{sysHookDir}
	hd := c.hookDirs
	if hd == nil {
		hd = []string{defaultHookDir}
	}
	for _, d := range hd {
		dirs = append(dirs, path.Clean("/"+d))
	}
	return dirs
}
