// Package dpkghooks is the dpkg_hooks table: the commands dpkg itself runs
// for every package operation (pre-invoke, post-invoke, status-logger),
// read from dpkg's configuration files as dpkg reads them.
package dpkghooks

import (
	"context"
	"fmt"
	"path"
	"strconv"

	"github.com/pkgpersist/pkgpersist/extension/dpkgcfg"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// dpkg's configuration locations (fixed when dpkg is built; --root and
// --admindir do not move them), and the home of the root user, who runs
// dpkg for apt.
const (
	cfgDir  = "/etc/dpkg/dpkg.cfg.d"
	cfgFile = "/etc/dpkg/dpkg.cfg"
	homeCfg = "/root/.dpkg.cfg"
)

// Table returns the dpkg_hooks table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "dpkg_hooks",
		Description: "Commands dpkg runs on every package operation (`pre-invoke`, `post-invoke`, `status-logger`) from `/etc/dpkg/dpkg.cfg.d/*`, `/etc/dpkg/dpkg.cfg` and root's `~/.dpkg.cfg`, read as dpkg reads them; hooks in files dpkg skips, or that a configuration error keeps from running, are rows with active = 0 and the reason.",
		Columns: provenance.FileColumns([]table.Column{
			{Name: "hook", Type: table.Text, Description: "`pre-invoke`, `post-invoke` or `status-logger`; empty for a row that reports a file problem"},
			{Name: "command", Type: table.Text, Description: "The command dpkg runs with `sh -c`, quotes stripped as dpkg strips them"},
			{Name: "position", Type: table.Integer, Description: "Order in which dpkg runs it among the hooks of its kind (0-based); -1 when it does not run"},
			{Name: "active", Type: table.Integer, Description: "1 if dpkg runs it with the configuration as it is now"},
			{Name: "reason", Type: table.Text, Description: "Why it is not active: file name dpkg skips, a configuration error that stops dpkg (`dpkg runs nothing: …`)…"},
			{Name: "path", Type: table.Text, Description: "File that defines it, as seen inside the root"},
			{Name: "line", Type: table.Integer, Description: "Line of the file (dpkg's count: a line over 1023 bytes counts as several)"},
		}, "the file", false),
		Generate: table.PerRoot(Rows),
	}
}

// Hook is one row before rendering.
type Hook struct {
	Hook     string
	Command  string
	Position int
	Active   bool
	Reason   string
	Path     string
	Line     int
	digests  *fsroot.Digests
	unread   bool
}

// Evaluate reads the configuration of the root in dpkg's order; reading
// stops when ctx is done, and the file being read then says so.
func Evaluate(ctx context.Context, fs *fsroot.Root) []Hook {
	var out []Hook
	failed := ""
	counts := map[string]int{}
	stop := func() error { return table.Check(ctx) }
	read := func(p string, skipped string) {
		pf, err := parseFile(fs, p, stop)
		if err != nil {
			if skipped != "" {
				out = append(out, Hook{Position: -1, Reason: skipped + "; " + err.Error(), Path: p})
				return
			}
			// dpkg warns about an unreadable file and goes on; a
			// directory or FIFO with a valid name stops or hangs it
			reason := "dpkg warns and skips it: " + err.Error()
			if k := fs.Kind(p); k == "dir" || k == "fifo" {
				if failed == "" {
					failed = p + ": " + err.Error()
				}
				reason = "dpkg runs nothing: " + failed
			}
			out = append(out, Hook{Position: -1, Reason: reason, Path: p})
			return
		}
		for _, l := range pf.lines {
			if !dpkgcfg.IsCommand(l.Option) {
				continue
			}
			h := Hook{Hook: l.Option, Command: l.Value, Position: -1, Path: p, Line: l.Line, digests: pf.digests, unread: pf.stopped != nil}
			if skipped != "" {
				h.Reason = skipped
			} else {
				h.Active = true
			}
			out = append(out, h)
		}
		if pf.stopped != nil {
			// not read to the end: what came after is unknown, and so is
			// dpkg's verdict on it
			out = append(out, Hook{Position: -1, Reason: "not evaluated after this point: " + pf.stopped.Error() + " (dpkg reads it; what follows is unknown)", Path: p, unread: true})
			return
		}
		if perr := pf.perr; perr != nil {
			if skipped != "" {
				out = append(out, Hook{Position: -1, Reason: skipped + "; " + perr.Error(), Path: p, Line: perr.Line, digests: pf.digests})
				return
			}
			if failed == "" {
				failed = p + ":" + strconv.Itoa(perr.Line) + ": " + perr.Msg
			}
			out = append(out, Hook{Position: -1, Reason: "dpkg runs nothing: configuration error: " + perr.Msg, Path: p, Line: perr.Line, digests: pf.digests})
		}
	}
	if k := fs.Kind(cfgDir); k == "dir" {
		names, _ := fs.ReadDir(cfgDir)
		dpkgcfg.SortNames(names)
		for _, n := range names {
			p := path.Join(cfgDir, n)
			k := fs.Kind(p)
			switch {
			case !dpkgcfg.ValidName(n):
				if k == "file" {
					read(p, "dpkg skips this file: its name has characters other than [A-Za-z0-9_-]")
				}
			case k == "":
				// a dangling symlink: dpkg skips it without a word
				out = append(out, Hook{Position: -1, Reason: "dpkg skips it: cannot be stat'ed (dangling symlink or loop)", Path: p})
			default:
				read(p, "")
			}
		}
	} else if k != "" && failed == "" {
		failed = cfgDir + " is not a directory"
	}
	for _, f := range []string{cfgFile, homeCfg} {
		if fs.Kind(f) != "" {
			read(f, "")
		}
	}
	for i := range out {
		h := &out[i]
		if !h.Active {
			continue
		}
		if failed != "" {
			h.Active = false
			h.Reason = "dpkg runs nothing: configuration error at " + failed
			continue
		}
		h.Position = counts[h.Hook]
		counts[h.Hook]++
	}
	return out
}

// parsed is one configuration file as dpkg's parser read it.
type parsed struct {
	lines   []dpkgcfg.Line
	perr    *dpkgcfg.Error
	stopped error           // what stopped the reading before the end
	digests *fsroot.Digests // when it was read whole
}

// parseFile streams one configuration file through dpkg's parser; the
// error is the file's failing to open.
func parseFile(fs *fsroot.Root, p string, stop func() error) (parsed, error) {
	f, err := fs.OpenFile(p)
	if err != nil {
		return parsed{}, err
	}
	defer f.Close()
	var pf parsed
	pf.lines, pf.perr, pf.stopped = dpkgcfg.ParseReader(f, stop)
	if pf.stopped != nil {
		fs.Report(p, fmt.Errorf("not read to the end: %w", pf.stopped))
		return pf, nil
	}
	if sums, whole := f.Digests(); whole {
		pf.digests = &sums
	}
	return pf, nil
}

// Rows evaluates one root and adds provenance.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	return provenance.RootRows(ctx, root, Table().Columns, func(rctx context.Context, fs *fsroot.Root) []provenance.Item {
		hooks := Evaluate(rctx, fs)
		items := make([]provenance.Item, len(hooks))
		for i, h := range hooks {
			items[i] = provenance.Item{Path: h.Path, Digests: h.digests, Unread: h.unread, Row: table.Row{
				"hook": h.Hook, "command": h.Command, "position": strconv.Itoa(h.Position),
				"active": table.Bool(h.Active), "reason": h.Reason, "path": h.Path,
				"line": strconv.Itoa(h.Line), "root": root}}
		}
		return items
	})
}
