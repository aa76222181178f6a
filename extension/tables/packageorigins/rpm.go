package packageorigins

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
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
	fs, err := fsroot.OpenContext(ctx, root)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	rctx, cancel := table.Reading(ctx)
	defer cancel()
	db := rpmdb.Cached(rctx, ctx, fs)
	defer db.Close()
	pkgs, err := db.Summaries()
	if err != nil && len(pkgs) == 0 {
		return nil, nil // no rpm database, or one that is a problem of the root
	}
	h := rpmhistory.Load(rctx, fs)
	first := firstInstall(h, pkgs)
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
		row["source"], row["reason"] = classifyRPM(p.Name, rec, found, h, first, p.InstallTime, p.HasInstallTime)
		rows = append(rows, row)
	}
	return rows, nil
}

// firstInstall is when the root's history begins: DNF's first
// transaction, or the earliest install of a package that yumdb records
// (yumdb keeps no times); 0 when there is no history.
func firstInstall(h *rpmhistory.History, pkgs []rpmdb.Summary) int64 {
	first := h.First
	for _, p := range pkgs {
		rec, ok := h.Find(nevra(p))
		if t := p.InstallTime; ok && rec.Manager == "yum" && p.HasInstallTime && t > 0 && (first == 0 || t < first) {
			first = t
		}
	}
	return first
}

// nevra is what the history knows p by (an epoch rpm did not record is 0).
func nevra(p rpmdb.Summary) rpmhistory.NEVRA {
	return rpmhistory.NEVRA{Name: p.Name, Epoch: int64(p.Epoch), Version: p.Version, Release: p.Release, Arch: p.Arch}
}

// classifyRPM decides the source of an rpm package from what the package
// managers recorded, saying what it rests on.
func classifyRPM(name string, rec rpmhistory.Record, found bool, h *rpmhistory.History, first, installed int64, hasTime bool) (string, string) {
	switch {
	case found && rpmhistory.FromFile(rec.Repo):
		return FromLocalFile, fmt.Sprintf("%s installed it from a file named on its command line (repository %s)%s", rec.Manager, rec.Repo, where(rec))
	case found && (rec.Repo == "" || rec.Repo[0] == '@'):
		return FromUnknown, fmt.Sprintf("%s recorded it without a repository (%q)%s", rec.Manager, rec.Repo, where(rec))
	case found:
		return FromRepository, fmt.Sprintf("%s installed it from repository %s%s", rec.Manager, rec.Repo, where(rec))
	case name == "gpg-pubkey":
		return FromUnknown, "a public key rpm imported (rpm --import, or DNF or YUM for a repository's key): no history records keys"
	case len(h.Files) == 0:
		return FromUnknown, "no DNF or YUM history in the root (" + rpmhistory.DNF4 + ", " + rpmhistory.DNF5 + ", " + rpmhistory.YumDB + ")"
	case !hasTime:
		return FromUnknown, "no package manager history records it, and rpm recorded no install time"
	case first == 0 || installed < first:
		return FromUnknown, "no package manager history records it; installed before the history begins (the system's initial install, an image built with rpm)"
	}
	return FromUnknown, NoHistory + "; installed after the history began, by something other than DNF or YUM"
}

// where names the transaction a record is from.
func where(rec rpmhistory.Record) string {
	if rec.Trans == 0 {
		return " (" + rec.File + ")"
	}
	return fmt.Sprintf(" (%s, transaction %d: %s)", rec.File, rec.Trans, rec.Action)
}
