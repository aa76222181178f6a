// Package packageorigins is the package_origins table: for every installed
// package version, whether a configured repository offers it and what the
// package manager recorded of its install. A package that no repository
// offers and that only dpkg's log (not apt's history) installed came from
// a .deb file handed to dpkg — how a backdoored package is usually planted.
// For rpm (rpm.go), DNF's and YUM's histories say where each version came
// from, and a version none of them records, installed after they began,
// was installed by rpm alone.
package packageorigins

import (
	"context"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/aptlists"
	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/debhistory"
	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/extension/tables/packagescripts"
)

// The values of the source column.
const (
	FromRepository = "repository"
	FromLocalFile  = "local-file"
	FromUnknown    = "unknown"
)

// Table returns the package_origins table definition.
func Table() *table.Table {
	return &table.Table{
		Name: "package_origins",
		Description: "Where each installed package version came from: whether any of apt's package lists (`/var/lib/apt/lists/*_Packages`, plain or compressed) offers it, " +
			"and what dpkg's log (`/var/log/dpkg.log*`) and apt's history (`/var/log/apt/history.log*`, with its command line and requesting user) recorded of its install, rotated logs included. " +
			"A version that no list offers and that dpkg installed without apt is `local-file`: a .deb given to `dpkg -i`. " +
			"rpm packages (every rpm database format) with what DNF 4's history (`/var/lib/dnf/history.sqlite`, its write-ahead log included), DNF 5's (`/usr/lib/sysimage/libdnf5/transaction_history.sqlite`) and YUM's yumdb (`/var/lib/yum/yumdb`) recorded of the latest install, upgrade, downgrade or reinstall of that exact version: " +
			"`@commandline` (or YUM's file path) is `local-file`; a package no history records, installed after the history began, is `unknown` with the reason `" + NoHistory + "…`: rpm installed it alone. " +
			"Whether it came after the history began rests on its record number in rpm's database, which rpm allocates in order, before its install time, which the installer chooses (rpm records `SOURCE_DATE_EPOCH` as the install time): " +
			"a record newer than a package DNF or YUM installed came after it, whatever its install time says; an older record is the initial install unless its install time is after DNF's first transaction.",
		Columns: []table.Column{
			{Name: "manager", Type: table.Text, Description: "`dpkg` or `rpm`"},
			{Name: "package", Type: table.Text, Description: "Package name (`name:arch` for a Multi-Arch: same package)"},
			{Name: "version", Type: table.Text, Description: "Installed version (rpm: `[epoch:]version-release`)"},
			{Name: "arch", Type: table.Text, Description: "Architecture"},
			{Name: "in_repository", Type: table.Integer, Description: "1 when a package list offers this exact package, version and architecture; for rpm NULL (no repository metadata is read: whether a repository offers it is unknown)"},
			{Name: "repositories", Type: table.Text, Description: "The lists that offer it (file names of apt's lists directory), one per line; for rpm the repository id the history recorded (`@commandline` for a file)"},
			{Name: "installed_by", Type: table.Text, Description: "The command line of the last apt run that installed, upgraded, reinstalled or downgraded to this version (apt's `Commandline`; for rpm DNF's `cmdline`, DNF 5's description or yumdb's `command_line`); `''` when none did"},
			{Name: "requested_by", Type: table.Text, Description: "The user apt recorded for that run (`Requested-By`, e.g. `alice (1000)`); `''` for root or none; for rpm `uid N`, the login uid DNF or YUM recorded (`''` when unset)"},
			{Name: "logged_at", Type: table.Text, Description: "When dpkg's log last installed or upgraded to this version, as dpkg writes it (the host's local time); for rpm when that DNF transaction began (RFC 3339, UTC); `''` when no log line does"},
			{Name: "install_time", Type: table.BigInt, Description: "When dpkg last unpacked the package: modification time of `info/<package>.list` (dpkg records no time in its status); for rpm the header's INSTALLTIME, which rpm takes from `SOURCE_DATE_EPOCH` when the environment sets it"},
			{Name: "source", Type: table.Text, Description: "`repository` (a list offers it, or apt installed it by name; DNF or YUM installed it from a repository), `local-file` (apt installed it from a .deb named on its command line, or dpkg's log installs it and apt's history has no run that did; DNF's `@commandline`, YUM's file path), or `unknown`"},
			{Name: "reason", Type: table.Text, Description: "What the source rests on, or why it is unknown (no lists, logs rotated away…)"},
			table.RootColumn,
			packagescripts.AdmindirColumn,
		},
		Generate: generate,
	}
}

// generate is dpkg's rows for each root and admindir, and each root's rpm
// rows once.
func generate(ctx context.Context, q table.QueryContext) ([]table.Row, error) {
	out, err := packagescripts.PerAdmindir(Rows)(ctx, q)
	if err != nil {
		return nil, err
	}
	admindir := dpkgdb.Admindir
	if ads := q.Equals("admindir"); len(ads) > 0 {
		admindir = ads[0]
	}
	for _, root := range table.Roots(q) {
		rs, err := RPMRows(ctx, root, admindir)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// record is what the logs say of one package version.
type record struct {
	logged      string // dpkg.log time
	aptRun      *debhistory.AptRun
	aptFromFile bool
}

type key struct{ name, version string }

// Rows evaluates one root.
func Rows(ctx context.Context, root, admindir string) ([]table.Row, error) {
	fs, rctx, done, err := table.OpenRoot(ctx, root)
	if err != nil {
		return nil, err
	}
	defer done()
	stop := func() error { return table.Check(rctx) }
	admindir = path.Clean("/" + admindir)

	var pkgs []dpkgdb.Package
	st := dpkgdb.ReadStatus(rctx, fs, admindir, stop)
	if st.OpenErr != nil {
		return nil, nil // no dpkg database: nothing installed by dpkg
	}
	for _, p := range st.Packages {
		if p.Present() {
			pkgs = append(pkgs, p)
		}
	}
	if st.ParseErr != nil {
		fs.Report(admindir+"/status", st.ParseErr)
	}

	ix, probs := aptLists(rctx, fs, stop)
	for _, p := range probs {
		if fs.Kind(p.List) != "" {
			fs.Report(p.List, p.Err)
		}
	}
	recs := map[key]*record{}
	get := func(name, version string) *record {
		k := key{name, version}
		if recs[k] == nil {
			recs[k] = &record{}
		}
		return recs[k]
	}
	dpkgLogs := debhistory.Rotated(fs, debhistory.DpkgLog)
	for _, n := range dpkgLogs {
		readLog(fs, n, func(rc io.Reader) error {
			return debhistory.ParseDpkgLog(rc, stop, func(a debhistory.DpkgAction) { get(a.Package, a.New).logged = a.Time })
		})
	}
	aptLogs := debhistory.Rotated(fs, debhistory.AptHistory)
	for _, n := range aptLogs {
		readLog(fs, n, func(rc io.Reader) error {
			return debhistory.ParseAptHistory(rc, stop, func(run debhistory.AptRun) {
				fromFile := namesDebFile(run.Commandline)
				for _, c := range run.Changes {
					r := get(c.Package, c.Version)
					run := run
					r.aptRun, r.aptFromFile = &run, fromFile
				}
			})
		})
	}

	rows := make([]table.Row, 0, len(pkgs))
	for _, p := range pkgs {
		row := table.Row{"manager": "dpkg", "package": p.InfoName(), "version": p.Version, "arch": p.Arch,
			"root": root, "admindir": admindir, "installed_by": "", "requested_by": "", "logged_at": "", "install_time": ""}
		if fi, err := fs.Stat(admindir + "/info/" + p.InfoName() + ".list"); err == nil {
			row["install_time"] = strconv.FormatInt(fi.ModTime().Unix(), 10)
		}
		offers := ix.Offers(aptlists.Entry{Package: p.Name, Version: p.Version, Arch: p.Arch})
		row["in_repository"] = table.Bool(len(offers) > 0)
		row["repositories"] = strings.Join(offers, "\n")
		rec := recs[key{p.Name, p.Version}]
		if rec == nil {
			rec = &record{}
		}
		row["logged_at"] = rec.logged
		if rec.aptRun != nil {
			row["installed_by"], row["requested_by"] = rec.aptRun.Commandline, rec.aptRun.RequestedBy
		}
		row["source"], row["reason"] = classify(len(offers) > 0, rec, len(ix.Lists) > 0, len(dpkgLogs) > 0, len(aptLogs) > 0)
		rows = append(rows, row)
	}
	return rows, nil
}

// lists is what aptlists.Load returns.
type lists struct {
	ix    *aptlists.Index
	probs []aptlists.Problem
}

// aptLists reads apt's package lists, once for every query of the run
// when ctx has a cache (dbcache).
func aptLists(ctx context.Context, fs *fsroot.Root, stop func() error) (*aptlists.Index, []aptlists.Problem) {
	l := dbcache.Get(ctx, fs, "apt lists "+aptlists.Dir, func(r *dbcache.Reader) (lists, bool) {
		ix, probs := aptlists.Load(r, aptlists.Dir, stop)
		keep := true
		for _, p := range probs {
			keep = keep && fsroot.Classify(p.Err) == "" // nothing there is no problem
		}
		return lists{ix, probs}, keep
	})
	return l.ix, l.probs
}

// readLog parses one log file, decompressed; what stops the reading is a
// problem of the root (an unreadable file is reported when opened).
func readLog(fs *fsroot.Root, name string, parse func(io.Reader) error) {
	rc, err := debhistory.Open(fs, name)
	if err != nil {
		fs.Report(name, err)
		return
	}
	defer rc.Close()
	if err := parse(rc); err != nil {
		fs.Report(name, err)
	}
}

// classify decides the source from the evidence, saying what it rests on.
func classify(offered bool, rec *record, haveLists, haveDpkgLog, haveAptLog bool) (string, string) {
	switch {
	case offered:
		return FromRepository, "a package list offers this version"
	case rec.aptRun != nil && rec.aptFromFile:
		return FromLocalFile, "no list offers this version; apt installed it in a run whose command line names a .deb file"
	case rec.aptRun != nil:
		return FromRepository, "apt installed it by name (history.log); no list offers this version now"
	case rec.logged != "" && haveAptLog:
		return FromLocalFile, "no list offers this version; dpkg's log installs it and no run of apt's history does: dpkg was given a .deb file"
	case rec.logged != "":
		return FromUnknown, "no list offers this version; dpkg's log installs it, but there is no apt history to tell whether apt ran dpkg"
	}
	why := "no list offers this version"
	if !haveLists {
		why = "no apt package lists in the root"
	}
	if !haveDpkgLog && !haveAptLog {
		return FromUnknown, why + "; no dpkg or apt log"
	}
	return FromUnknown, why + "; no log records its install (rotated away, or installed before the logs)"
}

// namesDebFile reports whether an apt command line names a .deb file
// (`apt install ./x.deb`, `apt-get install /tmp/x.deb`).
func namesDebFile(cmd string) bool {
	for _, w := range strings.Fields(cmd) {
		if strings.HasSuffix(w, ".deb") && strings.Contains(w, "/") {
			return true
		}
	}
	return false
}
