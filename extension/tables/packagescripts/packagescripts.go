// Package packagescripts is the package_scripts table: every script a
// package manager runs on its own for an installed package — dpkg's
// maintainer scripts and triggers interests, rpm's scriptlets and triggers
// — with its text, interpreter, what it runs (calls) and the package's
// state. A package installed to persist does its work here: its postinst
// or %post runs as root at install and again at every upgrade or
// reinstall.
package packagescripts

import (
	"context"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
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
			"rpm's scriptlets (`pretrans`, `pre`, `post`, `preun`, `postun`, `posttrans`, `verifyscript`, triggers and file triggers) use the same columns. " +
			"Each row has the text, its interpreter and the commands it runs.",
		Columns: []table.Column{
			{Name: "manager", Type: table.Text, Description: "`dpkg` (or `rpm`)"},
			{Name: "package", Type: table.Text, Description: "Package name (dpkg: `name:arch` for a Multi-Arch: same package, as dpkg names its files); for an orphan, the name its file carries"},
			{Name: "version", Type: table.Text, Description: "Version of the package as the database records it; `''` for an orphan"},
			{Name: "arch", Type: table.Text, Description: "Architecture as the database records it"},
			{Name: "script", Type: table.Text, Description: "Kind: dpkg `preinst`, `postinst`, `prerm`, `postrm`, `config` (run by debconf), `triggers` (the directives file); rpm `pretrans`, `pre`, `post`, `preun`, `postun`, `posttrans`, `verifyscript`, `triggerprein`, `triggerin`, `triggerun`, `triggerpostun`, `filetrigger*`, `transfiletrigger*`"},
			{Name: "interpreter", Type: table.Text, Description: "The program that runs it: dpkg executes the file, so its `#!` line (interpreter and its one argument), or `/bin/sh` when there is none (execvp runs a file without one with /bin/sh); rpm its `-p` interpreter; `''` for a triggers file"},
			{Name: "condition", Type: table.Text, Description: "When it runs beyond its kind: dpkg triggers directives, one per line (`interest /usr/share/x`, `activate-noawait ldconfig`); rpm trigger conditions and file trigger path prefixes"},
			{Name: "priority", Type: table.Text, Description: "rpm file trigger priority; `''` where the manager has none"},
			{Name: "flags", Type: table.Text, Description: "Comma-separated facts: dpkg `no-shebang` (runs with /bin/sh), `not-executable` (dpkg fails to run it); rpm scriptlet flags"},
			{Name: "path", Type: table.Text, Description: "File the script is read from, as seen inside the root; `''` for a scriptlet stored in the rpm database"},
			{Name: "body", Type: table.Text, Description: "The script's text, at most 256 KiB (see body_truncated)"},
			{Name: "body_truncated", Type: table.Integer, Description: "1 when body holds only the first 256 KiB of the script; sha256 and lines are still of all of it"},
			{Name: "sha256", Type: table.Text, Description: "SHA-256 of the whole script; `''` when it could not be read"},
			{Name: "lines", Type: table.Integer, Description: "Number of lines of the whole script"},
			{Name: "calls", Type: table.Text, Description: scriptcalls.Description},
			{Name: "mtime", Type: table.BigInt, Description: "Modification time of the script file (dpkg keeps the time the file had in the .deb, so a later time means it was changed on the host); `''` for rpm"},
			{Name: "install_time", Type: table.BigInt, Description: "When the package was last unpacked: dpkg records no time in its status file, so this is the modification time of `info/<package>.list`, which dpkg rewrites at every unpack (`''` for a package not unpacked: after removal the list's time is the removal's); rpm's INSTALLTIME"},
			{Name: "status", Type: table.Text, Description: "`installed` when the package manager has the package unpacked (it runs the script at the next upgrade, removal or trigger), else `orphan`"},
			{Name: "state", Type: table.Text, Description: "The package's state as the database records it (dpkg: `installed`, `config-files`, `half-configured`, `unpacked`, `triggers-pending`… of its Status field); `''` when the package is not in the database"},
			{Name: "reason", Type: table.Text, Description: "Why a row is an orphan, why its calls are not read, and read problems"},
			table.RootColumn,
			AdmindirColumn,
		},
		Generate: PerAdmindir(Rows),
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
		admindirs := q.Equals("admindir")
		if len(admindirs) == 0 {
			admindirs = []string{dpkgdb.Admindir}
		}
		var out []table.Row
		for _, root := range table.Roots(q) {
			for _, ad := range admindirs {
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

// Rows evaluates one root with dpkg's database in admindir.
func Rows(ctx context.Context, root, admindir string) ([]table.Row, error) {
	fs, err := fsroot.OpenContext(ctx, root)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	rctx, cancel := table.Reading(ctx)
	defer cancel()
	scripts, err := Dpkg(rctx, fs, admindir)
	if err != nil {
		return nil, err
	}
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
	return rows, nil
}
