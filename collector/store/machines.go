package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// machinesSchema keys hunted hosts by the machine they are: one machine
// reached as vm, root@127.0.0.1:22 and 127.0.0.1:22 is one host, each
// of those names an alias of it. Hosts stored before keep their name as
// their one alias and no machine until a hunt identifies them (ResolveHost
// then adopts them, or merges them into the host of their machine).
// Enrolled hosts (enrolled:<identifier>) are keyed by their enrollment
// and get no aliases.
const machinesSchema = `
	-- the machine's identity (machine-id:…, product-uuid:…, with " root
	-- DIR" for a root that has none of its own); NULL until identified
	ALTER TABLE hosts ADD COLUMN machine TEXT;
	CREATE UNIQUE INDEX hosts_machine ON hosts (machine);
	-- its host name as it says (its /etc/hostname or uname -n), and the
	-- root hunted ('/' for the machine itself, '' unknown)
	ALTER TABLE hosts ADD COLUMN hostname TEXT NOT NULL DEFAULT '';
	ALTER TABLE hosts ADD COLUMN root TEXT NOT NULL DEFAULT '';
	CREATE TABLE host_aliases (
		alias     TEXT PRIMARY KEY,
		host_id   INTEGER NOT NULL REFERENCES hosts(id),
		last_seen INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX host_aliases_host ON host_aliases (host_id);
	INSERT INTO host_aliases (alias, host_id) SELECT name, id FROM hosts WHERE id NOT IN (SELECT host_id FROM nodes);`

// Machine is what a target said about the machine it reached.
type Machine struct {
	// ID is its identity: "machine-id:<id>" (systemd's, or D-Bus's) or
	// "product-uuid:<uuid>" (SMBIOS), followed by " root <DIR>" for a
	// root that has no identity of its own; "" when not known.
	ID       string
	Hostname string // its /etc/hostname, else uname -n ("" unknown)
	Root     string // the root hunted, absolute; "/" for the machine itself
}

// HostKey is how a hunt reached a host: the target's name and what it
// learned of the machine there.
type HostKey struct {
	Alias   string
	Machine Machine
}

// ResolveHost returns the name the host reached as k is stored under,
// recording k.Alias as one of its names. A known machine is its host
// whatever the alias; an alias of a host not yet identified (stored
// before hosts were identified, or first reached without an identity)
// makes that host the machine's, and when the machine already has a host
// the older one's history is merged into it. Without an identity the
// alias alone says which host it is. Enrolled hosts are never adopted or
// merged: their identity is their enrollment.
func (s *DB) ResolveHost(ctx context.Context, k HostKey) (string, error) {
	var name string
	if k.Machine.ID == "" {
		// the name decides, and nothing need be written before SaveHost
		// (thousands of enrolled hosts a hunt)
		err := s.db.QueryRowContext(ctx, `SELECT h.name FROM host_aliases a JOIN hosts h ON h.id = a.host_id WHERE a.alias = ?`, k.Alias).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return k.Alias, nil
		}
		return name, classify("resolve host "+k.Alias, err)
	}
	err := s.write(ctx, "resolve host "+k.Alias, func(tx *sql.Tx) error {
		id, err := resolveHost(ctx, s.d, tx, k)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO host_aliases (alias, host_id, last_seen)
			SELECT ?1, ?2, ?3 WHERE ?2 NOT IN (SELECT host_id FROM nodes)
			ON CONFLICT (alias) DO UPDATE SET host_id = excluded.host_id, last_seen = excluded.last_seen`,
			k.Alias, id, time.Now().UnixNano()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT name FROM hosts WHERE id = ?`, id).Scan(&name)
	})
	return name, err
}

func resolveHost(ctx context.Context, d dialect, tx *sql.Tx, k HostKey) (int64, error) {
	aliased, identified, err := aliasHost(ctx, tx, k.Alias)
	if err != nil {
		return 0, err
	}
	m := k.Machine
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM hosts WHERE machine = ?`, m.ID).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows) && aliased != 0 && !identified:
		// a host stored before it was identified is this machine's
		id = aliased
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET machine = ? WHERE id = ?`, m.ID, id); err != nil {
			return 0, err
		}
		if err := rename(ctx, tx, id, m); err != nil {
			return 0, err
		}
	case errors.Is(err, sql.ErrNoRows):
		name, err := freeName(ctx, tx, m)
		if err != nil {
			return 0, err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO hosts (name, machine) VALUES (?, ?) RETURNING id`, name, m.ID).Scan(&id); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	case aliased != 0 && aliased != id && !identified:
		if err := mergeHost(ctx, d, tx, aliased, id); err != nil {
			return 0, fmt.Errorf("merge %s into its machine's host: %w", k.Alias, err)
		}
		// the merged host may have held the name
		if err := rename(ctx, tx, id, m); err != nil {
			return 0, err
		}
	}
	if m.Hostname != "" {
		_, err = tx.ExecContext(ctx, `UPDATE hosts SET hostname = ?, root = ? WHERE id = ?`, m.Hostname, m.Root, id)
	}
	return id, err
}

// aliasHost finds the hunted host an alias names (0 for none) and whether
// it is identified: the host of the alias, else one not yet identified
// that has it as its name (SaveHost made it for a target that said no
// identity). A name of an enrolled host is no alias.
func aliasHost(ctx context.Context, tx *sql.Tx, alias string) (id int64, identified bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT h.id, h.machine IS NOT NULL FROM hosts h
		WHERE h.id NOT IN (SELECT host_id FROM nodes) AND CASE WHEN EXISTS (SELECT 1 FROM host_aliases WHERE alias = ?1)
			THEN h.id = (SELECT host_id FROM host_aliases WHERE alias = ?1)
			ELSE h.name = ?1 AND h.machine IS NULL END`, alias).Scan(&id, &identified)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, identified, err
}

// displayName is what a machine's host is called: its host name, with
// the root for a root that is not a machine of its own.
func displayName(m Machine) string {
	n := m.Hostname
	if n == "" {
		n = m.ID
	}
	if m.Root != "" && m.Root != "/" && machineRooted(m.ID) {
		n += ":" + m.Root
	}
	return n
}

// machineRooted: the identity is a machine's with a root on it.
func machineRooted(id string) bool { return strings.Contains(id, " root ") }

// freeName is the display name of m unless another host has it; then the
// identity tells them apart.
func freeName(ctx context.Context, tx *sql.Tx, m Machine) (string, error) {
	n := displayName(m)
	var taken int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM hosts WHERE name = ?`, n).Scan(&taken); err != nil {
		return "", err
	}
	if taken > 0 {
		n += " [" + m.ID + "]"
	}
	return n, nil
}

// rename gives an adopted host its machine's display name, when free: its
// old name stays an alias.
func rename(ctx context.Context, tx *sql.Tx, id int64, m Machine) error {
	if m.Hostname == "" {
		return nil
	}
	n := displayName(m)
	_, err := tx.ExecContext(ctx, `UPDATE hosts SET name = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM hosts WHERE name = ? AND id != ?)`, n, id, n, id)
	return err
}

// mergeHost moves the history of host from into host to and deletes
// from. A run that saved both keeps to's outcome, changes and problems. A
// row both saw keeps the earliest first and the latest last run, so each
// query's rows at to's latest run are what that run saw.
func mergeHost(ctx context.Context, d dialect, tx *sql.Tx, from, to int64) error {
	var qs []string
	for _, t := range []string{"problems", "changes", "query_runs", "host_runs"} {
		qs = append(qs, `DELETE FROM `+t+` WHERE host_id = ?1 AND run_id IN (SELECT run_id FROM host_runs WHERE host_id = ?2)`)
	}
	qs = append(qs,
		`INSERT INTO results (host_id, query_id, hash, row, first_run, last_run)
			SELECT ?2, query_id, hash, row, first_run, last_run FROM results WHERE host_id = ?1
			ON CONFLICT (host_id, query_id, hash) DO UPDATE SET first_run = `+d.least("results.first_run", "excluded.first_run")+`,
				last_run = `+d.greatest("results.last_run", "excluded.last_run"),
		`DELETE FROM results WHERE host_id = ?1`)
	for _, t := range []string{"host_runs", "query_runs", "changes", "problems", "host_aliases"} {
		qs = append(qs, `UPDATE `+t+` SET host_id = ?2 WHERE host_id = ?1`)
	}
	// what osquery logged under the name (pkgpersist ingest); a row both
	// logged is kept once
	for _, l := range loggedKeys {
		t, same := l.table, ""
		for _, c := range l.key {
			same += " AND o." + c + " = " + t + "." + c
		}
		qs = append(qs, `UPDATE `+t+` SET host_id = ?2 WHERE host_id = ?1 AND NOT EXISTS
			(SELECT 1 FROM `+t+` o WHERE o.host_id = ?2`+same+`)`, `DELETE FROM `+t+` WHERE host_id = ?1`)
	}
	qs = append(qs, `DELETE FROM hosts WHERE id = ?1`)
	for _, q := range qs {
		if _, err := execNumbered(ctx, tx, q, from, to); err != nil {
			return err
		}
	}
	return rederiveHost(ctx, tx, from, to)
}

// loggedKeys are the columns besides host_id of the unique keys of what
// osquery logged: a row another host already has under them stays behind
// (and goes with that host).
var loggedKeys = []struct {
	table string
	key   []string
}{
	{"scheduled_results", []string{"name", "unix_time", "epoch", "counter", "action", "hash"}},
	{"status_logs", []string{"unix_time", "filename", "line", "message"}},
}

// hostFilter selects the host h by its name or any of its aliases; it
// takes the name twice.
const hostFilter = `(h.name = ? OR h.id IN (SELECT host_id FROM host_aliases WHERE alias = ?))`
