// Package file is osquery's file table (specs/utility/file.table) over a
// root, with osquery's pattern semantics for `path LIKE` and `directory`
// (osquery/filesystem/filesystem.cpp replaceGlobWildcards, genGlobs): '%'
// becomes the glob '*', which matches within one path segment and not names
// starting with '.'; a trailing '%%' lists everything below, level by level;
// directories come back with a trailing '/'. The engine then applies the
// LIKE itself, as SQLite does after osquery.
package file

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Limits: osquery stops recursive globs at 64 levels (kMaxRecursiveGlobs);
// MaxPaths bounds one query's expansion.
const (
	MaxDepth      = 64
	MaxPaths      = 2_000_000
	MaxDirEntries = 1_000_000
)

var both = []table.Operator{table.Equals, table.Like}

// Table is the file table.
func Table() *table.Table {
	return &table.Table{
		Name:        "file",
		Description: "Filesystem attributes of the paths a query names (`path` = or LIKE, `directory` = or LIKE), as osquery's file table, inside the root.",
		Required:    []string{"path", "directory"},
		Columns: []table.Column{
			{Name: "path", Type: table.Text, Operators: both, Description: "Absolute file path (directories from a pattern end in '/')"},
			{Name: "directory", Type: table.Text, Operators: both, Description: "Directory of file(s)"},
			{Name: "filename", Type: table.Text, Description: "Name portion of file path"},
			{Name: "inode", Type: table.BigInt, Description: "Filesystem inode number"},
			{Name: "uid", Type: table.BigInt, Description: "Owning user ID"},
			{Name: "gid", Type: table.BigInt, Description: "Owning group ID"},
			{Name: "mode", Type: table.Text, Description: "Permission bits"},
			{Name: "device", Type: table.BigInt, Description: "Device ID (optional)"},
			{Name: "size", Type: table.BigInt, Description: "Size of file in bytes"},
			{Name: "block_size", Type: table.Integer, Description: "Block size of filesystem"},
			{Name: "atime", Type: table.BigInt, Description: "Last access time"},
			{Name: "mtime", Type: table.BigInt, Description: "Last modification time"},
			{Name: "ctime", Type: table.BigInt, Description: "Last status change time"},
			{Name: "btime", Type: table.BigInt, Description: "(B)irth or (cr)eate time (0: not available)"},
			{Name: "hard_links", Type: table.Integer, Description: "Number of hard links"},
			{Name: "symlink", Type: table.Integer, Description: "1 if the path is a symlink, otherwise 0"},
			{Name: "type", Type: table.Text, Description: "File status"},
			table.RootColumn,
		},
		Generate: table.Collect(Stream),
		Stream:   Stream,
	}
}

// target is one path to describe and the directory value its row carries;
// in, when set, is the open directory the path was listed from, and name
// its entry there.
type target struct {
	path, dir string
	in        *fsroot.Dir
	name      string
}

// Stream is the table's rows, one at a time: it reads the path and
// directory constraints as well as the root. A directory's entries are
// described while it is open, after one listing of it; what the rows
// hold is handed on, not kept.
func Stream(ctx context.Context, q table.QueryContext, emit func(table.Row) error) error {
	for _, root := range table.Roots(q) {
		r, err := fsroot.OpenContext(ctx, root)
		if err != nil {
			return err
		}
		err = stream(ctx, q, r, root, emit)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Generate is the table's rows, in one slice.
func Generate(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
	return table.Collect(Stream)(ctx, q)
}

// stream is one root's rows.
func stream(ctx context.Context, q table.QueryContext, r *fsroot.Root, root string, emit func(table.Row) error) error {
	r.MaxDirEntries = MaxDirEntries
	g := &globber{fs: r, ctx: ctx}
	// a path is described once, though two constraints name it; one
	// constraint names each path once
	var seen map[[2]string]bool
	if len(q.Constraints["path"])+len(q.Constraints["directory"]) > 1 {
		seen = map[[2]string]bool{}
	}
	n := 0
	found := func(t target) error {
		if n++; n%4096 == 0 {
			if err := table.Check(ctx); err != nil {
				return err
			}
		}
		if seen != nil {
			k := [2]string{t.path, t.dir}
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		row := g.describe(t)
		if row == nil {
			return nil
		}
		row["root"] = root
		return emit(row)
	}
	for _, c := range q.Constraints["path"] {
		switch c.Op {
		case table.Equals:
			if err := found(target{path: c.Expr, dir: parent(c.Expr)}); err != nil {
				return err
			}
		case table.Like:
			if err := g.expand(c.Expr, true, func(t target) error {
				t.dir = parent(t.path)
				return found(t)
			}); err != nil {
				return err
			}
		}
	}
	for _, c := range q.Constraints["directory"] {
		children := func(d string) error {
			return g.list(strings.TrimSuffix(d, "/"), func(t target) error {
				t.dir = d
				return found(t)
			})
		}
		if c.Op != table.Like {
			if err := children(c.Expr); err != nil {
				return err
			}
			continue
		}
		var dirs []string
		if err := g.expand(c.Expr, false, func(t target) error {
			dirs = append(dirs, t.path)
			return nil
		}); err != nil {
			return err
		}
		for _, d := range dirs {
			if err := children(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// parent is boost's parent_path: "/etc/apt/" -> "/etc/apt", "/etc/x" -> "/etc".
func parent(p string) string {
	if strings.HasSuffix(p, "/") && len(p) > 1 {
		return strings.TrimSuffix(p, "/")
	}
	d := path.Dir(p)
	return d
}

// filename is boost's filename: "." for a path ending in '/'.
func filename(p string) string {
	if strings.HasSuffix(p, "/") {
		if p == "/" {
			return "/"
		}
		return "."
	}
	return path.Base(p)
}

type globber struct {
	fs    *fsroot.Root
	ctx   context.Context
	count int
}

// expand resolves a LIKE pattern to paths, handed to found in order;
// files false keeps directories only (osquery's GLOB_FOLDERS for
// directory LIKE). A recursive pattern is expanded level by level, as
// osquery does: each level's paths before the next level's.
func (g *globber) expand(like string, files bool, found func(target) error) error {
	pat := strings.ReplaceAll(like, "%", "*")
	if !strings.HasPrefix(pat, "/") {
		pat = "/" + pat
	}
	recursive := false
	trimmed := strings.TrimSuffix(pat, "/")
	if strings.HasSuffix(trimmed, "**") {
		recursive = true
		pat = strings.TrimSuffix(trimmed, "*")
	}
	segs := strings.Split(strings.Trim(pat, "/"), "/")
	// level is the directories of the last level, for the next one
	var level []string
	keep := func(t target) error {
		dir := strings.HasSuffix(t.path, "/")
		if recursive && dir {
			level = append(level, t.path)
		}
		if !files && !dir {
			return nil
		}
		return found(t)
	}
	if err := g.walk("/", segs, keep); err != nil {
		return err
	}
	for depth := 1; recursive && depth < MaxDepth && len(level) > 0; depth++ {
		this := level
		level = nil
		for _, p := range this {
			if g.isLink(p) {
				continue
			}
			if err := g.list(strings.TrimSuffix(p, "/"), keep); err != nil {
				return err
			}
		}
	}
	return nil
}

// walk matches the remaining segments below dir. The last segment's
// matches are listed with their directory open (see list).
func (g *globber) walk(dir string, segs []string, found func(target) error) error {
	if err := g.ctx.Err(); err != nil {
		return fmt.Errorf("file: stopped: %w", err)
	}
	if len(segs) == 0 || (len(segs) == 1 && segs[0] == "") {
		if dir != "/" {
			return found(target{path: g.mark(dir)})
		}
		return nil
	}
	seg := segs[0]
	if !strings.ContainsAny(seg, "*?[") {
		p := path.Join(dir, seg)
		if g.fs.Kind(p) == "" && !g.isLink(p) {
			return nil
		}
		if len(segs) > 1 && g.fs.Kind(p) != "dir" {
			return nil
		}
		return g.walk(p, segs[1:], found)
	}
	if len(segs) == 1 {
		return g.entries(dir, func(n string) bool {
			ok, _ := path.Match(seg, n)
			return ok && (!strings.HasPrefix(n, ".") || strings.HasPrefix(seg, "."))
		}, false, found)
	}
	names, err := g.fs.ReadDir(dir)
	if err != nil && len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasPrefix(n, ".") && !strings.HasPrefix(seg, ".") {
			continue
		}
		if ok, _ := path.Match(seg, n); !ok {
			continue
		}
		p := path.Join(dir, n)
		if g.fs.Kind(p) != "dir" {
			continue
		}
		if err := g.walk(p, segs[1:], found); err != nil {
			return err
		}
	}
	return nil
}

// list is dir/* with GLOB_MARK: children (no dotfiles), directories
// marked, counted against MaxPaths.
func (g *globber) list(dir string, found func(target) error) error {
	return g.entries(dir, func(n string) bool { return !strings.HasPrefix(n, ".") }, true, found)
}

// entries hands found the entries of dir that match, sorted, directories
// marked, each with dir held open so that describing it is one fstatat.
// Entry types come from the directory listing; only symlinks are stat'ed,
// to see whether they point to a directory.
func (g *globber) entries(dir string, match func(string) bool, count bool, found func(target) error) error {
	if dir == "" {
		dir = "/"
	}
	d, err := g.fs.OpenDir(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	ents, err := d.List()
	if err != nil && len(ents) == 0 {
		return nil
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
	for _, e := range ents {
		n := e.Name
		if !match(n) {
			continue
		}
		if count {
			g.count++
			if g.count > MaxPaths {
				return fmt.Errorf("file: more than %d paths; narrow the pattern", MaxPaths)
			}
			if g.count%4096 == 0 {
				if err := g.ctx.Err(); err != nil {
					return fmt.Errorf("file: stopped: %w", err)
				}
			}
		}
		p := path.Join(dir, n)
		switch {
		case e.Type.IsDir():
			p += "/"
		case e.Type&fs.ModeSymlink != 0 || e.Type&fs.ModeType == fs.ModeIrregular:
			p = g.mark(p)
		}
		if err := found(target{path: p, in: d, name: n}); err != nil {
			return err
		}
	}
	return nil
}

func (g *globber) mark(p string) string {
	if g.fs.Kind(p) == "dir" {
		return p + "/"
	}
	return p
}

func (g *globber) isLink(p string) bool {
	fi, err := g.fs.Lstat(strings.TrimSuffix(p, "/"))
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// describe is osquery's genFileInfo: lstat for the symlink flag, stat
// (following links) for the rest, lstat's when the link dangles. Both are
// the root's own, race-free lookups: ".." stops at the root, so "/.." is
// the root itself, as "/.." is "/" to osquery on a host; the row keeps the
// path it was asked for, which the constraint is matched against. A
// listed entry is lstat'ed in its open directory.
func (g *globber) describe(t target) table.Row {
	clean := strings.TrimSuffix(t.path, "/")
	if clean == "" {
		clean = "/"
	}
	var lfi fs.FileInfo
	var err error
	if t.in != nil {
		lfi, err = t.in.Lstat(t.name)
	} else {
		lfi, err = g.fs.Lstat(clean)
	}
	if err != nil {
		return nil
	}
	fi := lfi
	if lfi.Mode()&fs.ModeSymlink != 0 {
		if sfi, err := g.fs.Stat(clean); err == nil {
			fi = sfi
		}
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	// sized for every column: growing the map cost more than filling it
	row := make(table.Row, 20)
	row["path"], row["directory"], row["filename"] = t.path, t.dir, filename(t.path)
	row["mode"], row["size"], row["type"] = fsroot.ModeString(fi.Mode()), strconv.FormatInt(fi.Size(), 10), kind(fi.Mode())
	row["symlink"], row["btime"] = "0", "0"
	if lfi.Mode()&fs.ModeSymlink != 0 {
		row["symlink"] = "1"
	}
	if st != nil {
		row["inode"] = strconv.FormatUint(st.Ino, 10)
		row["uid"] = strconv.FormatUint(uint64(st.Uid), 10)
		row["gid"] = strconv.FormatUint(uint64(st.Gid), 10)
		row["device"] = strconv.FormatUint(st.Rdev, 10)
		row["block_size"] = strconv.FormatInt(int64(st.Blksize), 10)
		row["atime"] = strconv.FormatInt(st.Atim.Sec, 10)
		row["mtime"] = strconv.FormatInt(st.Mtim.Sec, 10)
		row["ctime"] = strconv.FormatInt(st.Ctim.Sec, 10)
		row["hard_links"] = strconv.FormatUint(uint64(st.Nlink), 10)
	}
	return row
}

// kind is osquery's file type names.
func kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character"
	case m&fs.ModeDevice != 0:
		return "block"
	}
	return "unknown"
}
