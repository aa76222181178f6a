// Package rpmmacros is the rpm_macros table: every macro definition in the
// files of rpm's macro path, with whether rpm loads the file, whether the
// definition is the one rpm uses, and what in its value runs code.
package rpmmacros

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/rpmmacro"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Table returns the rpm_macros table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "rpm_macros",
		Description: "Every macro definition in the files on rpm's macro path (rpm 4.18: /usr/lib/rpm/macros, macros.d/macros.*, platform/<target>/macros, fileattrs/*.attr, <vendor>/macros, /etc/rpm/macros.*, /etc/rpm/macros, /etc/rpm/<target>/macros, then the user's file of every home in /etc/passwd: ~/.rpmmacros, or for rpm 4.19.90 (4.20) and later ~/.config/rpm/macros when ~/.config/rpm exists, the rpm version being that of the package owning librpm (or /usr/bin/rpm) in dpkg's or rpm's database), read as rpm reads them, with the definition rpm uses marked effective and flags for values that run code when expanded; files in those directories that rpm does not load, and lines rpm rejects, are rows with the reason.",
		Columns: provenance.FileColumns([]table.Column{
			{Name: "path", Type: table.Text, Description: "The macro file, as seen inside the root"},
			{Name: "line", Type: table.Integer, Description: "Line where the definition starts"},
			{Name: "name", Type: table.Text, Description: "Macro name, without `%`"},
			{Name: "options", Type: table.Text, Description: "getopt options of a parametric macro (`%name(opts) body`)"},
			{Name: "parametric", Type: table.Integer, Description: "1 for a parametric macro (`%name(…)`, options may be empty)"},
			{Name: "value", Type: table.Text, Description: "The body as rpm stores it, unexpanded (rpm expands it only when the macro is used): continuation lines joined with their newlines, backslashes of a free-field body removed"},
			{Name: "loaded", Type: table.Integer, Description: "1 when rpm loads the file (it is on the macro path); 0 for files beside them rpm skips: another target's platform, another vendor, `macros.d` names not matching `macros.*`, `.rpmnew`/`.rpmsave`/`.rpmorig`, the user file the root's rpm version does not read (`~/.rpmmacros` beside an existing `~/.config/rpm` for rpm 4.19.90 and later, `~/.config/rpm/macros` before). When no package database owns librpm or /usr/bin/rpm (version unknown) and `~/.config/rpm` exists, both user files are loaded = 1, the reason saying which versions read each"},
			{Name: "effective", Type: table.Integer, Description: "1 for the definition rpm uses: the last one loaded wins (a macro file cannot `%undefine`: rpm rejects `%define`/`%global`/`%undefine` lines there as built-ins). For files of the system, as rpm run by root loads them (root's user file last: rpm run by root from a service or sudo has no XDG_CONFIG_HOME, so ~/.config); for another user's file, as rpm run by that user does (the file is last on the path, so its last definition of a name wins). When rpm's version is unknown and both user files may be the one read, each is evaluated alone and the system files without it"},
			{Name: "reason", Type: table.Text, Description: "Why the definition is not effective: redefined later (where), rpm's error for a line it rejects, a file rpm does not load (for a user file, the rpm version and the package database that says it), a macro rpm replaces after loading (`_target`, `_target_cpu`, `_target_os`, `optflags`), a file that cannot be read; for a user file loaded while rpm's version is unknown, also on effective rows, which rpm versions read it"},
			{Name: "shell", Type: table.Integer, Description: "1 when the value has a shell expansion `%( … )`: rpm runs it with /bin/sh whenever the macro is expanded; also one escaped as `%%(` where the value expands it twice (`%{expand:…}`, `%global`, a built-in called `%name:arg`, `%name arg` or in braces), there or in a macro such an expand names"},
			{Name: "lua", Type: table.Integer, Description: "1 when the value has embedded Lua (`%{lua: …}`), run inside rpm whenever the macro is expanded"},
			{Name: "loads", Type: table.Integer, Description: "1 when the value loads a macro file (`%{load: …}`) whenever the macro is expanded: what that file defines, and the shell or Lua it runs, comes from outside rpm's macro path"},
			{Name: "category", Type: table.Text, Description: "`plugin` for `%__transaction_<name>` (the shared object rpm loads into every transaction) and `%__plugindir`; `tmppath` for `%_tmppath`; `''` otherwise"},
			{Name: "users", Type: table.Text, Description: "For a user's file (~/.rpmmacros, ~/.config/rpm/macros), the users (of /etc/passwd) whose home it is, comma-separated; `''` for system files"},
		}, "the file", false),
		Generate: table.PerRoot(Rows),
	}
}

// Macro is one row before rendering.
type Macro struct {
	Path string
	rpmmacro.Def
	Loaded    bool
	Effective bool
	Reason    string
	Users     []string
	// Other marks another user's macro file: not what rpm run by root
	// uses.
	Other bool
}

// File is one macro file as read.
type File struct {
	path    string
	defs    []rpmmacro.Def
	failed  string // why it could not be read to the end
	digests *fsroot.Digests
	facts   *fsroot.Facts
	users   []string // for a user's macro file, whose home it is
}

// replacedAfterLoad are the macros rpmReadConfigFiles pops and pushes
// again after the macro files (rpmRebuildTargetVars): a file's definition
// of them never counts.
var replacedAfterLoad = map[string]bool{"_target": true, "_target_cpu": true, "_target_os": true}

// Evaluate reads every macro file of the root's macro path, and the files
// beside them rpm does not load, within ctx's time; it returns the rows,
// the files read and rpm's %{_target}.
func Evaluate(ctx context.Context, fs *fsroot.Root) ([]Macro, []*File, string) {
	tgt := target(fs)
	ven, vendorDirs := vendor(fs)
	hs := homes(fs)
	var out []Macro
	var files []*File
	read := func(p string) *File {
		f := readFile(ctx, fs, p)
		files = append(files, f)
		return f
	}
	ver := installedRPM(ctx, fs)
	// the system's files and root's user file, in load order
	var loaded []*File
	var rootFiles []userFile
	var rootRC, rootUsers []string
	for _, h := range hs {
		if h.root {
			rootFiles, rootRC = userMacros(fs, h.dir, ver)
			rootUsers = h.users
			break
		}
	}
	for _, e := range macroPath(tgt, ven) {
		if e.home {
			for _, u := range rootFiles {
				if u.loaded && !u.alone {
					f := read(u.path)
					f.users = rootUsers
					loaded = append(loaded, f)
				}
			}
			continue
		}
		// rpmGlob is glob(3) with LC_COLLATE=C (byte-wise order); a
		// pattern that matches nothing is no file
		paths, literal := fs.Glob(e.pattern)
		for _, p := range paths {
			switch k := fs.Kind(p); {
			case skippedSuffix(p) != "", k == "dir":
				continue
			case k == "" && literal:
				continue // rpm's fopen fails, silently, on a file that is not there
			}
			loaded = append(loaded, read(p))
		}
	}
	out = append(out, effective(loaded, rpmrcOptflags(fs, tgt, ven, rootRC))...)
	// the user files not on root's path above: other users', each loaded
	// last by its users' rpm; those rpm may not read; root's when rpm's
	// version leaves which one open
	for _, h := range hs {
		files := rootFiles
		if !h.root {
			files, _ = userMacros(fs, h.dir, ver)
		}
		for _, u := range files {
			if u.loaded && !u.alone && h.root {
				continue
			}
			f := read(u.path)
			f.users = h.users
			if !u.loaded {
				for _, m := range rows(f) {
					m.Reason = joinReason(u.reason, m.Reason)
					out = append(out, m)
				}
				continue
			}
			for _, m := range effective([]*File{f}, "") {
				m.Other = !h.root
				if u.reason != "" {
					m.Reason = joinReason(u.reason, m.Reason)
				}
				out = append(out, m)
			}
		}
	}
	// what rpm does not load
	for _, s := range skipped(fs, tgt, ven, vendorDirs) {
		f := read(s.path)
		for _, m := range rows(f) {
			m.Reason = joinReason(s.reason, m.Reason)
			out = append(out, m)
		}
	}
	return out, files, tgt
}

// readFile reads one macro file to the end, or says why not.
func readFile(ctx context.Context, fs *fsroot.Root, p string) *File {
	f := &File{path: p}
	fh, err := fs.OpenFile(p)
	if err != nil {
		f.failed = "cannot be read: " + err.Error()
		return f
	}
	defer fh.Close()
	r := rpmmacro.NewReader(fh)
	for n := 0; ; n++ {
		if n%256 == 0 && ctx.Err() != nil {
			f.failed = "not read to the end: " + ctx.Err().Error()
			fs.Report(p, fmt.Errorf("not read to the end: %w", ctx.Err()))
			break
		}
		d, ok := r.Next()
		if !ok {
			break
		}
		f.defs = append(f.defs, d)
	}
	if r.Err() != nil && f.failed == "" {
		f.failed = "not read to the end: " + r.Err().Error()
	}
	if d, ok := fh.Digests(); ok {
		f.digests = &d
	}
	facts := fh.Facts()
	f.facts = &facts
	return f
}

// rows are a file's definitions, none effective yet, and a row for a file
// rpm cannot read (or read to the end).
func rows(f *File) []Macro {
	var out []Macro
	for _, d := range f.defs {
		m := Macro{Path: f.path, Def: d, Users: f.users}
		if d.Err != "" {
			m.Reason = "rpm defines nothing from this line: " + d.Err
		}
		out = append(out, m)
	}
	if f.failed != "" {
		out = append(out, Macro{Path: f.path, Reason: f.failed + " (rpm reads it; what it defines is unknown)", Users: f.users})
	}
	return out
}

// effective marks, over files in load order, the definition rpm uses for
// each name: the last one pushed (pushMacro), except the macros rpm
// replaces after loading and loadMacroFile's own __file_name and
// __file_lineno, which it pops at the end of each file and line.
func effective(files []*File, optflags string) []Macro {
	var out []Macro
	last := map[string]int{}
	for _, f := range files {
		for _, m := range rows(f) {
			m.Loaded = true
			if m.Err == "" && m.Name != "" {
				last[m.Name] = len(out)
			}
			out = append(out, m)
		}
	}
	for name, i := range last {
		m := &out[i]
		switch {
		case replacedAfterLoad[name]:
			m.Reason = "rpm replaces it after loading the macro files with the target it computes (rpmRebuildTargetVars)"
		case name == "optflags" && optflags != "":
			m.Reason = "rpm replaces it after loading the macro files with optflags of " + optflags
		case name == "__file_name" || name == "__file_lineno":
			m.Reason = "rpm pops it when the line or file that sets it ends (loadMacroFile)"
		default:
			m.Effective = true
		}
	}
	for i := range out {
		m := &out[i]
		if m.Err != "" || m.Name == "" || last[m.Name] == i {
			continue
		}
		l := out[last[m.Name]]
		m.Reason = "redefined at " + l.Path + ":" + strconv.Itoa(l.Line)
	}
	return out
}

// skippedFile is a file beside the macro path's that rpm does not load.
type skippedFile struct{ path, reason string }

// skipped lists the files in the macro path's directories that rpm does
// not load: other targets' and vendors' macros, macros.d files whose name
// does not match, files with the suffixes rpm skips.
func skipped(fs *fsroot.Root, tgt, ven string, vendorDirs []string) []skippedFile {
	var out []skippedFile
	for _, d := range []struct{ dir, pattern string }{
		{configDir + "/macros.d", "macros.*"},
		{configDir + "/fileattrs", "*.attr"},
		{sysconfig + "/rpm", "macros.*"},
	} {
		names, _ := fs.ReadDir(d.dir)
		for _, n := range sorted(names) {
			p := d.dir + "/" + n
			if fs.Kind(p) == "dir" {
				continue
			}
			ok, _ := path.Match(d.pattern, n)
			switch {
			case ok && strings.HasPrefix(n, ".") && !strings.HasPrefix(d.pattern, "."):
				out = append(out, skippedFile{p, "not loaded: rpm's glob " + d.dir + "/" + d.pattern + " does not match a name starting with '.'"})
			case ok && skippedSuffix(n) != "":
				out = append(out, skippedFile{p, "not loaded: rpm skips " + skippedSuffix(n) + " files"})
			case !ok && d.dir == configDir+"/macros.d":
				out = append(out, skippedFile{p, "not loaded: rpm loads only " + d.dir + "/" + d.pattern})
			}
		}
	}
	for _, d := range []string{configDir + "/platform", sysconfig + "/rpm"} {
		names, _ := fs.ReadDir(d)
		for _, n := range sorted(names) {
			p := d + "/" + n + "/macros"
			if n == tgt || fs.Kind(d+"/"+n) != "dir" || fs.Kind(p) == "" {
				continue
			}
			out = append(out, skippedFile{p, "not loaded: rpm loads the macros of its target " + tgt + " only"})
		}
	}
	for _, v := range vendorDirs {
		if v == ven {
			continue
		}
		why := "not loaded: rpm here is built for vendor " + ven
		if ven == "" {
			why = "not loaded unless rpm is built for vendor " + v + " (the vendor is not known: several vendor directories and no known /etc/os-release ID)"
		}
		out = append(out, skippedFile{configDir + "/" + v + "/macros", why})
	}
	return out
}

func sorted(names []string) []string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	return s
}

func joinReason(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

// Flags are what a value runs when rpm expands it.
type Flags struct{ Shell, Lua, Load bool }

// maxReexpand bounds the passes followed through re-expanding built-ins.
const maxReexpand = 8

// call is the built-in a `%` at body[i] calls, if any: rpm 4.18
// (rpmio/macro.c expandMacro, lookupBuiltin) takes `%name:arg` and
// `%name arg` (a blank, not a tab), with or without braces, and `%(…)`.
func call(body string, i int) string {
	rest := body[i+1:]
	if strings.HasPrefix(rest, "(") {
		return "("
	}
	rest = strings.TrimPrefix(rest, "{")
	for _, b := range []string{"expand", "global", "load", "lua"} {
		if after, ok := strings.CutPrefix(rest, b); ok && (strings.HasPrefix(after, ":") || strings.HasPrefix(after, " ")) {
			return b
		}
	}
	return ""
}

// percents lists the positions of the `%` that start a macro in body:
// `%%` is a literal percent sign and starts none.
func percents(body string) []int {
	var out []int
	for i := 0; i+1 < len(body); i++ {
		if body[i] != '%' {
			continue
		}
		if body[i+1] == '%' {
			i++
			continue
		}
		out = append(out, i)
	}
	return out
}

// calls lists the built-ins body calls.
func calls(body string) []string {
	var out []string
	for _, i := range percents(body) {
		if c := call(body, i); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// reexpansions counts the built-ins that expand their result once more:
// %{expand:…} (doExpand) and %global (doDefine expands a global's body).
// %define does not expand its body, so an escaped %%( in it stays text.
func reexpansions(body string) int {
	n := 0
	for _, c := range calls(body) {
		if c == "expand" || c == "global" {
			n++
		}
	}
	return n
}

// passes are the texts rpm expands when it expands body: body itself,
// then, for each re-expanding built-in, the text once more with each %%
// made % (nested ones count as they appear: an escaped %%{expand:…}
// becomes one on the pass that unescapes it).
func passes(body string) []string {
	out := []string{body}
	for done := 0; done < maxReexpand && reexpansions(body) > done; done++ {
		body = strings.ReplaceAll(body, "%%", "%")
		out = append(out, body)
	}
	return out
}

// FlagsOf reports what a body runs when rpm expands it: a shell for
// `%(`, Lua for the lua built-in, a macro file for load, on every pass.
func FlagsOf(body string) Flags {
	var f Flags
	for _, p := range passes(body) {
		for _, c := range calls(p) {
			switch c {
			case "(":
				f.Shell = true
			case "lua":
				f.Lua = true
			case "load":
				f.Load = true
			}
		}
	}
	return f
}

// texts are body and, for the macros a re-expanding built-in of body
// names, their bodies as that built-in expands them: with %A %%(cmd) and
// %B %{expand:%A}, expanding %B runs cmd although neither body holds an
// unescaped %( (rpm 4.18).
func texts(body string, m *Macros) []string {
	out := []string{body}
	seen := map[string]bool{}
	var walk func(string, int)
	walk = func(b string, depth int) {
		if depth == 0 || reexpansions(b) == 0 {
			return
		}
		for _, n := range refs(b) {
			d, ok := m.Lookup(n)
			if !ok || seen[n] {
				continue
			}
			seen[n] = true
			t := "%{expand:" + d.Body + "}"
			out = append(out, t)
			walk(t, depth-1)
		}
	}
	walk(body, maxReexpand)
	return out
}

// FlagsWith is FlagsOf over texts: what expanding body runs, through the
// macros it re-expands too.
func FlagsWith(body string, m *Macros) Flags {
	var f Flags
	for _, t := range texts(body, m) {
		g := FlagsOf(t)
		f = Flags{Shell: f.Shell || g.Shell, Lua: f.Lua || g.Lua, Load: f.Load || g.Load}
	}
	return f
}

// ShellCommandsWith is ShellCommands over texts.
func ShellCommandsWith(body string, m *Macros) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range texts(body, m) {
		for _, c := range ShellCommands(t) {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// refs lists the macro names body refers to (%name, %{name}, %{?name…},
// %{!?name…}).
func refs(body string) []string {
	var out []string
	for _, i := range percents(body) {
		j := i + 1
		if body[j] == '{' {
			j++
		}
		for j < len(body) && (body[j] == '?' || body[j] == '!') {
			j++
		}
		k := j
		for k < len(body) && (body[k] == '_' || 'a' <= body[k]|0x20 && body[k]|0x20 <= 'z' || k > j && '0' <= body[k] && body[k] <= '9') {
			k++
		}
		if k > j {
			out = append(out, body[j:k])
		}
	}
	return out
}

// ShellCommands are the texts rpm hands to the shell when it expands
// body: what is between the parentheses of each `%( … )`, the end found
// as rpm finds it (rpmio/macro.c expandMacro: matchchar), outer ones and
// those nested in them or in `%{…}` alike (each is run when rpm expands
// the text around it), in each pass rpm makes over it. An unterminated
// `%(` runs nothing: rpm stops with "Unterminated (".
func ShellCommands(body string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range passes(body) {
		for _, i := range percents(p) {
			if p[i+1] != '(' {
				continue
			}
			if end := rpmmacro.MatchChar(p[i+1:], '(', ')'); end > 0 && !seen[p[i+2:i+end]] {
				seen[p[i+2:i+end]] = true
				out = append(out, p[i+2:i+end])
			}
		}
	}
	return out
}

// Category classes a macro name by what rpm does with it.
func Category(name string) string {
	switch {
	case strings.HasPrefix(name, "__transaction_"), name == "__plugindir":
		return "plugin"
	case name == "_tmppath":
		return "tmppath"
	}
	return ""
}

// Rows evaluates one root.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	return provenance.RootRows(ctx, root, Table().Columns, func(rctx context.Context, fs *fsroot.Root) []provenance.Item {
		macros, files, tgt := Evaluate(rctx, fs)
		defined := Defined(macros, tgt)
		byPath := map[string]*File{}
		for _, f := range files {
			byPath[f.path] = f
		}
		items := make([]provenance.Item, len(macros))
		for i, m := range macros {
			fl := FlagsWith(m.Body, defined)
			f := byPath[m.Path]
			items[i] = provenance.Item{Path: m.Path, Digests: f.digests, Facts: f.facts, Unread: f.failed != "", Row: table.Row{
				"path": m.Path, "line": strconv.Itoa(m.Line), "name": m.Name, "options": m.Opts,
				"parametric": table.Bool(m.Parametric), "value": m.Body, "loaded": table.Bool(m.Loaded),
				"effective": table.Bool(m.Effective), "reason": m.Reason, "shell": table.Bool(fl.Shell),
				"lua": table.Bool(fl.Lua), "loads": table.Bool(fl.Load), "category": Category(m.Name), "users": strings.Join(m.Users, ","),
				"root": root}}
		}
		return items
	})
}
