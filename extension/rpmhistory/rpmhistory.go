// Package rpmhistory reads what the RPM family's package managers recorded
// of the packages they installed: DNF 4's history database
// (/var/lib/dnf/history.sqlite), DNF 5's (/usr/lib/sysimage/libdnf5/
// transaction_history.sqlite) and YUM 3's yumdb (/var/lib/yum/yumdb). Each
// install, upgrade, downgrade or reinstall of a package version is a
// Record: the repository it came from (@commandline for a file named on
// the command line), the command line and the user. A package that rpm
// installed alone (rpm -i) is in none of them.
//
// Every file is read inside the root through fsroot, the SQLite databases
// by descriptor together with their write-ahead logs (DNF leaves its
// history in history.sqlite-wal until a checkpoint), read-only: what
// cannot be read is a problem of the root.
package rpmhistory

import (
	"context"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// The files read.
const (
	DNF4  = "/var/lib/dnf/history.sqlite"
	DNF5  = "/usr/lib/sysimage/libdnf5/transaction_history.sqlite"
	YumDB = "/var/lib/yum/yumdb"
)

// NEVRA names a package version; Epoch is 0 for none, as DNF stores it.
type NEVRA struct {
	Name    string
	Epoch   int64
	Version string
	Release string
	Arch    string
}

// Record is what a package manager recorded of one install of a package
// version.
type Record struct {
	Manager string // "dnf" (DNF 4), "dnf5" or "yum"
	File    string // the database or yumdb directory it is from
	Trans   int64  // the transaction's number (0 for yumdb)
	Begin   int64  // when the transaction began, Unix seconds (0 for yumdb)
	Action  string // install, upgrade, downgrade, reinstall, obsolete
	Repo    string // the repository id: @commandline for a file, /… for a file YUM installed
	Cmdline string // the command line (DNF 5: the transaction's description)
	User    string // the user id the manager recorded ("" when none)
	Reason  string // why: user, dependency, weak-dependency, group, clean, … ("" when none)
}

// History is what a root's package managers recorded.
type History struct {
	// Files are the databases and the yumdb directory that were found.
	Files []string
	// First is the earliest transaction begin in DNF's histories (0 when
	// there is none).
	First int64
	by    map[NEVRA]Record
	noEp  map[NEVRA]Record // yumdb records, which have no epoch (Epoch -1)
}

// Find returns the latest record of the package version: DNF 5's over DNF
// 4's over yumdb's, a later transaction over an earlier one.
func (h *History) Find(n NEVRA) (Record, bool) {
	if r, ok := h.by[n]; ok {
		return r, true
	}
	n.Epoch = -1
	r, ok := h.noEp[n]
	return r, ok
}

// Load reads the root's histories; ctx bounds the reading.
func Load(ctx context.Context, fs *fsroot.Root) *History {
	h := &History{by: map[NEVRA]Record{}, noEp: map[NEVRA]Record{}}
	for _, db := range []struct {
		file, manager string
		schema        *schema
	}{{YumDB, "yum", nil}, {DNF4, "dnf", dnf4}, {DNF5, "dnf5", dnf5}} {
		var found bool
		if db.schema == nil {
			found = loadYumDB(ctx, fs, h)
		} else {
			found = loadDNF(ctx, fs, db.file, db.manager, db.schema, h)
		}
		if found {
			h.Files = append(h.Files, db.file)
		}
	}
	return h
}

// add keeps rec for n unless a record already kept is later: the files are
// read oldest manager first, each in transaction order.
func (h *History) add(n NEVRA, rec Record) {
	if n.Epoch < 0 {
		h.noEp[n] = rec
		return
	}
	h.by[n] = rec
	if rec.Begin > 0 && (h.First == 0 || rec.Begin < h.First) {
		h.First = rec.Begin
	}
}

// uid is a user id as text; DNF records an unset login uid as -1 (or its
// unsigned 4294967295): no user.
func uid(v int64) string {
	if v < 0 || v == 4294967295 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// FromFile reports whether a repository id names a package file rather
// than a repository: DNF's @commandline, and YUM's path of a local
// package (yum localinstall records the file, "/name-ver-rel.arch").
func FromFile(repo string) bool {
	return repo == "@commandline" || strings.HasPrefix(repo, "/")
}
