// Package yumsources is osquery's yum_sources table, reproduced from
// osquery/tables/system/linux/yum_sources.cpp: the repository sections of
// /etc/yum.conf (or /etc/dnf/dnf.conf without it) and of <reposdir>/*.repo
// (reposdir from that file's [main], default /etc/yum.repos.d), each file read with boost's INI parser, whose
// errors make osquery skip the whole file.
package yumsources

import (
	"context"
	"errors"
	"path"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Table is osquery's yum_sources (specs/linux/yum_sources.table and the
// source and metalink columns its implementation fills).
func Table() *table.Table {
	return &table.Table{
		Name:        "yum_sources",
		Description: "Yum repositories, as osquery's yum_sources lists them.",
		Columns: []table.Column{
			{Name: "name", Type: table.Text, Description: "Repository name"},
			{Name: "baseurl", Type: table.Text, Description: "Repository base URL"},
			{Name: "metalink", Type: table.Text, Description: "Metalink URL"},
			{Name: "mirrorlist", Type: table.Text, Description: "Mirrorlist URL"},
			{Name: "enabled", Type: table.Text, Description: "Whether the repository is used"},
			{Name: "gpgcheck", Type: table.Text, Description: "Whether packages are GPG checked"},
			{Name: "gpgkey", Type: table.Text, Description: "URL to GPG key"},
			{Name: "source", Type: table.Text, Description: "Source file"},
			table.RootColumn,
		},
		Generate: table.PerRoot(rows),
	}
}

type section struct {
	name string
	keys [][2]string
}

var errINI = errors.New("not INI")

// ParseINI is boost::property_tree::ini_parser::read_ini: trimmed lines,
// ';' and '#' comments, [section], key=value; a line without '=', a key
// before any section, or a duplicate section or key is an error.
func ParseINI(data []byte) ([]section, error) {
	var out []section
	seen := map[string]bool{}
	for _, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, errINI
			}
			name := strings.TrimSpace(line[1:end])
			if seen[name] {
				return nil, errINI
			}
			seen[name] = true
			out = append(out, section{name: name})
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || len(out) == 0 {
			return nil, errINI
		}
		s := &out[len(out)-1]
		for _, kv := range s.keys {
			if kv[0] == k {
				return nil, errINI
			}
		}
		s.keys = append(s.keys, [2]string{k, strings.TrimSpace(v)})
	}
	return out, nil
}

var columns = []string{"baseurl", "enabled", "gpgcheck", "name", "gpgkey", "mirrorlist", "metalink"}

func rows(ctx context.Context, root string) ([]table.Row, error) {
	fs, err := fsroot.OpenContext(ctx, root)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	var out []table.Row
	reposDir := "/etc/yum.repos.d"
	read := func(file string, conf bool) {
		data, err := fs.ReadFile(file)
		if err != nil {
			return
		}
		secs, err := ParseINI(data)
		if err != nil {
			return
		}
		for _, s := range secs {
			if s.name == "main" {
				if conf {
					for _, kv := range s.keys {
						if kv[0] == "reposdir" {
							reposDir = kv[1]
						}
					}
				}
				continue
			}
			r := table.Row{"source": file, "root": root}
			for _, c := range columns {
				r[c] = ""
			}
			for _, kv := range s.keys {
				for _, c := range columns {
					if kv[0] == c {
						r[c] = kv[1]
					}
				}
			}
			out = append(out, r)
		}
	}
	// osquery reads /etc/yum.conf; on DNF systems that is a link to
	// dnf.conf, which is read directly when the link is missing
	conf := "/etc/yum.conf"
	if fs.Kind(conf) != "file" && fs.Kind("/etc/dnf/dnf.conf") == "file" {
		conf = "/etc/dnf/dnf.conf"
	}
	read(conf, true)
	names, _ := fs.ReadDir(reposDir)
	sort.Strings(names)
	for _, n := range names {
		if p := path.Join(reposDir, n); !strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".repo") && fs.Kind(p) == "file" {
			read(p, false)
		}
	}
	return out, table.Check(ctx)
}
