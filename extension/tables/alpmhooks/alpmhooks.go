// Package alpmhooks is the alpm_hooks table: every file in pacman's hook
// directories, with whether libalpm runs it as a hook and why not. The
// rules are libalpm 6.0.2's (lib/libalpm/hook.c _alpm_hook_run): the hook
// directories are read from the last (highest priority) to the first; a
// name not ending in .hook is skipped; a name already loaded from a later
// directory is skipped as overridden; a directory is skipped; every other
// file is parsed, and one that fails to parse or validate is dropped (it
// overrides nothing) and makes the pre-transaction hook run fail, which
// aborts every transaction (lib/libalpm/trans.c _alpm_trans_commit).
package alpmhooks

import (
	"bytes"
	"context"
	"encoding/json"
	iofs "io/fs"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/pkgpersist/pkgpersist/extension/alpmdb"
	"github.com/pkgpersist/pkgpersist/extension/alpmhook"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"golang.org/x/sys/unix"
)

// Table returns the alpm_hooks table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "alpm_hooks",
		Description: "Every file in pacman's hook directories (/usr/share/libalpm/hooks, then pacman.conf's HookDir, default /etc/pacman.d/hooks), with whether libalpm runs it as a hook on a matching transaction, its command, when and on what it runs, and why not: overridden by a same-named file of a later directory, masked (a symlink to /dev/null or a hook without triggers), invalid, or not a .hook file.",
		Columns: provenance.FileColumns([]table.Column{
			{Name: "name", Type: table.Text, Description: "The file name; hooks run in the order of their names without `.hook`, and a same-named file of a later directory overrides"},
			{Name: "path", Type: table.Text, Description: "The file, as seen inside the root"},
			{Name: "hook_dir", Type: table.Text, Description: "The hook directory it is in"},
			{Name: "effective", Type: table.Integer, Description: "1 when libalpm loads the hook and runs it on a transaction that matches its triggers"},
			{Name: "when", Type: table.Text, Description: "`PreTransaction` or `PostTransaction` (`''` when unset)"},
			{Name: "exec", Type: table.Text, Description: "The command, as a JSON array of the words libalpm passes to execv (split on whitespace, quotes removed; no shell), run chrooted into the root"},
			{Name: "triggers", Type: table.Text, Description: "The [Trigger] sections as JSON: `operations` (Install, Upgrade, Remove), `type` (Path or Package) and `targets` (fnmatch patterns; a leading `!` excludes; the last matching pattern decides)"},
			{Name: "depends", Type: table.Text, Description: "The Depends packages as a JSON array: the hook runs only when installed packages satisfy them all"},
			{Name: "abort_on_fail", Type: table.Integer, Description: "1 when AbortOnFail is set: a failing PreTransaction hook aborts the transaction"},
			{Name: "needs_targets", Type: table.Integer, Description: "1 when NeedsTargets is set: the matched targets are written to the command's stdin"},
			{Name: "description", Type: table.Text, Description: "The Description pacman prints when it runs the hook"},
			{Name: "reason", Type: table.Text, Description: "Why it does not run (`''` when effective)"},
		}, "the hook file", true),
		Generate: table.PerRoot(Rows),
	}
}

// Hook is one row before rendering.
type Hook struct {
	Name, Path, Dir string
	// Hook is what libalpm makes of the file (nil when it does not parse
	// it: overridden, not a .hook file, a directory, unreadable).
	Hook      *alpmhook.Hook
	Effective bool
	Reason    string
	// valid: libalpm loaded it (it overrides earlier same-named files)
	valid   bool
	digests *fsroot.Digests
	facts   *fsroot.Facts
	unread  bool
	order   int // of its directory, lowest priority first
}

// Evaluate lists the files of the root's hook directories, within ctx's
// time.
func Evaluate(ctx context.Context, fs *fsroot.Root) []Hook {
	conf := alpmdb.ReadConfig(fs)
	dirs := hookDirs(conf)
	var out []Hook
	loaded := map[string]int{} // name -> index in out of the hook libalpm loaded
	var blocker string         // the first load error: no hook then runs
	block := func(why string) {
		if blocker == "" {
			blocker = why
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		dir := dirs[i]
		names, err := fs.ReadDir(dir)
		if err != nil {
			if fsroot.Classify(err) != "" {
				block("could not open directory " + dir + ": " + err.Error())
			}
			continue
		}
		sort.Strings(names)
		for _, name := range names {
			h := Hook{Name: name, Path: path.Join(dir, name), Dir: dir, order: i}
			switch {
			case !strings.HasSuffix(name, ".hook"):
				h.Reason = "not a hook file: libalpm reads only names ending in .hook"
				h.unlisted(fs)
			case hasKey(loaded, name):
				by := out[loaded[name]]
				h.Reason = "overridden by " + by.Path
				if by.Hook.Masking() {
					h.Reason = "masked by " + by.Path + " (" + by.Reason + ")"
				}
				// libalpm does not read it; its contents are shown all
				// the same
				h.unlisted(fs)
				if fs.Kind(h.Path) == "file" {
					reason := h.Reason
					h.load(ctx, fs)
					h.Reason, h.valid = reason, false
				}
			default:
				if why := h.load(ctx, fs); why != "" {
					block(h.Path + ": " + why)
				}
			}
			out = append(out, h)
			if h.valid {
				loaded[name] = len(out) - 1
			}
		}
	}
	for i := range out {
		h := &out[i]
		switch {
		case !h.valid:
		case h.Hook.Masking():
		case len(h.Hook.Exec) == 0:
			h.Reason = "runs no command: Exec is empty, and libalpm's execv of nothing fails"
		case h.Hook.NullDepends:
			h.Reason = "never runs: a Depends line without '=' names no package, which libalpm never finds installed (\"could not satisfy dependencies\")"
		case conf.Failed != "":
			h.Reason = "pacman does not start: " + conf.Failed
		case blocker != "":
			h.Reason = "pacman runs no hook and aborts every transaction: libalpm could not load " + blocker
		default:
			h.Effective = true
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].order != out[b].order {
			return out[a].order < out[b].order
		}
		return out[a].Name < out[b].Name
	})
	return out
}

// unlisted records the facts of a file libalpm does not parse; a regular
// file is still read for its checksum (a FIFO or device is not opened).
func (h *Hook) unlisted(fs *fsroot.Root) {
	h.unread, h.digests, h.facts = true, &fsroot.Digests{}, nil
	fi, err := fs.Lstat(h.Path)
	if err != nil {
		return
	}
	if fi.Mode().IsRegular() {
		h.unread, h.digests = false, nil
		return
	}
	f := factsOf(fi)
	h.facts = &f
}

func hasKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

func errText(err error) string {
	if err == nil {
		return "not a regular file"
	}
	return err.Error()
}

// factsOf are the facts of a file libalpm does not read, or reads as
// /dev/null: its own, without a checksum.
func factsOf(fi iofs.FileInfo) fsroot.Facts {
	f := fsroot.Facts{Mtime: fi.ModTime().Unix(), Size: fi.Size(), Mode: fsroot.ModeString(fi.Mode())}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		f.UID = int64(st.Uid)
	}
	return f
}

// devNull tells /dev/null: the device 1:3.
func devNull(fi iofs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode()&iofs.ModeCharDevice != 0 && st.Rdev == unix.Mkdev(1, 3)
}

// load parses one hook file as libalpm does and returns why loading it
// fails ("" when it does not fail: loaded, or a directory skipped).
func (h *Hook) load(ctx context.Context, fs *fsroot.Root) string {
	lfi, err := fs.Lstat(h.Path)
	if err == nil && lfi.Mode()&iofs.ModeSymlink != 0 {
		if target, err := fs.Readlink(h.Path); err == nil && target == "/dev/null" {
			// read on the host (hook directories are not under the root
			// for pacman), where /dev/null is empty
			h.unread, h.digests = false, &fsroot.Digests{SHA256: emptySHA256}
			f := factsOf(lfi)
			h.facts = &f
			return h.parsed(&alpmhook.Hook{}, "a symlink to /dev/null")
		}
	}
	fi, err := fs.Stat(h.Path)
	switch {
	case err != nil:
		// a loop is a problem of the root; a dangling symlink is not
		// (nothing to read), but libalpm fails on both
		fs.Report(h.Path, err)
		h.Reason = "invalid: could not stat: " + err.Error()
		h.unlisted(fs)
		return h.Reason
	case fi.IsDir():
		h.Reason = "a directory: libalpm skips it"
		h.unlisted(fs)
		return ""
	case devNull(fi):
		h.unread, h.digests = false, &fsroot.Digests{SHA256: emptySHA256}
		f := factsOf(fi)
		h.facts = &f
		return h.parsed(&alpmhook.Hook{}, "/dev/null")
	case !fi.Mode().IsRegular():
		// OpenFile refuses it and records the problem
		_, err := fs.OpenFile(h.Path)
		h.Reason = "invalid: pacman would block on it or read it without end: " + errText(err)
		h.unlisted(fs)
		return h.Reason
	}
	f, err := fs.OpenFile(h.Path)
	if err != nil {
		h.Reason = "invalid: could not open: " + err.Error()
		h.unlisted(fs)
		return h.Reason
	}
	defer f.Close()
	rctx, cancel := table.Reading(ctx)
	defer cancel()
	hook, perr := alpmhook.Parse(f, func() bool { return rctx.Err() != nil })
	if perr == nil {
		// the rest of the file, for its checksum, libalpm stops at an error
		perr = f.DrainContext(rctx)
	}
	if d, ok := f.Digests(); ok {
		h.digests = &d
	} else {
		h.unread = true
	}
	facts := f.Facts()
	h.facts = &facts
	if perr != nil {
		fs.Report(h.Path, perr)
		h.Hook = hook
		h.Reason = "not evaluated: " + perr.Error()
		return ""
	}
	return h.parsed(hook, "")
}

// parsed settles a parsed hook: invalid (the reason returned), a mask, or
// loaded.
func (h *Hook) parsed(hook *alpmhook.Hook, what string) string {
	h.Hook = hook
	if !hook.Valid() {
		h.Reason = "invalid: " + hook.Problem()
		return h.Reason
	}
	h.valid = true
	if hook.Masking() {
		h.Reason = "no [Trigger]: never runs; it masks same-named hooks of earlier directories"
		if what != "" {
			h.Reason = what + ": " + h.Reason
		}
	}
	return ""
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Rows evaluates one root.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	return provenance.RootRows(ctx, root, Table().Columns, func(_ context.Context, fs *fsroot.Root) []provenance.Item {
		hooks := Evaluate(ctx, fs)
		items := make([]provenance.Item, len(hooks))
		for i, h := range hooks {
			row := table.Row{"name": h.Name, "path": h.Path, "hook_dir": h.Dir, "effective": table.Bool(h.Effective),
				"when": "", "exec": "", "triggers": "", "depends": "", "abort_on_fail": "0", "needs_targets": "0",
				"description": "", "reason": h.Reason, "root": root}
			if k := h.Hook; k != nil {
				row["when"], row["description"] = k.When, k.Description
				row["triggers"], row["depends"] = jsonText(k.Triggers, "[]"), jsonText(k.Depends, "[]")
				if k.ExecSet {
					row["exec"] = h.Command()
				}
				row["abort_on_fail"], row["needs_targets"] = table.Bool(k.AbortOnFail), table.Bool(k.NeedsTargets)
			}
			items[i] = provenance.Item{Path: h.Path, Digests: h.digests, Unread: h.unread, Facts: h.facts, Row: row}
		}
		return items
	})
}

// Command is the hook's Exec as the exec column shows it: a JSON array
// of the words libalpm passes to execv.
func (h Hook) Command() string {
	if h.Hook == nil {
		return "[]"
	}
	return jsonText(h.Hook.Exec, "[]")
}

// jsonText is v as compact JSON, with <, > and & as they are (commands
// are read by people).
func jsonText(v any, empty string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return empty
	}
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "null" {
		return empty
	}
	return s
}
