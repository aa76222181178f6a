// Package packagescripts is the package_scripts table: every script a
// package manager runs on its own for an installed package — dpkg's
// maintainer scripts and triggers interests, rpm's scriptlets and triggers
// — with its text, interpreter, what it runs (calls) and the package's
// state. A package installed to persist does its work here: its postinst
// or %post runs as root at install and again at every upgrade or
// reinstall.
//
// rpm's scriptlets are read from each installed header
// (rpmdb.Header.Scriptlets) with rpm's semantics, from rpm's source
// (4.18 and later): the tag numbers of include/rpm/rpmtag.h; a plain
// scriptlet exists when its text or its interpreter tag does, runs with
// its recorded interpreter and arguments or else /bin/sh, and carries
// RPMSCRIPT_FLAG_* (lib/rpmscript.c: scriptInfo, rpmScriptFromTag,
// rpmScriptRun; lib/rpmscript.h); a trigger script i runs with
// TRIGGERSCRIPTPROG[i] for each condition whose TRIGGERINDEX is i, of the
// kind its RPMSENSE_TRIGGER* flag says, printed `name op version`
// (rpmScriptFromTriggerTag; lib/tagexts.c: triggercondsTagFor,
// triggertypeTagFor); file and transaction file triggers are the same
// arrays under their own tags, with path prefixes as names and a
// priority per script (lib/rpmtriggers.c reads
// [TRANS]FILETRIGGERPRIORITIES at the script's index). The oracle tests
// compare the rows with rpm -q --scripts, --triggers and --filetriggers.
package packagescripts

import (
	"context"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/scriptcalls"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// MaxBody is how much of a script the body column carries; the sha256 and
// line count are always of the whole file, and body_truncated says when
// the body is cut.
const MaxBody = 256 << 10

// AdmindirColumn is dpkg's --admindir for the query (default /var/lib/dpkg).
var AdmindirColumn = table.Column{Name: "admindir", Type: table.Text, Hidden: true, Operators: []table.Operator{table.Equals},
	Description: "dpkg's database directory inside the root, as `dpkg --admindir` takes it (default `/var/lib/dpkg`)"}

// Table returns the package_scripts table definition.
func Table() *table.Table {
	return &table.Table{
		Name: "package_scripts",
		Description: "Every script a package manager runs by itself for a package it has: dpkg's maintainer scripts " +
			"(`<admindir>/info/<package>[:<arch>].{preinst,postinst,prerm,postrm,config}`) and `triggers` interest and activation directives, " +
			"for the packages of dpkg's status file and for script files no installed package explains (orphans, with the reason); " +
			"and every scriptlet of every package in the root's rpm database (Berkeley DB, NDB or SQLite, found as rpm finds it): `%pretrans` to `%verifyscript`, triggers with their conditions, " +
			"file and transaction file triggers with their path prefixes and priorities, as `rpm -q --scripts`, `--triggers` and `--filetriggers` list them. " +
			"Each row has the text, its interpreter and the commands it runs.",
		Columns: []table.Column{
			{Name: "manager", Type: table.Text, Description: "`dpkg` (or `rpm`)"},
			{Name: "package", Type: table.Text, Description: "Package name (dpkg: `name:arch` for a Multi-Arch: same package, as dpkg names its files; rpm: NAME); for an orphan, the name its file carries"},
			{Name: "version", Type: table.Text, Description: "Version of the package as the package manager prints it: dpkg's Version field (`[epoch:]upstream[-revision]`), rpm's `%{EVR}` (`[epoch:]version-release`, the epoch only when the header has one); `''` for an orphan"},
			{Name: "arch", Type: table.Text, Description: "Architecture as the database records it"},
			{Name: "script", Type: table.Text, Description: "Kind: dpkg `preinst`, `postinst`, `prerm`, `postrm`, `config` (run by debconf), `triggers` (the directives file); rpm `pretrans`, `pre`, `post`, `preun`, `postun`, `posttrans`, `preuntrans`, `postuntrans` (rpm ≥ 4.20), `verifyscript`, `triggerprein`, `triggerin`, `triggerun`, `triggerpostun`, `filetriggerin`, `filetriggerun`, `filetriggerpostun`, `transfiletriggerin`, `transfiletriggerun`, `transfiletriggerpostun` (a trigger script no condition names has no suffix)"},
			{Name: "interpreter", Type: table.Text, Description: "The program that runs it: dpkg executes the file, so its `#!` line (interpreter and its one argument), or `/bin/sh` when there is none (execvp runs a file without one with /bin/sh); rpm its `-p` interpreter and arguments as recorded (`<lua>` is rpm's embedded Lua), else `/bin/sh`, which rpm runs a scriptlet with; `''` for a triggers file and for an rpm trigger script rpm does not run"},
			{Name: "condition", Type: table.Text, Description: "When it runs beyond its kind: dpkg triggers directives, one per line (`interest /usr/share/x`, `activate-noawait ldconfig`); rpm trigger conditions (`name`, `name op version`) and file trigger path prefixes, one per line"},
			{Name: "priority", Type: table.Text, Description: "rpm file trigger priority; `''` where the manager has none"},
			{Name: "flags", Type: table.Text, Description: "Comma-separated facts: dpkg `no-shebang` (runs with /bin/sh), `not-executable` (dpkg fails to run it); rpm's RPMSCRIPT_FLAG_* recorded for the scriptlet: `expand` (macros expanded before it runs), `qformat` (query-format tags expanded), `critical` (its failure fails the transaction)"},
			{Name: "path", Type: table.Text, Description: "File the script is read from, as seen inside the root; `''` for a scriptlet stored in the rpm database"},
			{Name: "body", Type: table.Text, Description: "The script's text, at most 256 KiB (see body_truncated); `''` for an rpm `-p` program without a script"},
			{Name: "body_truncated", Type: table.Integer, Description: "1 when body holds only the first 256 KiB of the script; sha256 and lines are still of all of it"},
			{Name: "sha256", Type: table.Text, Description: "SHA-256 of the whole script; `''` when it could not be read or an rpm scriptlet has no text"},
			{Name: "lines", Type: table.Integer, Description: "Number of lines of the whole script"},
			{Name: "calls", Type: table.Text, Description: scriptcalls.Description},
			{Name: "mtime", Type: table.BigInt, Description: "Modification time of the script file (dpkg keeps the time the file had in the .deb, so a later time means it was changed on the host); `''` for rpm"},
			{Name: "install_time", Type: table.BigInt, Description: "When the package was last unpacked: dpkg records no time in its status file, so this is the modification time of `info/<package>.list`, which dpkg rewrites at every unpack (`''` for a package not unpacked: after removal the list's time is the removal's); rpm's INSTALLTIME"},
			{Name: "status", Type: table.Text, Description: "`installed` when the package manager has the package unpacked (it runs the script at the next upgrade, removal or trigger; every package of rpm's database is), else `orphan`"},
			{Name: "state", Type: table.Text, Description: "The package's state as the database records it (dpkg: `installed`, `config-files`, `half-configured`, `unpacked`, `triggers-pending`… of its Status field); `''` when the package is not in the database, and for rpm, which keeps no state"},
			{Name: "reason", Type: table.Text, Description: "Why a row is an orphan, why its calls are not read, read problems, and where an rpm header's scriptlet arrays disagree (what rpm then does)"},
			table.RootColumn,
			AdmindirColumn,
		},
		Generate: generate,
	}
}

// Script is one row before rendering; each package manager's reader fills
// it.
type Script struct {
	Manager, Package, Version, Arch, Kind string
	Interpreter, Condition, Priority      string
	Flags                                 []string
	Path, Body                            string
	Truncated                             bool
	SHA256                                string
	Lines                                 int
	Calls                                 string
	Mtime, InstallTime                    string
	Installed                             bool
	State                                 string
	Reasons                               []string
}

func (s *Script) note(r string) { s.Reasons = append(s.Reasons, r) }

// PerAdmindir makes a Generate that evaluates each root and dpkg database
// directory the query names (admindir defaults to dpkg's).
func PerAdmindir(rows func(ctx context.Context, root, admindir string) ([]table.Row, error)) table.Generate {
	return func(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
		var out []table.Row
		for _, root := range table.Roots(q) {
			for _, ad := range admindirs(q) {
				rs, err := rows(ctx, root, ad)
				if err != nil {
					return nil, err
				}
				out = append(out, rs...)
			}
		}
		return out, nil
	}
}

// admindirs are the dpkg database directories the query names, else
// dpkg's default.
func admindirs(q table.QueryContext) []string {
	if ads := q.Equals("admindir"); len(ads) > 0 {
		return ads
	}
	return []string{dpkgdb.Admindir}
}

// generate evaluates each root the query names, with each dpkg database
// directory it names (admindir defaults to dpkg's).
func generate(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
	var out []table.Row
	for _, root := range table.Roots(q) {
		rs, err := Rows(ctx, root, admindirs(q)...)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// Rows evaluates one root: the scripts of dpkg's database in each
// admindir, then the scriptlets of the root's rpm database, once (its rows
// carry the first admindir, which they do not depend on, so that the
// query's constraint keeps them).
func Rows(ctx context.Context, root string, admindirs ...string) ([]table.Row, error) {
	fs, rctx, done, err := table.OpenRoot(ctx, root)
	if err != nil {
		return nil, err
	}
	defer done()
	if len(admindirs) == 0 {
		admindirs = []string{dpkgdb.Admindir}
	}
	var rows []table.Row
	for _, ad := range admindirs {
		scripts, err := Dpkg(rctx, fs, ad)
		if err != nil {
			return nil, err
		}
		rows = append(rows, render(scripts, root, ad)...)
	}
	return append(rows, render(RPM(rctx, fs), root, admindirs[0])...), nil
}

// render makes the table's rows of scripts.
func render(scripts []Script, root, admindir string) []table.Row {
	rows := make([]table.Row, len(scripts))
	for i, s := range scripts {
		status := "orphan"
		if s.Installed {
			status = "installed"
		}
		rows[i] = table.Row{
			"manager": s.Manager, "package": s.Package, "version": s.Version, "arch": s.Arch, "script": s.Kind,
			"interpreter": s.Interpreter, "condition": s.Condition, "priority": s.Priority, "flags": strings.Join(s.Flags, ","),
			"path": s.Path, "body": s.Body, "body_truncated": table.Bool(s.Truncated), "sha256": s.SHA256,
			"lines": strconv.Itoa(s.Lines), "calls": s.Calls, "mtime": s.Mtime, "install_time": s.InstallTime,
			"status": status, "state": s.State, "reason": strings.Join(s.Reasons, "; "), "root": root, "admindir": admindir,
		}
	}
	return rows
}
