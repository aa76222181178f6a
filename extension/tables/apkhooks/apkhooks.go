// Package apkhooks is the apk_hooks table: the commit hooks Alpine's apk
// runs before and after every commit, and the trigger scripts of installed
// packages, with whether apk runs each and why not.
package apkhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/apkdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// The hook directories (apk-tools src/commit.c run_commit_hooks): apk 2
// reads only the first; apk 3 reads both, a name in /etc hiding the same
// name in /lib (io.c apk_dir_foreach_config_file).
const (
	etcHooks = "/etc/apk/commit_hooks.d"
	libHooks = "/lib/apk/commit_hooks.d"
)

// Table returns the apk_hooks table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "apk_hooks",
		Description: "What Alpine's apk runs around every commit: each file of `/etc/apk/commit_hooks.d` (and, for apk-tools 3, `/lib/apk/commit_hooks.d`), run as `<hook> pre-commit` before and `<hook> post-commit` after the changes, and each installed package's trigger script with the directory globs that fire it; entries apk skips or cannot run are rows with runs = 0 and the reason. For a trigger row `package` is the package the trigger belongs to and the file columns describe the scripts archive that holds it.",
		Columns: provenance.FileColumns([]table.Column{
			{Name: "kind", Type: table.Text, Description: "`commit_hook` or `trigger`"},
			{Name: "name", Type: table.Text, Description: "The hook's file name, or the trigger's package"},
			{Name: "path", Type: table.Text, Description: "The hook file, or the scripts archive holding the trigger script, as seen inside the root"},
			{Name: "position", Type: table.Integer, Description: "Order in which apk runs the commit hook (0-based; apk 2 runs them in directory order, apk 3 sorted by name); -1 when it does not run, and for triggers"},
			{Name: "stages", Type: table.Text, Description: "`pre-commit post-commit` for a hook that runs at both, `pre-commit` for one that runs before a failing hook stops the commit, `trigger` for a trigger script, `''` when it does not run"},
			{Name: "triggers", Type: table.Text, Description: "The trigger's directory globs, space-separated (a leading `+` fires only for a changed directory; apk ignores a glob that does not start with `/`)"},
			{Name: "script", Type: table.Text, Description: "The trigger script's entry in the scripts archive"},
			{Name: "script_sha256", Type: table.Text, Description: "SHA-256 of the trigger script"},
			{Name: "runs", Type: table.Integer, Description: "1 when apk runs it on a commit (triggers: when a commit changes a matching directory)"},
			{Name: "reason", Type: table.Text, Description: "Why it does not run, or what else it does: a hidden name, a file execve refuses (which, at pre-commit, aborts every apk commit), a name an /etc hook hides, a trigger without a script"},
		}, "the file", true),
		Generate: table.PerRoot(Rows),
	}
}

// Entry is one row before rendering.
type Entry struct {
	Kind, Name, Path string
	Position         int
	Stages           string
	Triggers         []string
	Script, ScriptSH string
	Runs             bool
	Reason           string
	Package          string // a trigger's package
	digests          *fsroot.Digests
	unread           bool
}

// hook is a commit hook file as apk would see it.
type hook struct {
	dir, name string
	// fails is why execve fails on it ("" when it would start)
	fails string
	skip  string // why apk never tries it
}

// apkMajor is the major version of the root's apk-tools package ("" when
// its database does not list it).
func apkMajor(pkgs []apkdb.Package) string {
	for _, p := range pkgs {
		if p.Name == "apk-tools" {
			major, _, _ := strings.Cut(p.Version, ".")
			return major
		}
	}
	return ""
}

// Evaluate lists the commit hooks and triggers of the root.
func Evaluate(ctx context.Context, fs *fsroot.Root) []Entry {
	pkgs, dbErr := apkdb.Packages(fs, func() error { return table.Check(ctx) })
	major := apkMajor(pkgs)
	var out []Entry
	hooks := listHooks(fs, major)
	// a hook execve refuses fails its pre-commit run, and apk stops there:
	// the hooks after it never run, and neither does the commit
	// (commit.c run_commit_hook returns -2, apk_solver_commit_changeset
	// returns before any change)
	failAt := -1
	for i, h := range hooks {
		if h.skip == "" && h.fails != "" {
			failAt = i
			break
		}
	}
	pos := 0
	for i, h := range hooks {
		p := path.Join(h.dir, h.name)
		e := Entry{Kind: "commit_hook", Name: h.name, Path: p, Position: -1}
		e.digests, e.unread = digest(ctx, fs, p)
		switch {
		case h.skip != "":
			e.Reason = h.skip
		case failAt >= 0 && i > failAt:
			e.Reason = "never runs: the pre-commit run of " + path.Join(hooks[failAt].dir, hooks[failAt].name) + " before it fails and aborts the commit"
		case i == failAt:
			e.Reason = "apk runs it and it fails (" + h.fails + "): at pre-commit that aborts every apk commit"
		default:
			e.Position, e.Runs, e.Stages = pos, true, "pre-commit post-commit"
			pos++
			if failAt >= 0 {
				e.Stages = "pre-commit"
				e.Reason = "runs only at pre-commit: " + path.Join(hooks[failAt].dir, hooks[failAt].name) + " fails next and aborts the commit"
			}
		}
		out = append(out, e)
	}
	abort := ""
	if failAt >= 0 {
		abort = "no commit completes: " + path.Join(hooks[failAt].dir, hooks[failAt].name) + " fails at pre-commit"
	}
	out = append(out, triggers(ctx, fs, pkgs, abort)...)
	if dbErr != nil {
		report(fs, apkdb.InstalledFile, dbErr)
		out = append(out, Entry{Kind: "trigger", Path: apkdb.InstalledFile, Position: -1,
			Reason: "not evaluated after this point: " + dbErr.Error() + " (apk refuses the whole database)", unread: true})
	}
	return out
}

// listHooks returns the hook files in the order apk 3 runs them (sorted
// by name, /etc first for equal names), or for apk 2 in directory order;
// hidden and shadowed names are there too, with why apk skips them.
func listHooks(fs *fsroot.Root, major string) []hook {
	var out []hook
	seen := map[string]bool{}
	for _, dir := range []string{etcHooks, libHooks} {
		names, _ := fs.ReadDir(dir)
		if major != "2" {
			sort.Strings(names)
		}
		for _, n := range names {
			h := hook{dir: dir, name: n}
			switch {
			case major == "2" && dir == libHooks:
				h.skip = "apk-tools 2 reads only " + etcHooks
			case strings.HasPrefix(n, "."):
				h.skip = "hidden: apk skips names that start with '.'"
			case seen[n]:
				h.skip = "hidden by " + path.Join(etcHooks, n) + " (apk-tools 3 runs one file per name, /etc first)"
			default:
				h.fails = execFailure(fs, path.Join(dir, n))
			}
			if !strings.HasPrefix(n, ".") {
				seen[n] = true
			}
			out = append(out, h)
		}
	}
	if major == "2" {
		return out
	}
	// apk 3 runs the names of both directories in one sorted list
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// execFailure is why execve(2) of p as root fails inside the root ("" when
// it starts): not a regular file after symlinks, no execute bit, or
// neither a #! script nor an ELF binary (ENOEXEC: apk calls execve, which
// has no shell fallback).
func execFailure(fs *fsroot.Root, p string) string {
	switch k := fs.Kind(p); k {
	case "file":
	case "":
		return "execve fails: dangling symlink, symlink loop or unreadable"
	default:
		return "execve fails: not a regular file (" + k + ")"
	}
	fi, err := fs.Stat(p)
	if err != nil {
		return "execve fails: " + err.Error()
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return "execve fails: no execute permission (mode " + fsroot.ModeString(fi.Mode()) + ")"
	}
	f, err := fs.OpenFile(p)
	if err != nil {
		return "cannot be read: " + err.Error()
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if strings.HasPrefix(string(head), "#!") || string(head) == "\x7fELF" {
		return ""
	}
	return "execve fails with ENOEXEC: neither a #! script nor an ELF binary"
}

// digest streams a regular file for its digests (nil when it is not one
// or cannot be read in time); unread is true when it stopped early.
func digest(ctx context.Context, fs *fsroot.Root, p string) (*fsroot.Digests, bool) {
	if k := fs.Kind(p); k != "file" {
		if k != "dir" {
			// let fsroot record why: a FIFO, device, loop or dangling link
			if f, err := fs.OpenFile(p); err == nil {
				f.Close()
			}
		}
		return nil, false
	}
	f, err := fs.OpenFile(p)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if err := f.DrainContext(ctx); err != nil {
		return nil, true
	}
	d, ok := f.Digests()
	if !ok {
		return nil, true
	}
	return &d, false
}

// triggers lists each installed package's triggers with its trigger
// script (database.c apk_db_read_layer: triggers, then scripts.tar or
// scripts.tar.gz; fire_triggers: a glob must start with '/'; commit.c
// run_triggers runs the package's trigger script with the matched
// directories as arguments).
func triggers(ctx context.Context, fs *fsroot.Root, pkgs []apkdb.Package, abort string) []Entry {
	if len(pkgs) == 0 && fs.Kind(apkdb.TriggersFile) == "" {
		return nil
	}
	byID := map[string][]string{}
	var out []Entry
	if fs.Kind(apkdb.TriggersFile) != "" {
		f, err := fs.OpenFile(apkdb.TriggersFile)
		if err == nil {
			byID, err = apkdb.ParseTriggers(f)
			f.Close()
			report(fs, apkdb.TriggersFile, err)
		}
		if err != nil {
			out = append(out, Entry{Kind: "trigger", Path: apkdb.TriggersFile, Position: -1, unread: true,
				Reason: "not evaluated after this point: " + err.Error()})
		}
	}
	scripts, archive, serr := readScripts(ctx, fs)
	if serr != nil {
		out = append(out, Entry{Kind: "trigger", Path: archive, Position: -1, unread: true,
			Reason: "not evaluated after this point: " + serr.Error()})
	}
	for _, p := range pkgs {
		globs, ok := byID[p.Identity.Key()]
		if !ok || !p.Identity.Valid() {
			continue
		}
		e := Entry{Kind: "trigger", Name: p.Name, Path: archive, Position: -1, Triggers: globs, Package: p.Name}
		s, has := scripts[p.Identity.Key()]
		switch {
		case !has:
			e.Reason = "no trigger script in " + archive + ": apk has nothing to run"
		case !anyAbsolute(globs):
			e.Reason = "no glob starts with '/': apk never fires it"
		case abort != "":
			e.Reason = abort
		default:
			e.Runs, e.Stages = true, "trigger"
		}
		e.Script, e.ScriptSH = s.Entry, s.SHA256
		out = append(out, e)
	}
	return out
}

func anyAbsolute(globs []string) bool {
	for _, g := range globs {
		if strings.HasPrefix(strings.TrimPrefix(g, "+"), "/") {
			return true
		}
	}
	return false
}

// readScripts reads the trigger scripts of the scripts archive apk reads
// (scripts.tar, else scripts.tar.gz), keyed by package identity; the path
// is the archive's.
func readScripts(ctx context.Context, fs *fsroot.Root) (map[string]apkdb.Script, string, error) {
	out := map[string]apkdb.Script{}
	name := apkdb.ScriptsFile
	gz := false
	if fs.Kind(name) == "" && fs.Kind(apkdb.ScriptsGzFile) != "" {
		name, gz = apkdb.ScriptsGzFile, true
	}
	if fs.Kind(name) == "" {
		return out, name, nil
	}
	f, err := fs.OpenFile(name)
	if err != nil {
		return out, name, err
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := apkdb.Gunzip(f)
		if err != nil {
			return out, name, err
		}
		r = zr
	}
	list, err := apkdb.ReadScripts(r, func() error { return table.Check(ctx) })
	for _, s := range list {
		if s.Type == "trigger" {
			out[s.Identity.Key()] = s
		}
	}
	report(fs, name, err)
	return out, name, err
}

// report records why a database file was not evaluated to the end: a
// bound or the deadline is a problem of the root; a format error is not
// (apk itself refuses such a database), and is said in the row only.
func report(fs *fsroot.Root, name string, err error) {
	switch {
	case err == nil:
	case errors.Is(err, apkdb.ErrLimit):
		fs.ReportLimit(name, err.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		fs.Report(name, fmt.Errorf("not read to the end: %w", err))
	}
}

// Rows evaluates one root and adds provenance.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	var entries []Entry
	rows, err := provenance.RootRows(ctx, root, Table().Columns, func(rctx context.Context, fs *fsroot.Root) []provenance.Item {
		entries = Evaluate(rctx, fs)
		items := make([]provenance.Item, len(entries))
		for i, e := range entries {
			items[i] = provenance.Item{Path: e.Path, Digests: e.digests, Unread: e.unread, Row: table.Row{
				"kind": e.Kind, "name": e.Name, "path": e.Path, "position": strconv.Itoa(e.Position),
				"stages": e.Stages, "triggers": strings.Join(e.Triggers, " "), "script": e.Script,
				"script_sha256": e.ScriptSH, "runs": table.Bool(e.Runs), "reason": e.Reason, "root": root}}
		}
		return items
	})
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		if e.Package != "" {
			// the trigger's package, from apk's own database
			rows[i]["package"], rows[i]["package_modified"] = e.Package, "0"
		}
	}
	return rows, nil
}
