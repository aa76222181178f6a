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
		Generate: Generate,
	}
}

// target is one path to describe and the directory value its row carries.
type target struct{ path, dir string }

// Generate is the table's generate: it reads the path and directory
// constraints as well as the root.
func Generate(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
	var out []table.Row
	for _, root := range table.Roots(q) {
		r, err := fsroot.OpenContext(ctx, root)
		if err != nil {
			return nil, err
		}
		rows, err := generate(ctx, q, r, root)
		r.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// generate is one root's rows.
func generate(ctx context.Context, q table.QueryContext, r *fsroot.Root, root string) ([]table.Row, error) {
	var out []table.Row
	r.MaxDirEntries = MaxDirEntries
	g := &globber{fs: r, ctx: ctx}
	var targets []target
	for _, c := range q.Constraints["path"] {
		switch c.Op {
		case table.Equals:
			targets = append(targets, target{c.Expr, parent(c.Expr)})
		case table.Like:
			ps, err := g.expand(c.Expr, true)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				targets = append(targets, target{p, parent(p)})
			}
		}
	}
	for _, c := range q.Constraints["directory"] {
		dirs := []string{c.Expr}
		if c.Op == table.Like {
			ps, err := g.expand(c.Expr, false)
			if err != nil {
				return nil, err
			}
			dirs = ps
		}
		for _, d := range dirs {
			children, err := g.list(strings.TrimSuffix(d, "/"))
			if err != nil {
				return nil, err
			}
			for _, ch := range children {
				targets = append(targets, target{ch, d})
			}
		}
	}
	seen := map[target]bool{}
	for i, t := range targets {
		if i%4096 == 0 {
			if err := table.Check(ctx); err != nil {
				return nil, err
			}
		}
		if seen[t] {
			continue
		}
		seen[t] = true
		if row := g.describe(t); row != nil {
			row["root"] = root
			out = append(out, row)
		}
	}
	return out, nil
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

// expand resolves a LIKE pattern to paths; files false keeps directories
// only (osquery's GLOB_FOLDERS for directory LIKE).
func (g *globber) expand(like string, files bool) ([]string, error) {
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
	var out []string
	if err := g.walk("/", segs, &out); err != nil {
		return nil, err
	}
	if recursive {
		level := out
		for depth := 1; depth < MaxDepth && len(level) > 0; depth++ {
			var next []string
			for _, p := range level {
				if !strings.HasSuffix(p, "/") || g.isLink(p) {
					continue
				}
				ch, err := g.list(strings.TrimSuffix(p, "/"))
				if err != nil {
					return nil, err
				}
				next = append(next, ch...)
			}
			out = append(out, next...)
			level = next
		}
	}
	if !files {
		var dirs []string
		for _, p := range out {
			if strings.HasSuffix(p, "/") {
				dirs = append(dirs, p)
			}
		}
		out = dirs
	}
	return out, nil
}

// walk matches the remaining segments below dir.
func (g *globber) walk(dir string, segs []string, out *[]string) error {
	if err := g.ctx.Err(); err != nil {
		return fmt.Errorf("file: stopped: %w", err)
	}
	if len(segs) == 0 || (len(segs) == 1 && segs[0] == "") {
		if dir != "/" {
			*out = append(*out, g.mark(dir))
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
		return g.walk(p, segs[1:], out)
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
		if len(segs) > 1 && g.fs.Kind(p) != "dir" {
			continue
		}
		if err := g.walk(p, segs[1:], out); err != nil {
			return err
		}
	}
	return nil
}

// list is dir/* with GLOB_MARK: children (no dotfiles), directories
// marked. Entry types come from the directory listing; only symlinks are
// stat'ed, to see whether they point to a directory.
func (g *globber) list(dir string) ([]string, error) {
	if dir == "" {
		dir = "/"
	}
	ents, err := g.fs.ReadDirEntries(dir)
	if err != nil && len(ents) == 0 {
		return nil, nil
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		g.count++
		if g.count > MaxPaths {
			return nil, fmt.Errorf("file: more than %d paths; narrow the pattern", MaxPaths)
		}
		if g.count%4096 == 0 {
			if err := g.ctx.Err(); err != nil {
				return nil, fmt.Errorf("file: stopped: %w", err)
			}
		}
		p := path.Join(dir, n)
		switch {
		case e.Type().IsDir():
			out = append(out, p+"/")
		case e.Type()&fs.ModeSymlink != 0 || e.Type()&fs.ModeType == fs.ModeIrregular:
			out = append(out, g.mark(p))
		default:
			out = append(out, p)
		}
	}
	return out, nil
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
// path it was asked for, which the constraint is matched against.
func (g *globber) describe(t target) table.Row {
	clean := strings.TrimSuffix(t.path, "/")
	if clean == "" {
		clean = "/"
	}
	lfi, err := g.fs.Lstat(clean)
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
	row := table.Row{
		"path": t.path, "directory": t.dir, "filename": filename(t.path),
		"mode": fsroot.ModeString(fi.Mode()),
		"size": strconv.FormatInt(fi.Size(), 10), "symlink": "0", "type": kind(fi.Mode()), "btime": "0",
	}
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
