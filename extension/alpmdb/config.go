package alpmdb

import (
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/alpmhook"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// pacman's compiled-in paths (Debian's and Arch's build: meson's
// sysconfdir /etc).
const (
	// ConfFile is pacman's configuration file.
	ConfFile = "/etc/pacman.conf"
	// DefaultDBPath is pacman's compiled-in DBPath.
	DefaultDBPath = "/var/lib/pacman/"
	// config_max_recursion of src/pacman/conf.c
	maxInclude = 10
)

// Config is what pacman.conf's [options] say about where libalpm finds
// hooks and its database.
type Config struct {
	HookDirs []string // HookDir values in order; nil when it names none
	DBPath   string
	// Failed is why pacman refuses to start ("" when it starts)
	Failed string
}

// ReadConfig reads pacman.conf's [options] HookDir and DBPath, following
// Include directives as src/pacman/conf.c _parse_directive and
// process_include do (a glob; a file that cannot be read stops pacman).
func ReadConfig(fs *fsroot.Root) Config {
	c := Config{DBPath: DefaultDBPath}
	if fs.Kind(ConfFile) == "" {
		return c
	}
	section := ""
	c.parse(fs, ConfFile, &section, 0)
	return c
}

func (c *Config) parse(fs *fsroot.Root, file string, section *string, depth int) {
	if fs.Kind(file) == "dir" {
		// parse_ini fopen()s a directory and its first fgets fails: no
		// line, no error (an Include of ".*" names "." and "..")
		return
	}
	f, err := fs.OpenFile(file)
	if err != nil {
		c.Failed = "config file " + file + " could not be read: " + err.Error()
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
				c.Failed = file + ": directive 'Include' needs a value"
				return false
			}
			if depth+1 >= maxInclude {
				c.Failed = "config parsing exceeded max recursion depth"
				return false
			}
			for _, inc := range include(fs, d.Value) {
				c.parse(fs, inc, section, depth+1)
				if c.Failed != "" {
					return false
				}
			}
		case *section == "" && !d.InSection:
			c.Failed = file + ": all directives must belong to a section"
			return false
		case *section == "options" && d.HasValue && d.Key == "HookDir":
			// setrepeatingoption: split on spaces alone
			for _, v := range strings.Split(d.Value, " ") {
				if v != "" {
					c.HookDirs = append(c.HookDirs, v)
				}
			}
		case *section == "options" && d.HasValue && d.Key == "DBPath":
			c.DBPath = d.Value
		}
		return true
	})
}

// include is the files an Include pattern names, as pacman's
// process_include globs it (fsroot's Glob, glob(3)) with GLOB_NOCHECK: a
// pattern that matches nothing is returned itself (and pacman then fails
// to read that file).
func include(fs *fsroot.Root, pattern string) []string {
	if files, _ := fs.Glob(pattern); len(files) > 0 {
		return files
	}
	return []string{pattern}
}
