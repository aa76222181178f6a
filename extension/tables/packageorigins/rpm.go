package packageorigins

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/rpmhistory"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// NoHistory begins the reason of an rpm package that no package manager
// history records although the root has one that began before the
// package was installed: rpm installed it alone (rpm -i, rpm -U), as a
// planted package is. packages-from-local-file matches it.
const NoHistory = "no package manager history records it (rpm -i?)"

// RPMRows are the rows of the root's rpm packages, in rpm's order; admindir
// is the hidden column's value (dpkg's; rpm rows echo the query's).
func RPMRows(ctx context.Context, root, admindir string) ([]table.Row, error) {
	fs, rctx, done, err := table.OpenRoot(ctx, root)
	if err != nil {
		return nil, err
	}
	defer done()
	db := rpmdb.Cached(rctx, ctx, fs)
	defer db.Close()
	pkgs, err := db.Summaries()
	if err != nil && len(pkgs) == 0 {
		return nil, nil // no rpm database, or one that is a problem of the root
	}
	h := rpmhistory.Load(rctx, fs)
	begins := historyStart(h, pkgs)
	rows := make([]table.Row, 0, len(pkgs))
	for _, p := range pkgs {
		evr := p.Version + "-" + p.Release
		if p.HasEpoch {
			evr = strconv.Itoa(int(p.Epoch)) + ":" + evr
		}
		row := table.Row{"manager": "rpm", "package": p.Name, "version": evr, "arch": p.Arch,
			"in_repository": "", "repositories": "", "installed_by": "", "requested_by": "", "logged_at": "",
			"install_time": "", "root": root, "admindir": admindir}
		if p.HasInstallTime {
			row["install_time"] = strconv.FormatInt(p.InstallTime, 10)
		}
		rec, found := h.Find(nevra(p))
		if found {
			row["repositories"], row["installed_by"] = rec.Repo, rec.Cmdline
			if rec.User != "" {
				row["requested_by"] = "uid " + rec.User
			}
			if rec.Begin > 0 {
				row["logged_at"] = time.Unix(rec.Begin, 0).UTC().Format(time.RFC3339)
			}
		}
		row["source"], row["reason"] = classifyRPM(p, rec, found, h, begins)
		rows = append(rows, row)
	}
	return rows, nil
}

// start is where the root's history begins, in time and in rpm's
// database. The time is the installer's word (rpm records
// SOURCE_DATE_EPOCH as the install time, and a clock can be wrong); the
// record number is rpm's: every backend gives a new package the next
// number of a counter that only grows (Berkeley DB: the counter in record
// 0, lib/backend/db3.c pkgInstance; NDB: the header's nextpkgidx,
// ndb/rpmpkg.c rpmpkgNextPkgIdx; SQLite: hnum INTEGER PRIMARY KEY
// AUTOINCREMENT, lib/backend/sqlite.c), so a package with a higher number
// than one DNF or YUM installed was installed after it (rpm --rebuilddb
// renumbers in the order the old database lists records: by number in
// SQLite, in hash or slot order in Berkeley DB and NDB).
type start struct {
	// time is DNF's first transaction, or the earliest install of a
	// package yumdb records (yumdb keeps no times); 0 when there is none
	time int64
	// num is the lowest record number of an installed package the
	// history records; 0 when it records none of them
	num uint32
}

// historyStart is where the root's history begins.
func historyStart(h *rpmhistory.History, pkgs []rpmdb.Summary) start {
	s := start{time: h.First}
	for _, p := range pkgs {
		rec, ok := h.Find(nevra(p))
		if !ok {
			continue
		}
		if p.Num != 0 && (s.num == 0 || p.Num < s.num) {
			s.num = p.Num
		}
		if t := p.InstallTime; rec.Manager == "yum" && p.HasInstallTime && t > 0 && (s.time == 0 || t < s.time) {
			s.time = t
		}
	}
	return s
}

// nevra is what the history knows p by (an epoch rpm did not record is 0).
func nevra(p rpmdb.Summary) rpmhistory.NEVRA {
	return rpmhistory.NEVRA{Name: p.Name, Epoch: int64(p.Epoch), Version: p.Version, Release: p.Release, Arch: p.Arch}
}

// classifyRPM decides the source of an rpm package from what the package
// managers recorded, saying what it rests on. Of a package no history
// records, its record number says whether it came after the history
// began; its install time only where the numbers cannot tell.
func classifyRPM(p rpmdb.Summary, rec rpmhistory.Record, found bool, h *rpmhistory.History, s start) (string, string) {
	const before = "no package manager history records it; installed before the history begins (the system's initial install, an image built with rpm)"
	const older = ": its rpm database record is older than every package DNF or YUM installed"
	switch {
	case found && rpmhistory.FromFile(rec.Repo):
		return FromLocalFile, fmt.Sprintf("%s installed it from a file named on its command line (repository %s)%s", rec.Manager, rec.Repo, where(rec))
	case found && (rec.Repo == "" || rec.Repo[0] == '@'):
		return FromUnknown, fmt.Sprintf("%s recorded it without a repository (%q)%s", rec.Manager, rec.Repo, where(rec))
	case found:
		return FromRepository, fmt.Sprintf("%s installed it from repository %s%s", rec.Manager, rec.Repo, where(rec))
	case p.Name == "gpg-pubkey":
		return FromUnknown, "a public key rpm imported (rpm --import, or DNF or YUM for a repository's key): no history records keys"
	case len(h.Files) == 0:
		return FromUnknown, "no DNF or YUM history in the root (" + rpmhistory.DNF4 + ", " + rpmhistory.DNF5 + ", " + rpmhistory.YumDB + ")"
	case s.num != 0 && p.Num > s.num:
		return FromUnknown, NoHistory + "; installed after the history began" + newer(p, s)
	case !p.HasInstallTime && s.num != 0:
		return FromUnknown, before + older + " (rpm recorded no install time)"
	case !p.HasInstallTime:
		return FromUnknown, "no package manager history records it, and rpm recorded no install time"
	case s.num != 0 && (s.time == 0 || p.InstallTime <= s.time):
		// within the second DNF's first transaction began, the record
		// says which came first
		return FromUnknown, before + older
	case s.time == 0 || p.InstallTime < s.time:
		return FromUnknown, before
	}
	// a later install time (with an older record: the packages of DNF's
	// first transactions were since upgraded or removed)
	return FromUnknown, NoHistory + "; installed after the history began, by something other than DNF or YUM"
}

// newer says why a package whose record is newer than one DNF or YUM
// installed was installed after the history began, whatever its install
// time says.
func newer(p rpmdb.Summary, s start) string {
	const why = "its rpm database record is newer than packages DNF or YUM installed"
	switch {
	case !p.HasInstallTime:
		return " (" + why + "; rpm recorded no install time)"
	case s.time != 0 && p.InstallTime < s.time:
		return fmt.Sprintf(" (%s; its install time, %s, is earlier: rpm takes SOURCE_DATE_EPOCH as the install time, and a clock can be wrong)",
			why, time.Unix(p.InstallTime, 0).UTC().Format(time.RFC3339))
	}
	return ", by something other than DNF or YUM (" + why + ")"
}

// where names the transaction a record is from.
func where(rec rpmhistory.Record) string {
	if rec.Trans == 0 {
		return " (" + rec.File + ")"
	}
	return fmt.Sprintf(" (%s, transaction %d: %s)", rec.File, rec.Trans, rec.Action)
}
