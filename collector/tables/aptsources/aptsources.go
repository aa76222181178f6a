// Package aptsources is osquery's apt_sources table, reproduced from
// osquery/tables/system/linux/apt_sources.cpp: one-line `deb` entries of
// sources.list and sources.list.d/*.list, deb822 stanzas of *.sources, and
// — as osquery does — a row only for a source whose Release file apt has
// fetched into /var/lib/apt/lists (release, version, maintainer, components
// and architectures come from it).
package aptsources

import (
	"context"
	"path"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/lines"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Table is osquery's apt_sources (specs/linux/apt_sources.table).
func Table() *table.Table {
	return &table.Table{
		Name:        "apt_sources",
		Description: "APT repositories, as osquery's apt_sources lists them (only sources with a fetched Release file).",
		Columns: []table.Column{
			{Name: "name", Type: table.Text, Description: "Repository name"},
			{Name: "source", Type: table.Text, Description: "Source file"},
			{Name: "base_uri", Type: table.Text, Description: "Repository base URI"},
			{Name: "release", Type: table.Text, Description: "Release name"},
			{Name: "version", Type: table.Text, Description: "Repository source version"},
			{Name: "maintainer", Type: table.Text, Description: "Repository maintainer"},
			{Name: "components", Type: table.Text, Description: "Repository components"},
			{Name: "architectures", Type: table.Text, Description: "Repository architectures"},
			table.RootColumn,
		},
		Generate: table.PerRoot(rows),
	}
}

// split is osquery::split: on any of the delimiters, each piece trimmed,
// empty pieces dropped.
func split(s, delims string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Source is one repository entry.
type Source struct {
	Name, BaseURI string
	cache         []string
}

// ParseLine is parseAptSourceLine: "deb [options] URI suite ...".
func ParseLine(input string) (Source, bool) {
	line := input
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	i := strings.Index(line, "deb ")
	if i < 0 {
		return Source{}, false
	}
	tokens := split(line[i+4:], " ")
	if len(tokens) < 2 {
		return Source{}, false
	}
	off := 0
	if tokens[0][0] == '[' {
		for j := 0; j < len(tokens); j++ {
			if strings.Contains(tokens[j], "]") {
				off = j
				break
			}
		}
		off++
	}
	if off >= len(tokens) {
		return Source{}, false
	}
	host := strings.Index(tokens[off], "://")
	if host < 0 {
		return Source{}, false
	}
	uri := strings.TrimRight(tokens[off], "/")
	off++
	if off >= len(tokens) || len(uri) < host+3 {
		return Source{}, false
	}
	return newSource(uri, host, tokens[off]), true
}

func newSource(uri string, host int, suite string) Source {
	name := uri[host+3:]
	s := Source{Name: name + " " + suite, BaseURI: uri, cache: []string{name}}
	if parts := split(suite, "/"); len(parts) == 1 {
		s.cache = append(s.cache, "dists", suite)
	} else {
		s.cache = append(s.cache, parts...)
	}
	return s
}

// ParseDeb822 is parseDeb822Block: Types must include deb, Enabled other
// than "on" disables the stanza, URIs × Suites make the sources.
func ParseDeb822(block string) []Source {
	var uris, suites []string
	for _, input := range strings.Split(block, "\n") {
		if input == "" {
			continue
		}
		line := input
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value := strings.ToLower(k), strings.TrimSpace(v)
		if value == "" {
			continue
		}
		switch key {
		case "types":
			deb := false
			for _, t := range split(value, " \t\n") {
				deb = deb || t == "deb"
			}
			if !deb {
				return nil
			}
		case "enabled":
			if value != "on" {
				return nil
			}
		case "uris":
			for _, u := range split(value, " \t\n") {
				if strings.Contains(u, "://") {
					uris = append(uris, strings.TrimRight(u, "/"))
				}
			}
		case "suites":
			suites = append(suites, split(value, " \t\n")...)
		}
	}
	var out []Source
	for _, u := range uris {
		for _, s := range suites {
			out = append(out, newSource(u, strings.Index(u, "://"), s))
		}
	}
	return out
}

func rows(ctx context.Context, root string) ([]table.Row, error) {
	fs, err := fsroot.OpenContext(ctx, root)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	stop := func() error { return table.Check(ctx) }
	rel := &releases{fs: fs, facts: map[string]table.Row{}}
	var out []table.Row
	emit := func(file string, s Source) {
		if r := rel.row(file, s, root); r != nil {
			out = append(out, r)
		}
	}
	lists := []string{}
	if fs.Kind("/etc/apt/sources.list") != "" {
		lists = append(lists, "/etc/apt/sources.list")
	}
	lists = append(lists, glob(fs, "/etc/apt/sources.list.d", ".list")...)
	for _, f := range lists {
		eachLine(fs, f, stop, func(line string) {
			if s, ok := ParseLine(line); ok {
				emit(f, s)
			}
		})
	}
	for _, f := range glob(fs, "/etc/apt/sources.list.d", ".sources") {
		// stanzas are separated by an empty line
		var block strings.Builder
		flush := func() {
			for _, s := range ParseDeb822(block.String()) {
				emit(f, s)
			}
			block.Reset()
		}
		eachLine(fs, f, stop, func(line string) {
			if line == "" {
				flush()
				return
			}
			block.WriteString(line + "\n")
		})
		flush()
	}
	return out, table.Check(ctx)
}

// eachLine streams a file's lines; a file that cannot be read (to the
// end) is a problem the root records, and what was read counts.
func eachLine(fs *fsroot.Root, name string, stop func() error, fn func(string)) {
	f, err := fs.OpenFile(name)
	if err != nil {
		return
	}
	defer f.Close()
	lr := lines.New(f, stop)
	for {
		l, ok := lr.Next()
		if !ok {
			break
		}
		fn(l)
	}
	if err := lr.Err(); err != nil {
		fs.Report(name, err)
	}
}

// glob lists dir/*ext as osquery's % does: no hidden files, regular files.
func glob(fs *fsroot.Root, dir, ext string) []string {
	names, _ := fs.ReadDir(dir)
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if p := path.Join(dir, n); !strings.HasPrefix(n, ".") && strings.HasSuffix(n, ext) && fs.Kind(p) == "file" {
			out = append(out, p)
		}
	}
	return out
}

// releases reads the sources' Release (or InRelease) files from apt's
// lists, each once.
type releases struct {
	fs     *fsroot.Root
	names  []string
	listed bool
	facts  map[string]table.Row // by list-file prefix; nil for none
}

// row is the source's row; osquery makes none without a Release file.
func (rl *releases) row(file string, s Source, root string) table.Row {
	prefix := strings.ReplaceAll(strings.Join(s.cache, "_"), "/", "_") + "_"
	facts, ok := rl.facts[prefix]
	if !ok {
		facts = rl.read(prefix)
		rl.facts[prefix] = facts
	}
	if facts == nil {
		return nil
	}
	r := table.Row{"source": file, "base_uri": s.BaseURI, "name": s.Name, "root": root}
	for k, v := range facts {
		r[k] = v
	}
	return r
}

func (rl *releases) read(prefix string) table.Row {
	if !rl.listed {
		rl.names, _ = rl.fs.ReadDir("/var/lib/apt/lists")
		sort.Strings(rl.names)
		rl.listed = true
	}
	var release string
	for _, n := range rl.names {
		if strings.HasPrefix(n, prefix) && strings.HasSuffix(n, "Release") && !strings.HasPrefix(n, ".") {
			release = "/var/lib/apt/lists/" + n
			break
		}
	}
	if release == "" {
		return nil
	}
	data, err := rl.fs.ReadFile(release)
	if err != nil {
		return nil
	}
	r := table.Row{"release": "", "version": "", "maintainer": "", "components": "", "architectures": ""}
	for _, h := range strings.Split(string(data), "\n") {
		if h == "" {
			continue
		}
		if h == "-----BEGIN PGP SIGNATURE-----" {
			break
		}
		f := split(h, ":")
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "Codename":
			r["release"] = f[1]
		case "Version":
			r["version"] = f[1]
		case "Origin":
			r["maintainer"] = f[1]
		case "Components":
			r["components"] = f[1]
		case "Architectures":
			r["architectures"] = f[1]
		}
	}
	return r
}
