// Package zypplugins is the zypp_plugins table: the programs libzypp and
// zypper run on their own (commit, system, appdata, service, URL resolver
// and repository verification plugins, including the files repositories and services name
// with a plugin: URL, wherever they are) and zypper's subcommand
// executables, with whether each would run and why not.
package zypplugins

import (
	"context"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// pluginsPath is libzypp's plugin directory (zypp/ZConfig.cc: pluginsPath
// defaults to /usr/lib/zypp/plugins, and zypp.conf has no key for it);
// execDir is zypper's subcommand directory (zypper src/commands/
// subcommand.cc SubcommandOptions::_execdir).
const (
	pluginsPath = "/usr/lib/zypp/plugins"
	execDir     = "/usr/lib/zypper/commands"
)

// pathDirs stand for root's $PATH, which zypper searches after execDir
// for a subcommand: the usual PATH of root on SUSE, in its order.
var pathDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// builtinNames are zypper's own command names and aliases (zypper
// src/commands/commands.cc newStyleCommands): ZypperCommand::parse looks
// them up before it looks for a subcommand, so zypper-<builtin> never runs.
const builtinNames = `help ? shell sh repos lr catalogs ca addrepo ar removerepo rr
		renamerepo nr modifyrepo mr refresh ref clean cc clean-cache you-clean-cache yc services ls
		service-list sl addservice as service-add sa modifyservice ms removeservice rs service-delete sd
		refresh-services refs install in remove rm verify ve source-install si install-new-recommends inr
		update up list-updates lu patch list-patches lp dist-upgrade dup patch-check pchk search se info
		if patch-info pattern-info product-info patches pch packages pa pkg patterns pt products pd
		what-provides wp addlock al lock-add la removelock rl lock-delete ld locks ll lock-list
		cleanlocks cl lock-clean versioncmp vcmp targetos tos licenses download source-download
		needs-rebooting ps patch-search pse configtest ping quit exit moo none subcommand`

// builtin reports whether name is one of builtinNames.
func builtin(name string) bool {
	return slices.Contains(strings.Fields(builtinNames), name)
}

// kinds are libzypp's plugin directories and when libzypp runs their
// plugins, from its source.
var kinds = []struct{ kind, when string }{
	// zypp/target/TargetImpl.cc commit(): PluginExecutor::load of
	// pluginsPath/commit when the target root is / and it is not a dry run
	{"commit", "at every package commit on the host itself (target root /, not --dry-run), for the whole transaction"},
	// TargetImpl.cc buildCache(): PACKAGESETCHANGED after the rpm database changed, root / only
	{"system", "after the rpm database changed, when the target root is /"},
	// zypp/ng/repomanager.cc ~RepoManager: euid 0, no --root, repositories changed or refreshed
	{"appdata", "after repositories changed or were refreshed, run by root without --root"},
	// zypp/repo/PluginServices.cc: every entry is a subscribed service of type plugin, run by /bin/sh inside the root
	{"services", "whenever zypper refreshes services (zypper refs, ref -s, and services with autorefresh)"},
	// zypp/media/UrlResolverPlugin.cc: pluginsPath/urlresolver/<name> for a repository URL plugin:<name>
	{"urlresolver", "whenever a repository whose URL is plugin:<name> is used"},
	// zypp/repo/PluginRepoverification.cc (libzypp >= 17.30.1) verifyWorkflow:
	// each download of a repository's master index, before its GPG check;
	// with a RepoManager root other than / it logs and runs nothing
	{"repoverification", "at each refresh that downloads a repository's metadata (rpm-md repomd.xml; SUSE tags content in newer libzypp): new or changed metadata, `zypper ref -f`, autorefresh; before and whatever the GPG check; target root / only, libzypp 17.30.1 and later"},
}

// Table returns the zypp_plugins table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "zypp_plugins",
		Description: "Programs libzypp and zypper run on their own: commit, system, appdata, service, URL resolver and repository verification plugins in `/usr/lib/zypp/plugins/<kind>/`, the URL resolvers that repositories (`/etc/zypp/repos.d/*.repo`) and services (`/etc/zypp/services.d`) name with a `plugin:<name>` URL, wherever the name leads, and zypper subcommands (`zypper-<name>` in `/usr/lib/zypper/commands` and on root's PATH), with whether each would run and why not.",
		Columns: provenance.FileColumns([]table.Column{
			{Name: "kind", Type: table.Text, Description: "`commit`, `system`, `appdata`, `services`, `urlresolver`, `repoverification` or `subcommand`"},
			{Name: "name", Type: table.Text, Description: "The plugin's file name (a service plugin's service alias, a URL resolver's plugin name: for one a repository names, the URL's decoded path, `../` included); for a subcommand, the zypper command it adds"},
			{Name: "path", Type: table.Text, Description: "The file, as seen inside the root"},
			{Name: "runs", Type: table.Integer, Description: "1 when libzypp or zypper would run it"},
			{Name: "trigger", Type: table.Text, Description: "When it runs; for a URL resolver a repository or service names, which one, in which file and line"},
			{Name: "reason", Type: table.Text, Description: "Why it does not run: a hidden name, not a regular file, no read and execute permission for root (libzypp's PathInfo::userMayRX checks the owner, group or other bits that apply to uid 0, with no root exception), a name zypper does not take, another file of the same command found first; for a URL resolver a repository names: the repository disabled or defined first elsewhere, the file missing, a repository file libzypp cannot parse (zypper then stops)"},
		}, "the file", true),
		Generate: table.PerRoot(Rows),
	}
}

// Plugin is one row before rendering.
type Plugin struct {
	Kind, Name, Path, When, Reason string
	Runs                           bool
	// Source and Line are the repository or service file and line whose
	// URL names a URL resolver; empty for a plugin found in its directory.
	Source string
	Line   int
}

// Evaluate lists the plugins and subcommands of the root.
func Evaluate(root *fsroot.Root) []Plugin {
	var out []Plugin
	for _, k := range kinds {
		dir := path.Join(pluginsPath, k.kind)
		names, _ := root.ReadDir(dir)
		for _, n := range names {
			p := Plugin{Kind: k.kind, Name: n, Path: path.Join(dir, n), When: k.when}
			switch {
			case k.kind == "urlresolver":
				// no readdir: the name comes from the repository's
				// URL, a hidden one too; only PluginScript::open's check.
				// Listed whatever the repositories say: root can name
				// it in a repository at any time (see configured)
				p.Reason = rxFailure(root, p.Path, false, true)
			case k.kind == "repoverification":
				// filesystem::dirForEach skips only . and ..; the
				// check is isFile() && userMayRX(), then ExternalProgram
				p.Reason = rxFailure(root, p.Path, true, false)
			case strings.HasPrefix(n, "."):
				// filesystem::readdir( …, dots=false ) leaves them out
				p.Reason = "hidden: libzypp skips names that start with '.'"
			case k.kind == "services":
				p.Reason = shellFailure(root, p.Path)
			case k.kind == "appdata":
				// started with ExternalProgram after the userMayRX check
				p.Reason = rxFailure(root, p.Path, true, false)
			default:
				// PluginExecutor::load, then PluginScript::open
				p.Reason = rxFailure(root, p.Path, true, true)
			}
			p.Runs = p.Reason == ""
			out = append(out, p)
		}
	}
	out = append(out, configured(root)...)
	return append(out, subcommands(root)...)
}

// subcommands follows zypper's SubCmd::isSubcommand: zypper-<cmd> in
// execDir first, then in each $PATH directory in order; the first that is
// a regular file root may read and execute is the command.
func subcommands(root *fsroot.Root) []Plugin {
	var out []Plugin
	found := map[string]string{}
	for _, dir := range append([]string{execDir}, pathDirs...) {
		names, _ := root.ReadDir(dir)
		for _, n := range names {
			cmd, ok := strings.CutPrefix(n, "zypper-")
			if !ok && dir != execDir {
				continue
			}
			p := Plugin{Kind: "subcommand", Name: cmd, Path: path.Join(dir, n), When: "when someone runs `zypper " + cmd + "`"}
			switch {
			case !ok || cmd == "":
				p.Name, p.When = n, ""
				p.Reason = "zypper takes only files named zypper-<command>"
			case builtin(cmd):
				p.Reason = "`" + cmd + "` is one of zypper's own commands: zypper runs that, never this file"
			case found[cmd] != "":
				p.Reason = "zypper runs " + found[cmd] + " for `zypper " + cmd + "`: found first"
			default:
				p.Reason = rxFailure(root, p.Path, true, false)
			}
			if p.Reason == "" {
				p.Runs, found[cmd] = true, p.Path
			}
			out = append(out, p)
		}
	}
	return out
}

// rxFailure is why libzypp or zypper does not start p as uid 0 ("" when
// it does). Stat follows symlinks; the file must be regular; with mayRX,
// `PathInfo::userMayRX()` must hold: the bits checked are the owner's when
// root owns the file, else the group's when its group is 0, else the
// others' (zypp-core/fs/PathInfo.cc userMay); with ownerX, the owner's
// execute bit must be set (zypp/PluginScript.cc open: `isFile() && isX()`,
// and isX is S_IXUSR).
func rxFailure(root *fsroot.Root, p string, mayRX, ownerX bool) string {
	fi, err := root.Stat(p)
	if err != nil {
		if f, oerr := root.OpenFile(p); oerr == nil {
			f.Close()
		}
		return "cannot be stat'ed (dangling symlink, loop or unreadable)"
	}
	if !fi.Mode().IsRegular() {
		return "not a regular file"
	}
	if mayRX && !rootMayRX(fi) {
		return "root may not read and execute it (mode " + fsroot.ModeString(fi.Mode()) + ")"
	}
	if ownerX && fi.Mode().Perm()&0o100 == 0 {
		return "its owner has no execute bit (mode " + fsroot.ModeString(fi.Mode()) + "): PluginScript refuses it"
	}
	return ""
}

// shellFailure is why /bin/sh cannot run a service plugin ("" when it
// can): libzypp takes every entry as a service, and the shell's execve
// needs a regular file with an execute bit.
func shellFailure(root *fsroot.Root, p string) string {
	fi, err := root.Stat(p)
	switch {
	case err != nil:
		return "listed as a service, but /bin/sh cannot run it (dangling symlink, loop or unreadable)"
	case !fi.Mode().IsRegular():
		return "listed as a service, but /bin/sh cannot run it: not a regular file"
	case fi.Mode().Perm()&0o111 == 0:
		return "listed as a service, but /bin/sh cannot run it: no execute permission (mode " + fsroot.ModeString(fi.Mode()) + ")"
	}
	return ""
}

// rootMayRX is userMayRX for uid and gid 0.
func rootMayRX(fi fs.FileInfo) bool {
	perm := uint32(fi.Mode().Perm())
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return perm&0o005 == 0o005
	case st.Uid == 0:
		return perm>>6&0o5 == 0o5
	case st.Gid == 0:
		return perm>>3&0o5 == 0o5
	}
	return perm&0o005 == 0o005
}

// Rows evaluates one root and adds provenance.
func Rows(ctx context.Context, root string) ([]table.Row, error) {
	return provenance.RootRows(ctx, root, Table().Columns, func(_ context.Context, fs *fsroot.Root) []provenance.Item {
		plugins := Evaluate(fs)
		items := make([]provenance.Item, len(plugins))
		for i, p := range plugins {
			items[i] = provenance.Item{Path: p.Path, Row: table.Row{
				"kind": p.Kind, "name": p.Name, "path": p.Path, "runs": table.Bool(p.Runs),
				"trigger": p.When, "reason": p.Reason, "root": root}}
		}
		return items
	})
}
