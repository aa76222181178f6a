package rpmhistory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/sqlite"
)

// schema is one DNF version's history: the query of its install items,
// in transaction order, and the meaning of its enumerations.
type schema struct {
	items   string
	actions map[int64]string // the actions that put a version on the system
	reasons map[int64]string
}

// dnf4 is libdnf's swdb (libdnf/transaction/sql/create_tables.sql;
// enumerations in libdnf/transaction/Types.hpp and
// transaction_item_reason.hpp): TransactionItemAction INSTALL 1, DOWNGRADE
// 2, OBSOLETE 4, UPGRADE 6, REINSTALL 9 put the item's version on the
// system (DOWNGRADED 3, OBSOLETED 5, UPGRADED 7, REMOVE 8, REINSTALLED 10
// and REASON_CHANGE 11 do not); TransactionItemState DONE is 1.
var dnf4 = &schema{
	items: `SELECT t.id, t.dt_begin, t.user_id, t.cmdline, ti.action, ti.reason, r.repoid,
		p.name, p.epoch, p.version, p.release, p.arch
		FROM trans_item ti JOIN trans t ON t.id = ti.trans_id JOIN rpm p ON p.item_id = ti.item_id
		LEFT JOIN repo r ON r.id = ti.repo_id
		WHERE ti.state = 1 AND ti.action IN (1, 2, 4, 6, 9) ORDER BY t.id, ti.id`,
	actions: map[int64]string{1: "install", 2: "downgrade", 4: "obsolete", 6: "upgrade", 9: "reinstall"},
	reasons: map[int64]string{0: "", 1: "dependency", 2: "user", 3: "clean", 4: "weak-dependency", 5: "group"},
}

// dnf5 is libdnf5's (libdnf5/transaction/db/sql/create_tables.sql, which
// writes the enumerations into the database): trans_item_action Install
// 1, Upgrade 2, Downgrade 3, Reinstall 4 (Remove 5, Replaced 6, Reason
// Change 7 do not install); trans_item_state Ok 2; names and
// architectures in their own tables; the command line in
// trans.description.
var dnf5 = &schema{
	items: `SELECT t.id, t.dt_begin, t.user_id, t.description, ti.action_id, ti.reason_id, r.repoid,
		n.name, p.epoch, p.version, p.release, a.name
		FROM trans_item ti JOIN trans t ON t.id = ti.trans_id JOIN rpm p ON p.item_id = ti.item_id
		JOIN pkg_name n ON n.id = p.name_id JOIN arch a ON a.id = p.arch_id
		LEFT JOIN repo r ON r.id = ti.repo_id
		WHERE ti.state_id = 2 AND ti.action_id IN (1, 2, 3, 4) ORDER BY t.id, ti.id`,
	actions: map[int64]string{1: "install", 2: "upgrade", 3: "downgrade", 4: "reinstall"},
	reasons: map[int64]string{0: "", 1: "dependency", 2: "user", 3: "clean", 4: "weak-dependency", 5: "group", 6: "external-user"},
}

// loadDNF reads one DNF history database, if the root has it.
func loadDNF(ctx context.Context, fs *fsroot.Root, file, manager string, s *schema, h *History) bool {
	if fs.Kind(file) == "" {
		return false
	}
	db, closeDB, err := openDB(fs, file)
	if err != nil {
		fs.Report(file, fmt.Errorf("%s history: %w", manager, err))
		return true
	}
	defer closeDB()
	var first sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT min(dt_begin) FROM trans").Scan(&first); err != nil {
		fs.Report(file, fmt.Errorf("%s history: %w", manager, err))
		return true
	}
	if first.Valid && first.Int64 > 0 && (h.First == 0 || first.Int64 < h.First) {
		h.First = first.Int64
	}
	rows, err := db.QueryContext(ctx, s.items)
	if err != nil {
		fs.Report(file, fmt.Errorf("%s history: %w", manager, err))
		return true
	}
	defer rows.Close()
	bad := 0
	for rows.Next() {
		var v itemRow
		err := rows.Scan(&v.trans, &v.begin, &v.user, &v.cmdline, &v.action, &v.reason, &v.repo,
			&v.name, &v.epoch, &v.version, &v.release, &v.arch)
		var n NEVRA
		var rec Record
		if err == nil {
			n, rec, err = v.record(s)
		}
		if err != nil {
			if bad++; bad == 1 { // one problem says the file has such rows
				fs.Report(file, fmt.Errorf("%s history: transaction item: %w", manager, err))
			}
			continue
		}
		rec.Manager, rec.File = manager, file
		h.add(n, rec)
	}
	if err := rows.Err(); err != nil {
		fs.Report(file, fmt.Errorf("%s history: not read to the end: %w", manager, err))
	}
	return true
}

// itemRow is one install item as the query returns it; a hostile
// database may hold any type in any column, or NULL.
type itemRow struct {
	trans, begin, user, action, reason, epoch   sql.NullInt64
	cmdline, repo, name, version, release, arch sql.NullString
}

var errItem = errors.New("no package name, version, release or architecture")

// record is the row's package version and what was recorded of it.
func (v itemRow) record(s *schema) (NEVRA, Record, error) {
	if !v.name.Valid || v.name.String == "" || !v.version.Valid || v.version.String == "" ||
		!v.release.Valid || !v.arch.Valid {
		return NEVRA{}, Record{}, errItem
	}
	epoch := v.epoch.Int64
	if epoch < 0 {
		return NEVRA{}, Record{}, fmt.Errorf("%s: epoch %d", v.name.String, epoch)
	}
	reason, ok := s.reasons[v.reason.Int64]
	if !ok {
		reason = fmt.Sprintf("reason %d", v.reason.Int64)
	}
	rec := Record{Trans: v.trans.Int64, Begin: v.begin.Int64, Action: s.actions[v.action.Int64],
		Repo: v.repo.String, Cmdline: v.cmdline.String, Reason: reason}
	if v.user.Valid {
		rec.User = uid(v.user.Int64)
	}
	return NEVRA{v.name.String, epoch, v.version.String, v.release.String, v.arch.String}, rec, nil
}

// openDB opens a SQLite database of the root with its write-ahead log
// when it has one with content.
func openDB(fs *fsroot.Root, file string) (*sql.DB, func(), error) {
	f, err := fs.OpenFile(file)
	if err != nil {
		return nil, nil, err
	}
	var wal *fsroot.File
	if fi, err := fs.Stat(file + "-wal"); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		// one that cannot be opened is a problem OpenFile recorded; the
		// database is still read, without it
		wal, _ = fs.OpenFile(file + "-wal")
	}
	var db *sql.DB
	if wal != nil {
		db, err = sqlite.OpenWithLog(f.Descriptor(), wal.Descriptor())
	} else {
		db, err = sqlite.OpenFile(f.Descriptor())
	}
	closeAll := func() {
		if db != nil {
			db.Close()
		}
		if wal != nil {
			wal.Close()
		}
		f.Close()
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return db, closeAll, nil
}
