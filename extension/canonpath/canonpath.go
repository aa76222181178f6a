// Package canonpath names a file of a root as the kernel reaches it: its
// path with every symlink resolved inside the root, and the other names it
// has through the root's top-level directory links (merged /usr: /bin ->
// usr/bin, /lib -> usr/lib), under which a package database may list it.
package canonpath

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// maxHops is Linux's bound on symlinks followed in one lookup.
const maxHops = 40

// ErrLoop is a path that needs more links followed than Linux follows.
var ErrLoop = errors.New("symlink loop (more than 40 links)")

// Resolver resolves paths of one root, each directory once. It is not
// safe for concurrent use.
type Resolver struct {
	fs *fsroot.Root
	// dirs are the directories Dir resolved: a table names the same few
	// directories thousands of times
	dirs    map[string]canonical
	links   [][2]string // a top-level link and the directory it names
	linksOK bool
}

type canonical struct {
	dir string
	err error
}

// New returns a Resolver of the root fs.
func New(fs *fsroot.Root) *Resolver {
	return &Resolver{fs: fs, dirs: map[string]canonical{}}
}

// Walk is a path followed link by link inside the root.
type Walk struct {
	LastHop   string // the last name, a link no more (its directories may be)
	Canonical string // with every link resolved
	Kind      string // "file", "dir", "fifo", "device", "socket", "" when missing
	Err       error  // a loop, or an error other than a missing file
}

// Chain follows p as the kernel does: each link's target is read inside
// the root, relative ones from the link's real directory.
func (r *Resolver) Chain(p string) Walk {
	cur := path.Clean("/" + p)
	for hops := 0; ; hops++ {
		if hops > maxHops {
			return Walk{LastHop: cur, Err: ErrLoop}
		}
		dir, err := r.Dir(path.Dir(cur))
		if err != nil {
			return Walk{LastHop: cur, Canonical: path.Join(dir, path.Base(cur)), Err: err}
		}
		if cur == "/" {
			return Walk{LastHop: cur, Canonical: "/", Kind: "dir"}
		}
		canon := path.Join(dir, path.Base(cur))
		fi, err := r.fs.Lstat(canon)
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			return Walk{LastHop: cur, Canonical: canon}
		case err != nil:
			return Walk{LastHop: cur, Canonical: canon, Err: err}
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := r.fs.Readlink(canon)
			if err != nil {
				return Walk{LastHop: cur, Canonical: canon, Err: err}
			}
			if path.IsAbs(link) {
				cur = path.Clean(link)
			} else {
				cur = path.Join(dir, link)
			}
			continue
		}
		return Walk{LastHop: cur, Canonical: canon, Kind: r.fs.Kind(canon)}
	}
}

// Dir is a directory's name inside the root with every link on its way
// resolved, as the kernel resolves it (no host path is used). Where the
// directory does not exist, its deepest existing ancestor is resolved and
// the rest kept as written.
func (r *Resolver) Dir(dir string) (string, error) {
	dir = path.Clean("/" + dir)
	c, ok := r.dirs[dir]
	if !ok {
		c.dir, c.err = r.realDir(dir)
		r.dirs[dir] = c
	}
	return c.dir, c.err
}

// realDir is Dir without the memory of what it resolved.
func (r *Resolver) realDir(dir string) (string, error) {
	rest := ""
	for {
		canon, err := r.fs.Realpath(dir)
		switch {
		case err == nil:
			return path.Join(canon, rest), nil
		case !errors.Is(err, fs.ErrNotExist) || dir == "/":
			return path.Join(dir, rest), err
		}
		rest = path.Join(path.Base(dir), rest)
		dir = path.Dir(dir)
	}
}

// File is p with its directory resolved (Dir) and its last name kept: the
// name a package manager that resolves the directory part matches.
func (r *Resolver) File(p string) (string, error) {
	p = path.Clean("/" + p)
	if p == "/" {
		return p, nil
	}
	dir, err := r.Dir(path.Dir(p))
	return path.Join(dir, path.Base(p)), err
}

// Links are the root's top-level symlinks to directories (a link and the
// directory it resolves to), read once.
func (r *Resolver) Links() [][2]string {
	if r.linksOK {
		return r.links
	}
	r.linksOK = true
	ents, _ := r.fs.ReadDirEntries("/")
	for _, e := range ents {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		link := "/" + e.Name()
		c := r.Chain(link)
		if c.Kind == "dir" && c.Canonical != link {
			r.links = append(r.links, [2]string{link, c.Canonical})
		}
	}
	// in name order, not the directory's: the names tried come in the
	// same order on every root
	sort.Slice(r.links, func(i, j int) bool { return r.links[i][0] < r.links[j][0] })
	return r.links
}

// Aliases names p through the top-level links (/usr/bin/x is /bin/x when
// /bin -> usr/bin).
func (r *Resolver) Aliases(p string) []string {
	var out []string
	for _, a := range r.Links() {
		if strings.HasPrefix(p, a[1]+"/") {
			out = append(out, a[0]+p[len(a[1]):])
		}
	}
	return out
}

// Swapped names p through the top-level links both ways: its aliases,
// and the directory a link at its start names (/bin/x is /usr/bin/x). It
// only rewrites the string: no lookup is made.
func (r *Resolver) Swapped(p string) []string {
	out := r.Aliases(p)
	for _, a := range r.Links() {
		if strings.HasPrefix(p, a[0]+"/") {
			out = append(out, a[1]+p[len(a[0]):])
		}
	}
	return out
}
