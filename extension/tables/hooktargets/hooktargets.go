// Package hooktargets is the hook_targets table: for every command of every
// hook and action table, and every plugin module, the files it executes
// inside the root — found the way the shell and the package manager find
// them — with the provenance of each file. A hook that runs a file no
// package installed, or a package file whose checksum changed, is the
// strongest sign of planted persistence; the hook tables alone cannot show
// it.
package hooktargets

import (
	"context"
	"path"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/aptconf"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/pyscan"
	"github.com/pkgpersist/pkgpersist/extension/shellcmd"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/extension/tables/alpmhooks"
	"github.com/pkgpersist/pkgpersist/extension/tables/apkhooks"
	"github.com/pkgpersist/pkgpersist/extension/tables/apthooks"
	"github.com/pkgpersist/pkgpersist/extension/tables/dnfplugins"
	"github.com/pkgpersist/pkgpersist/extension/tables/dpkghooks"
	"github.com/pkgpersist/pkgpersist/extension/tables/pmactions"
	"github.com/pkgpersist/pkgpersist/extension/tables/rpmmacros"
	"github.com/pkgpersist/pkgpersist/extension/tables/rpmplugins"
	"github.com/pkgpersist/pkgpersist/extension/tables/yumplugins"
	"github.com/pkgpersist/pkgpersist/extension/tables/zypplugins"
)

// How values of this table beyond shellcmd's.
const (
	// HowShell is the shell the package manager starts for the command
	// (apt's and dpkg's `/bin/sh -c`, dpkg's `sh -c` for status loggers,
	// DNF's and YUM's shell).
	HowShell = "shell"
	// HowModule is a plugin module the package manager imports or loads.
	HowModule = "plugin-module"
	// HowShebang is the interpreter a target's #! line names.
	HowShebang = "shebang"
)

// Table returns the hook_targets table definition.
func Table() *table.Table {
	return &table.Table{
		Name:        "hook_targets",
		Description: "Every file a hook, action or plugin makes run, one row per program: the command words of each command of apt_hooks, dpkg_hooks and package_manager_actions (through wrappers, `sh -c` strings, interpreters' scripts and #! lines), each dnf_plugins and yum_plugins module with the literal commands it runs (its `calls`), the Exec of each alpm_hooks hook (execv in the root: no shell, no PATH search), each apk_hooks commit hook and zypp_plugins plugin or subcommand (the file itself, executed; a service plugin through `/bin/sh -c`), each `%( … )` shell expansion of an rpm_macros value (`/bin/sh -c`, macros in it expanded first) and each rpm_plugins shared object, resolved inside the root as the shell and the package manager resolve them (PATH, symlinks), with the provenance of the file; builtins and words known only at run time are rows with the reason. Not covered: apk trigger scripts (kept in apk's scripts archive, not a file of the root, as package scripts of the other managers) and rpm's embedded Lua (`%{lua: …}`, run inside rpm).",
		Columns: append(provenance.FileColumns([]table.Column{
			{Name: "source_table", Type: table.Text, Description: "The table the hook comes from: `apt_hooks`, `dpkg_hooks`, `package_manager_actions`, `dnf_plugins`, `yum_plugins`, `alpm_hooks`, `apk_hooks`, `zypp_plugins`, `rpm_macros` or `rpm_plugins`"},
			{Name: "manager", Type: table.Text, Description: "`apt`, `dpkg`, `dnf`, `dnf5`, `yum`, `pacman`, `apk`, `zypper` or `rpm`"},
			{Name: "hook", Type: table.Text, Description: "The hook key (`DPkg::Post-Invoke`), dpkg hook (`post-invoke`), action trigger (`in`, `post_transaction:in`), plugin name (dnf, yum, rpm), pacman or apk hook file name, zypp plugin as `<kind>:<name>` (`commit:backup.sh`, `subcommand:backup`), or rpm macro name"},
			{Name: "path", Type: table.Text, Description: "The file that defines the hook, action or plugin, as seen inside the root (for rpm_plugins, the macro file of its `%__transaction_<name>`)"},
			{Name: "line", Type: table.Integer, Description: "Its line in that file (0 for a plugin module, apk commit hook or zypp plugin itself; the call's line for a command a module runs; the Exec line of a pacman hook; the definition's line of an rpm macro)"},
			{Name: "command", Type: table.Text, Description: "The command as the source table reports it (for a plugin, the command line of one of its calls; `''` for the module itself; a pacman hook's `exec` JSON array; the file of an apk commit hook or zypp plugin; the text between the parentheses of an rpm `%( … )`, as written; an rpm plugin's macro value, unexpanded)"},
			{Name: "active", Type: table.Integer, Description: "1 when the package manager runs the command (the source row's `active`, `enabled`, `effective` (alpm_hooks; rpm_macros, with `loaded`), `runs` (apk_hooks, zypp_plugins), `loaded` (rpm_plugins), or for a python plugin `imported`)"},
			{Name: "word", Type: table.Text, Description: "The program as the command line names it, quotes removed (as written when only known at run time)"},
			{Name: "how", Type: table.Text, Description: "How it comes to run: `shell` (the shell the package manager starts), `command` (a command word of the command line), `sh -c` (a command word of a string a shell runs), `wrapper` (the command of nohup, env, setsid, timeout, exec…), `interpreter-script` (the script an interpreter is given), `source` (a file `.` reads), `eval`, `trap`, `direct` (executed without a shell), `shebang` (the interpreter on a target's #! line), `plugin-module` (a Python module or shared object the package manager imports or dlopens)"},
			{Name: "via", Type: table.Text, Description: "The programs that lead to it, outermost first, separated by ` > ` (e.g. `nohup > setsid > /bin/bash -c`)"},
			{Name: "lookup", Type: table.Text, Description: "How its file is found: `absolute`, `path-lookup` (searched on PATH: the command line's own PATH, else `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`), `relative` and `script` (to the working directory: a pacman hook's Exec without `/` is taken from `/`, execv does not search PATH), `builtin`, `function`, `applet`, `module`, `dynamic` (only known at run time), `error` (the shell stops)"},
			{Name: "target", Type: table.Text, Description: "The file that is executed, as the shell or package manager names it inside the root; `''` when there is none (builtin, unresolved)"},
			{Name: "resolved", Type: table.Text, Description: "The file reached after following symlinks inside the root (alternatives included); `''` when there is none"},
			{Name: "target_exists", Type: table.Integer, Description: "1 when the target is a regular file in the root"},
			{Name: "reason", Type: table.Text, Description: "Why there is no file, or what is odd about it: builtin, not found on PATH, only known at run time, a directory, a FIFO, a symlink loop, not executable, shadows a later PATH entry, syntax error…"},
			{Name: "fetches", Type: table.Text, Description: "The download or network connection whose data this program runs as code (`curl … | sh`, `bash -i >& /dev/tcp/…`, `sh -c \"$(wget …)\"`); `''` for none"},
		}, "the target", true), apthooks.ConfigColumn),
		Generate: apthooks.PerConfig(Rows),
	}
}

// mode is how the package manager runs a source's command.
type mode int

const (
	withShell mode = iota // sh -c command
	splitArgv             // libdnf5: split at spaces, executed without a shell
	execValue             // the value is the program, executed without a shell
	module                // a plugin module the package manager imports
	execv                 // argv given to execv(2): no shell, no PATH search
)

// Source is one command or plugin module of a source table.
type Source struct {
	Table, Manager, Hook, Path string
	Line                       int
	Command                    string
	Active                     bool
	mode                       mode
	shell                      string // the shell the manager starts (withShell)
	dir                        string // the manager's working directory for it, "" when not fixed
	path                       string // the PATH it inherits, "" for shellcmd.DefaultPATH
	argv                       []string
	// program is the file a module source loads, "" for Path
	program string
	// text is what the shell reads when it differs from Command (rpm
	// expands the macros of a `%( … )` first); rpmWords marks a text in
	// which a word holding '%' is only known when rpm expands it
	text     string
	rpmWords bool
}

// RunsWithShell reports whether the package manager runs Command with a
// shell (`sh -c`).
func (s Source) RunsWithShell() bool { return s.mode == withShell }

// Sources lists the commands and modules of the root's hook tables, as
// their own Evaluate functions find them.
func Sources(ctx context.Context, fs *fsroot.Root, aptConfig string) ([]Source, error) {
	var out []Source
	res := aptconf.Load(fs, aptConfig, func() error { return table.Check(ctx) })
	for _, e := range apthooks.Evaluate(res, fs) {
		if e.Command == "" {
			continue
		}
		s := Source{Table: "apt_hooks", Manager: "apt", Hook: e.Hook, Path: e.Origin.Path, Line: e.Origin.Line,
			Command: e.Command, Active: e.Active, mode: execValue}
		if apthooks.RunsWithShell(e.Hook) {
			s.mode, s.shell, s.dir = withShell, "/bin/sh", aptDir(e.Hook)
		}
		out = append(out, s)
	}
	for _, h := range dpkghooks.Evaluate(ctx, fs) {
		if h.Command == "" {
			continue
		}
		// dpkg 1.21 runs invoke hooks with system() (/bin/sh -c) and
		// status loggers with execlp("sh", "sh", "-c", …): sh on PATH
		sh := "/bin/sh"
		if h.Hook == "status-logger" {
			sh = "sh"
		}
		out = append(out, Source{Table: "dpkg_hooks", Manager: "dpkg", Hook: h.Hook, Path: h.Path, Line: h.Line,
			Command: h.Command, Active: h.Active, mode: withShell, shell: sh})
	}
	for _, a := range pmactions.Evaluate(ctx, fs) {
		if a.Command == "" {
			continue
		}
		s := Source{Table: "package_manager_actions", Manager: a.Manager, Hook: a.Trigger, Path: a.Path, Line: a.Line,
			Command: a.Command, Active: a.Enabled, mode: withShell, shell: "/bin/sh"}
		if a.Manager == "dnf5" {
			s.mode, s.shell = splitArgv, ""
		}
		out = append(out, s)
	}
	seen := map[string]bool{}
	for _, p := range dnfplugins.Evaluate(ctx, fs) {
		if p.Path == "" || seen[p.Manager+p.Path] {
			continue
		}
		seen[p.Manager+p.Path] = true
		out = append(out, Source{Table: "dnf_plugins", Manager: p.Manager, Hook: p.Name, Path: p.Path, Active: p.Imported, mode: module})
		out = append(out, pluginCommands("dnf_plugins", p.Manager, p.Name, p.Path, p.Imported, p.Enabled, p.Calls)...)
	}
	for _, p := range yumplugins.Evaluate(ctx, fs) {
		out = append(out, Source{Table: "yum_plugins", Manager: "yum", Hook: p.Name, Path: p.Path, Active: p.Imported, mode: module})
		out = append(out, pluginCommands("yum_plugins", "yum", p.Name, p.Path, p.Imported, p.Enabled, p.Calls)...)
	}
	out = append(out, alpmSources(ctx, fs)...)
	out = append(out, apkSources(ctx, fs)...)
	out = append(out, zyppSources(fs)...)
	out = append(out, rpmSources(ctx, fs)...)
	return out, nil
}

// alpmSources are the Exec commands of pacman's hooks. libalpm runs
// hook->cmd with _alpm_run_chroot (lib/libalpm/hook.c _alpm_hook_run_hook;
// util.c _alpm_run_chroot, pacman 6.0): chroot(root), chdir("/"),
// execv(cmd[0], cmd) — no shell and no PATH search, so a name without '/'
// is the file of that name in /.
func alpmSources(ctx context.Context, fs *fsroot.Root) []Source {
	var out []Source
	for _, h := range alpmhooks.Evaluate(ctx, fs) {
		if h.Hook == nil || len(h.Hook.Exec) == 0 {
			continue
		}
		out = append(out, Source{Table: "alpm_hooks", Manager: "pacman", Hook: h.Name, Path: h.Path, Line: h.Hook.ExecLine,
			Command: h.Command(), Active: h.Effective, mode: execv, argv: h.Hook.Exec, dir: "/"})
	}
	return out
}

// apkSources are apk's commit hooks: apk executes the file itself with
// the stage as its argument (apk-tools src/commit.c run_commit_hook:
// argv {fn, "pre-commit"|"post-commit"}; database.c apk_db_run_script:
// fchdir(root), chroot("."), execve(fn, argv, {PATH=/usr/sbin:/usr/bin:
// /sbin:/bin})). Triggers are left out: apk writes a trigger script out of
// its scripts archive when it runs it, so there is no file of the root to
// resolve (as with the package scripts of the other managers).
func apkSources(ctx context.Context, fs *fsroot.Root) []Source {
	var out []Source
	for _, e := range apkhooks.Evaluate(ctx, fs) {
		if e.Kind != "commit_hook" {
			continue
		}
		out = append(out, Source{Table: "apk_hooks", Manager: "apk", Hook: e.Name, Path: e.Path, Command: e.Path, Active: e.Runs,
			mode: execv, argv: []string{e.Path, "pre-commit"}, dir: "/", path: "/usr/sbin:/usr/bin:/sbin:/bin"})
	}
	return out
}

// zyppSources are libzypp's plugins and zypper's subcommands: a plugin is
// started as argv {path} (zypp/PluginScript.cc open: ExternalProgram with
// the script as args[0]; a repoverification plugin by ExternalProgram
// itself, options after the path), a subcommand likewise by its full path; a
// service plugin is run as `/bin/sh -c <path>` chrooted into the root
// (zypp/repo/ServiceRepos.cc PluginServiceRepos).
func zyppSources(fs *fsroot.Root) []Source {
	var out []Source
	for _, p := range zypplugins.Evaluate(fs) {
		s := Source{Table: "zypp_plugins", Manager: "zypper", Hook: p.Kind + ":" + p.Name, Path: p.Path, Command: p.Path, Active: p.Runs,
			mode: execv, argv: []string{p.Path}}
		if p.Source != "" { // a repository's plugin: URL names it
			s.Path, s.Line = p.Source, p.Line
		}
		if p.Kind == "services" {
			s.mode, s.shell, s.argv = withShell, "/bin/sh", nil
		}
		out = append(out, s)
	}
	return out
}

// rpmSources are the shell expansions of rpm's macro values and the
// plugins rpm loads. rpm runs the text of a `%( … )` with popen(3), that
// is `/bin/sh -c`, after expanding the macros in it (rpm 4.18
// rpmio/macro.c doShellEscape: expandThis, then popen); the plugin's
// shared object is dlopen'ed (lib/rpmplugins.c rpmpluginsAddPlugin).
// Embedded Lua (`%{lua: …}`) runs inside rpm and is left out.
func rpmSources(ctx context.Context, fs *fsroot.Root) []Source {
	macros, _, tgt := rpmmacros.Evaluate(ctx, fs)
	defined := rpmmacros.Defined(macros, tgt)
	var out []Source
	for _, m := range macros {
		for _, c := range rpmmacros.ShellCommandsWith(m.Body, defined) {
			s := Source{Table: "rpm_macros", Manager: "rpm", Hook: m.Name, Path: m.Path, Line: m.Line, Command: c,
				Active: m.Effective && m.Loaded, mode: withShell, shell: "/bin/sh"}
			if x, err := defined.Expand(c); err == nil {
				s.text = x
			} else {
				s.rpmWords = true
			}
			out = append(out, s)
		}
	}
	for _, p := range rpmplugins.Evaluate(fs, defined) {
		if p.MacroPath == "" || (p.Path == "" && !p.Dynamic) {
			// nothing configures it, or rpm loads nothing (the macro is
			// empty: the plugin is disabled)
			continue
		}
		out = append(out, Source{Table: "rpm_plugins", Manager: "rpm", Hook: p.Name, Path: p.MacroPath, Line: p.MacroLine,
			Command: p.Macro, Active: p.Loaded, mode: module, program: p.Path})
	}
	return out
}

// pluginCommands are the literal command lines a plugin module passes to
// os.system, subprocess and the like (its calls column): each is read as
// the shell reads it (a list argument is rendered as the command line that
// runs the same argv). One at import runs when the module is imported; one
// in a function when the package manager calls the plugin, which it does
// when the plugin is enabled.
func pluginCommands(tbl, manager, name, path string, imported, enabled bool, calls []pyscan.Call) []Source {
	var out []Source
	for _, c := range calls {
		if c.Kind != "command" || !c.Literal || c.Truncated || c.Arg == "" {
			continue
		}
		active := enabled
		if c.Func == "" {
			active = imported && c.When.Run != pyscan.Never
		}
		out = append(out, Source{Table: tbl, Manager: manager, Hook: name, Path: path, Line: c.Line,
			Command: c.Arg, Active: active, mode: withShell, shell: "/bin/sh"})
	}
	return out
}

// aptDir is the working directory apt runs a hook in: RunScripts
// (apt-pkg/contrib/fileutl.cc, the update and DPkg::Pre/Post-Invoke hooks)
// changes to /tmp/ first; the other hooks run where apt was started.
func aptDir(hook string) string {
	h := strings.ToLower(hook)
	if strings.HasPrefix(h, "binary::") {
		if _, rest, ok := strings.Cut(h[len("binary::"):], "::"); ok {
			h = rest
		}
	}
	switch {
	case strings.HasPrefix(h, "apt::update::"), h == "dpkg::pre-invoke", h == "dpkg::post-invoke":
		return "/tmp"
	}
	return ""
}

// Rows evaluates the root, as APT would with APT_CONFIG naming aptConfig.
func Rows(ctx context.Context, root, aptConfig string) ([]table.Row, error) {
	fs, rctx, done, err := table.OpenRoot(ctx, root)
	if err != nil {
		return nil, err
	}
	defer done()
	srcs, err := Sources(rctx, fs, aptConfig)
	if err != nil {
		return nil, err
	}
	r := newResolver(rctx, fs)
	defer r.close()
	var ts []target
	var of []int // the source of each target
	for i, s := range srcs {
		if i%64 == 0 {
			if err := table.Check(ctx); err != nil {
				return nil, err
			}
		}
		seen := map[string]bool{}
		for _, t := range r.targets(s) {
			key := strings.Join([]string{t.x.Word, t.x.How, strings.Join(t.x.Via, " > "), t.x.Lookup, t.path}, "\x00")
			if !seen[key] {
				seen[key] = true
				ts = append(ts, t)
				of = append(of, i)
			}
		}
	}
	if err := table.Check(ctx); err != nil {
		return nil, err
	}
	r.fill(ts)
	rows := make([]table.Row, len(ts))
	for i, t := range ts {
		rows[i] = row(srcs[of[i]], t, root, aptConfig)
	}
	return rows, nil
}

func row(s Source, t target, root, aptConfig string) table.Row {
	r := table.Row{
		"source_table": s.Table, "manager": s.Manager, "hook": s.Hook, "path": s.Path,
		"line": strconv.Itoa(s.Line), "command": s.Command, "active": table.Bool(s.Active),
		"word": t.x.Word, "how": t.x.How, "via": strings.Join(t.x.Via, " > "), "lookup": t.x.Lookup,
		"target": t.path, "resolved": t.resolved, "target_exists": table.Bool(t.exists),
		"reason": t.reason, "fetches": t.x.Fetches, "root": root, "apt_config": aptConfig,
	}
	for k, v := range t.prov.Columns() {
		r[k] = v
	}
	if !t.prov.Found {
		r["package"] = t.owner
	}
	return r
}

// targets lists the files one source makes run.
func (r *resolver) targets(s Source) []target {
	o := shellcmd.Options{Sh: r.shDialect(), Dir: s.dir, PATH: s.path}
	var execs []shellcmd.Exec
	var res shellcmd.Result
	switch s.mode {
	case module:
		execs = []shellcmd.Exec{moduleExec(s)}
	case withShell:
		sh := shellcmd.Exec{Word: s.shell, How: HowShell, Lookup: shellcmd.LookupAbsolute, PATH: shellcmd.DefaultPATH}
		if !path.IsAbs(s.shell) {
			sh.Lookup = shellcmd.LookupPath
		}
		execs = append(execs, sh)
		text := s.Command
		if s.text != "" {
			text = s.text
		}
		res = shellcmd.Command(text, o.Sh, o)
		if s.rpmWords {
			rpmDynamic(res.Execs)
		}
	case execv:
		res = shellcmd.Argv(s.argv, shellcmd.HowDirect, o)
		if len(res.Execs) > 0 && res.Execs[0].Lookup == shellcmd.LookupPath {
			// the first row is argv[0]'s (Argv lists it first)
			res.Execs[0].Lookup = shellcmd.LookupRelative
			res.Execs[0].Reason = "execv does not search PATH: a name without '/' is the file of that name in the working directory " + s.dir
		}
	case splitArgv:
		res = shellcmd.Argv(libdnf5Split(s.Command), shellcmd.HowCommand, o)
	case execValue:
		res = shellcmd.Argv([]string{s.Command}, shellcmd.HowDirect, o)
	}
	execs = append(execs, res.Execs...)
	var out []target
	for _, x := range execs {
		if x.Limit {
			r.fs.ReportLimit(s.Path, x.Reason)
		}
		out = append(out, r.resolve(x, 0, s.mode == execValue)...)
	}
	if res.Cut != "" {
		r.fs.ReportLimit(s.Path, res.Cut)
		out = append(out, target{x: shellcmd.Exec{How: shellcmd.HowCommand, Lookup: shellcmd.LookupError}, reason: "not listed: " + res.Cut})
	}
	return out
}

// moduleExec is the row of a plugin module: its file, or for a shared
// object named without '/' (dlopen searches the library path) or a value
// only rpm computes, the name with the reason.
func moduleExec(s Source) shellcmd.Exec {
	x := shellcmd.Exec{Word: s.Path, How: HowModule, Lookup: shellcmd.LookupAbsolute, PATH: shellcmd.DefaultPATH}
	if s.Table != "rpm_plugins" {
		return x
	}
	x.Word = s.program
	switch {
	case s.program == "":
		x.Word, x.Lookup = s.Command, shellcmd.LookupDynamic
		x.Reason = "the shared object is only known when rpm expands " + s.Command
	case !path.IsAbs(s.program):
		x.Lookup = shellcmd.LookupDynamic
		x.Reason = "dlopen searches the library path for it (LD_LIBRARY_PATH, ld.so.cache): which file rpm loads depends on the environment"
	}
	return x
}

// rpmDynamic marks the programs whose word holds a macro rpm expands
// before the shell reads the text: only known when rpm runs.
func rpmDynamic(execs []shellcmd.Exec) {
	for i := range execs {
		x := &execs[i]
		if x.Lookup != shellcmd.LookupDynamic && x.Lookup != shellcmd.LookupError && strings.Contains(x.Word, "%") {
			x.Lookup = shellcmd.LookupDynamic
			x.Reason = "the program is only known when rpm expands the macros in it (" + x.Word + ")"
		}
	}
}

// libdnf5Split splits an action's command as the libdnf5 actions plugin
// does (actions.cpp split() and unescape()): at spaces, a backslash
// keeping the next character; the program is the first word as written,
// the arguments are unescaped.
func libdnf5Split(cmd string) []string {
	if i := strings.IndexAny(cmd, "\x00\n\r"); i >= 0 {
		cmd = cmd[:i]
	}
	var words []string
	i := 0
	for {
		for i < len(cmd) && cmd[i] == ' ' {
			i++
		}
		if i >= len(cmd) {
			break
		}
		start := i
		escape := false
		for ; i < len(cmd) && (escape || cmd[i] != ' '); i++ {
			escape = !escape && cmd[i] == '\\'
		}
		words = append(words, cmd[start:i])
	}
	for j := 1; j < len(words); j++ {
		words[j] = libdnf5Unescape(words[j])
	}
	return words
}

func libdnf5Unescape(s string) string {
	var b strings.Builder
	escape := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !escape {
			if c == '\\' {
				escape = true
			} else {
				b.WriteByte(c)
			}
			continue
		}
		escape = false
		if e, ok := map[byte]byte{'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}[c]; ok {
			c = e
		}
		b.WriteByte(c)
	}
	return b.String()
}
