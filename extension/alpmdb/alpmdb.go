// Package alpmdb reads pacman's local database (DBPath/local/<name>-<version>/
// desc and files, as libalpm's be_local.c writes them) far enough to say
// which installed package owns a file.
package alpmdb

import (
	"bufio"
	"bytes"
	"path"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// DefaultDBPath is pacman's compiled-in DBPath.
const DefaultDBPath = "/var/lib/pacman/"

// Owners maps the paths asked about (absolute, as seen inside the root)
// to the name of the installed package whose file list has them. Package
// directories whose files cannot be read are recorded as problems by fs
// and left out.
func Owners(fs *fsroot.Root, dbPath string, paths []string) map[string]string {
	want := map[string]bool{}
	for _, p := range paths {
		want[strings.TrimPrefix(path.Clean("/"+p), "/")] = true
	}
	out := map[string]string{}
	local := path.Join("/", dbPath, "local")
	if fs.Kind(local) != "dir" || len(want) == 0 {
		return out
	}
	dirs, _ := fs.ReadDir(local)
	sort.Strings(dirs)
	for _, d := range dirs {
		files, err := fs.ReadFile(path.Join(local, d, "files"))
		if err != nil {
			continue
		}
		var name string
		for _, f := range section(files, "%FILES%") {
			if want[f] {
				if name == "" {
					name = packageName(fs, path.Join(local, d, "desc"), d)
				}
				out["/"+f] = name
			}
		}
	}
	return out
}

// section returns the lines of a %SECTION% block of a desc or files
// file: the lines after its header up to the next empty line.
func section(data []byte, header string) []string {
	var out []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == header:
			in = true
		case line == "":
			in = false
		case in:
			out = append(out, line)
		}
	}
	return out
}

// packageName is the %NAME% of desc, or the directory name without its
// version and release when desc cannot say.
func packageName(fs *fsroot.Root, desc, dir string) string {
	if data, err := fs.ReadFile(desc); err == nil {
		if n := section(data, "%NAME%"); len(n) > 0 {
			return n[0]
		}
	}
	parts := strings.Split(dir, "-")
	if len(parts) > 2 {
		return strings.Join(parts[:len(parts)-2], "-")
	}
	return dir
}
