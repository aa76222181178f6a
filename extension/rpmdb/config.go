package rpmdb

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Where the root's rpm keeps its database: %_dbpath and %_db_backend as
// the root's macro files define them. This reads only what those two
// macros need, not rpm's whole macro language.

// macroFiles are the macro files rpm reads, in its order (lib/rpmrc.c,
// setDefaults: "macrofiles"), as globs: what a later file defines wins.
// Left out: %{_target}'s platform files (/usr/lib/rpm/platform/*/macros,
// /etc/rpm/<target>/macros), which depend on the host's architecture and
// set no database path. The vendor file is <confdir>/<vendor>/macros with
// the vendor rpm was built for: "redhat" (RHEL, CentOS, Fedora, Amazon
// Linux) and "suse" are read. Last come the macros of the user running
// rpm, root for a package manager (userMacros).
var macroFiles = []string{
	"/usr/lib/rpm/macros",
	"/usr/lib/rpm/macros.d/macros.*",
	"/usr/lib/rpm/fileattrs/*.attr",
	"/usr/lib/rpm/redhat/macros",
	"/usr/lib/rpm/suse/macros",
	"/etc/rpm/macros.*",
	"/etc/rpm/macros",
}

// DefaultDirs are where rpm keeps its database when no macro file says:
// rpm's built-in %{_var}/lib/rpm, then /usr/lib/sysimage/rpm, where Fedora
// ≥ 36 and SUSE keep it (Fedora leaves /var/lib/rpm a symlink to it).
var DefaultDirs = []string{"/var/lib/rpm", "/usr/lib/sysimage/rpm"}

// builtins are the values rpm's own macros file gives the directories a
// %_dbpath is written with, for a root whose macro files define
// %_dbpath without them (rpm's macros.in).
var builtins = map[string]string{
	"_usr":            "/usr",
	"_var":            "/var",
	"_prefix":         "/usr",
	"_exec_prefix":    "%{_prefix}",
	"_localstatedir":  "/var",
	"_sharedstatedir": "%{_var}/lib",
	"_sysconfdir":     "/etc",
}

// backendFiles are the file names of rpm's database backends, in the
// order rpm tries them when the configured one has no database
// (lib/backend/dbi.c, dbDetectBackend: the configured backend's file if it
// exists, else the first backend whose file does). rpm < 4.16 has
// Berkeley DB only ("bdb"), with the same Packages file. LMDB (data.mdb,
// an experimental backend of rpm 4.14 to 4.17) is found but not read.
var backendFiles = []struct{ backend, file string }{
	{"sqlite", "rpmdb.sqlite"},
	{"lmdb", "data.mdb"},
	{"ndb", "Packages.db"},
	{"bdb", "Packages"},
	{"bdb_ro", "Packages"},
}

// A macro is one definition: its body and the file that made it.
type macro struct{ body, file string }

// location is where the database is looked for.
type location struct {
	dirs    []string // in order; the first that has a database is read
	backend string   // %_db_backend, "" when not set
}

// locate reads the root's macro files. A %_dbpath that cannot be expanded
// (a shell or Lua expansion, an undefined macro) is a problem of the file
// that defines it, and the default directories are used.
func (d *DB) locate() location {
	defs := map[string]macro{}
	for _, pattern := range macroFiles {
		for _, f := range d.glob(pattern) {
			data, err := d.fs.ReadFile(f)
			if err != nil {
				continue // ReadFile recorded what is a problem
			}
			for name, body := range parseMacros(data) {
				defs[name] = macro{body, f}
			}
		}
	}
	if f := d.userMacros(); f != "" {
		if data, err := d.fs.ReadFile(f); err == nil {
			for name, body := range parseMacros(data) {
				defs[name] = macro{body, f}
			}
		}
	}
	loc := location{dirs: DefaultDirs}
	if m, ok := defs["_db_backend"]; ok {
		loc.backend, _ = expand(m.body, defs, 0)
	}
	m, ok := defs["_dbpath"]
	if !ok {
		return loc
	}
	dir, err := expand(m.body, defs, 0)
	if home := homeDBPath().FindStringSubmatch(m.body); home != nil {
		dir, err = "/root"+home[1], nil
	}
	if err == nil && !strings.HasPrefix(dir, "/") {
		err = fmt.Errorf("%q is not an absolute path", dir)
	}
	if err != nil {
		d.fs.ReportLimit(m.file, fmt.Sprintf("rpm's %%_dbpath %q not expanded (%v): read %s instead", m.body, err, strings.Join(DefaultDirs, " and ")))
		return loc
	}
	loc.dirs = []string{path.Clean(dir)}
	return loc
}

// homeDBPath is the %_dbpath of Debian's and Ubuntu's rpm, a database in
// the home of the user running rpm: %(bash -c 'echo ~/.rpmdb'). A package
// manager runs rpm as root, so that is /root's.
var homeDBPath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^%\((?:bash -c )?'?echo ~(/[^'\s()%]*)'?\)$`)
})

// userMacros is root's macro file, which rpm reads last: rpm ≥ 4.17 reads
// ~/.config/rpm/macros, and ~/.rpmmacros when ~/.config/rpm does not
// exist (as older rpm always does).
func (d *DB) userMacros() string {
	if fi, err := d.fs.Stat("/root/.config/rpm"); err == nil && fi.IsDir() {
		return "/root/.config/rpm/macros"
	}
	return "/root/.rpmmacros"
}

// glob lists the files a macro file pattern names (a wildcard in its
// last element only), sorted as glob(3) sorts them, leaving out what rpm
// leaves out: .rpmnew, .rpmsave and .rpmorig files and names that do not
// end in a letter or digit.
func (d *DB) glob(pattern string) []string {
	dir, base := path.Split(pattern)
	if !strings.ContainsAny(base, "*?[") {
		return []string{pattern}
	}
	names, _ := d.fs.ReadDir(path.Clean(dir))
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(base, n); !ok || strings.HasPrefix(n, ".") {
			continue
		}
		if strings.HasSuffix(n, ".rpmnew") || strings.HasSuffix(n, ".rpmsave") || strings.HasSuffix(n, ".rpmorig") {
			continue
		}
		if c := n[len(n)-1]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			continue
		}
		out = append(out, dir+n)
	}
	sort.Strings(out)
	return out
}

// parseMacros returns the plain (not parametric) macros a macro file
// defines, as rpm's loadMacroFile reads it: a definition is a line whose
// first non-blank character is '%', continued over the next line while it
// ends in a backslash or has an unclosed %{, %( or %[.
func parseMacros(data []byte) map[string]string {
	out := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(nil, len(data)+1)
	var def strings.Builder
	open := 0
	for s.Scan() {
		line := strings.TrimRight(s.Text(), "\r")
		if def.Len() == 0 {
			t := strings.TrimLeft(line, " \t")
			if !strings.HasPrefix(t, "%") {
				continue
			}
			line = t[1:]
		} else {
			def.WriteByte('\n')
		}
		def.WriteString(line)
		open += depth(line)
		if open > 0 || strings.HasSuffix(line, "\\") {
			continue
		}
		if name, body, ok := definition(def.String()); ok {
			out[name] = body
		}
		def.Reset()
		open = 0
	}
	// a definition still continued when the file ends is complete
	if name, body, ok := definition(def.String()); ok && def.Len() > 0 {
		out[name] = body
	}
	return out
}

// depth is how many %{, %( and %[ a line opens and does not close.
func depth(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\':
			i++
		case c == '%' && i+1 < len(line):
			switch line[i+1] {
			case '{', '(', '[':
				n++
				i++
			case '%':
				i++
			}
		case n > 0 && (c == '}' || c == ')' || c == ']'):
			n--
		}
	}
	return n
}

// definition splits "name body": a name of letters, digits and '_', then
// blanks, then the body without trailing blanks; a name followed by '('
// is a parametric macro, which %_dbpath never is.
func definition(s string) (name, body string, ok bool) {
	i := 0
	for i < len(s) && (s[i] == '_' || 'a' <= s[i] && s[i] <= 'z' || 'A' <= s[i] && s[i] <= 'Z' || '0' <= s[i] && s[i] <= '9') {
		i++
	}
	if i == 0 || i < len(s) && s[i] == '(' {
		return "", "", false
	}
	body = strings.TrimRight(strings.TrimLeft(s[i:], " \t"), " \t\n\\")
	return s[:i], body, true
}

// expand expands the macro references a directory is written with:
// %{name}, %name and %{?name} (empty when undefined), and %% for '%'.
// Anything else (%(shell), %{lua:…}, a conditional, an undefined
// %{name}) is an error: rpm would run or keep it, which this does not.
func expand(body string, defs map[string]macro, level int) (string, error) {
	if level > 16 {
		return "", fmt.Errorf("macros nested more than 16 deep")
	}
	var out strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '%' {
			out.WriteByte(c)
			continue
		}
		if i+1 < len(body) && body[i+1] == '%' {
			out.WriteByte('%')
			i++
			continue
		}
		name, optional, n := reference(body[i+1:])
		if n == 0 {
			return "", fmt.Errorf("%s cannot be expanded without running rpm", body[i:])
		}
		i += n
		v, ok := defs[name]
		if !ok {
			if b, isBuiltin := builtins[name]; isBuiltin {
				v, ok = macro{body: b}, true
			}
		}
		switch {
		case !ok && optional:
			continue
		case !ok:
			return "", fmt.Errorf("%%{%s} is not defined", name)
		}
		s, err := expand(v.body, defs, level+1)
		if err != nil {
			return "", err
		}
		out.WriteString(s)
	}
	return out.String(), nil
}

// reference reads a macro reference after its '%': the name, whether it
// was %{?name}, and how many bytes it took (0 when it is not a plain
// reference).
func reference(s string) (name string, optional bool, n int) {
	isName := func(c byte) bool {
		return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", false, 0
		}
		name = s[1:end]
		if optional = strings.HasPrefix(name, "?"); optional {
			name = name[1:]
		}
		for i := 0; i < len(name); i++ {
			if !isName(name[i]) {
				return "", false, 0
			}
		}
		if name == "" {
			return "", false, 0
		}
		return name, optional, end + 1
	}
	for n < len(s) && isName(s[n]) {
		n++
	}
	return s[:n], false, n
}
