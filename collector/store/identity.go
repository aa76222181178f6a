package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// identitySchema keeps enrolled hosts apart from the hosts hunts reach
// over SSH or locally, and what the identity rules of EnrollNode need:
// each node's hardware identity, whether the server has told it its key
// is invalid (osqueryd enrolls again only then), an operator's leave to
// enroll again, and every enrollment of a known identifier.
const identitySchema = `
	-- enrolled hosts get a name of their own in hosts: an osqueryd host
	-- enrolling as "vm:/path" is not the local hunt of /path
	UPDATE hosts SET name = 'enrolled:' || name WHERE id IN (SELECT host_id FROM nodes);
	ALTER TABLE nodes ADD COLUMN hw_uuid TEXT NOT NULL DEFAULT '';
	ALTER TABLE nodes ADD COLUMN hw_serial TEXT NOT NULL DEFAULT '';
	-- the key no longer works and a new enrollment is welcome (unrevoked)
	ALTER TABLE nodes ADD COLUMN key_retired INTEGER NOT NULL DEFAULT 0;
	-- when the server last answered this node's key with node_invalid
	ALTER TABLE nodes ADD COLUMN told_invalid INTEGER NOT NULL DEFAULT 0;
	-- an operator allowed the next enrollment whatever it claims
	ALTER TABLE nodes ADD COLUMN allow_reenroll INTEGER NOT NULL DEFAULT 0;
	-- when the node last enrolled again (0: never)
	ALTER TABLE nodes ADD COLUMN reenrolled INTEGER NOT NULL DEFAULT 0;
` + identityBackfill + `	CREATE TABLE enrollments (
		host_id INTEGER NOT NULL REFERENCES hosts(id),
		at      INTEGER NOT NULL,
		remote  TEXT NOT NULL,
		details TEXT NOT NULL,
		outcome TEXT NOT NULL, -- accepted, or the reason it was refused
		detail  TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX enrollments_host ON enrollments (host_id, at);`

// identityBackfill fills the new identity columns of nodes enrolled
// before them (SQLite only: see dialect.migration).
const identityBackfill = `
	UPDATE nodes SET hw_uuid = coalesce(json_extract(details, '$.system_info.uuid'), ''),
		hw_serial = coalesce(json_extract(details, '$.system_info.hardware_serial'), '')
		WHERE json_valid(details);`

// identityMigration is identitySchema's index in migrations.
const identityMigration = 3

// EnrolledHost is the name an enrolled host_identifier has among the
// hosts results are stored for.
func EnrolledHost(identifier string) string { return "enrolled:" + identifier }

// Hardware is what identifies a host's machine in its enrollment:
// system_info's uuid and hardware_serial ("" when not sent).
type Hardware struct{ UUID, Serial string }

// Enrollment is an enroll request whose secret matched.
type Enrollment struct {
	Identifier     string
	Details        json.RawMessage // the host_details kept
	OsqueryVersion string
	Hardware       Hardware
	KeyHash        string
	Remote         string
	At             time.Time
}

// EnrollRefused is an enrollment the identity rules refuse. Alert marks
// one that may be an attempt to take a host's identity.
type EnrollRefused struct {
	Reason string // revoked, reenroll_unsolicited, hardware_changed
	Detail string
	Alert  bool
}

func (e *EnrollRefused) Error() string { return e.Reason + ": " + e.Detail }

// NodeKnown tells whether a host_identifier has enrolled before.
func (s *DB) NodeKnown(ctx context.Context, identifier string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM nodes WHERE host_identifier = ?`, identifier).Scan(&n)
	return n > 0, err
}

// EnrollNode records an enrollment with a new node key, as osquery's own
// protocol allows it. A new identifier is enrolled. A known one enrolls
// again (keeping its history, its old key stopping) only when it is not
// revoked, and either the server has answered its key with node_invalid
// since it last enrolled (what makes osqueryd enroll again) or an
// operator allowed it; a changed hardware identity needs the operator
// whatever else holds. Every enrollment of a known identifier, accepted
// or refused, is recorded with its details. again reports a
// re-enrollment.
func (s *DB) EnrollNode(ctx context.Context, e Enrollment) (again bool, err error) {
	if len(e.Details) == 0 {
		e.Details = json.RawMessage("{}")
	}
	var refused *EnrollRefused
	err = s.write(ctx, "enroll "+e.Identifier, func(tx *sql.Tx) error {
		again, refused = false, nil // a retried attempt starts afresh
		var nodeHost, enrolled, toldInvalid int64
		var revoked, retired, allowed bool
		var uuid, serial string
		err := tx.QueryRowContext(ctx, `SELECT host_id, enrolled, told_invalid, revoked, key_retired, allow_reenroll, hw_uuid, hw_serial
			FROM nodes WHERE host_identifier = ?`, e.Identifier).Scan(&nodeHost, &enrolled, &toldInvalid, &revoked, &retired, &allowed, &uuid, &serial)
		if errors.Is(err, sql.ErrNoRows) {
			id, err := hostID(ctx, tx, EnrolledHost(e.Identifier))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO nodes (host_id, key_hash, host_identifier, details, osquery_version, enrolled, last_seen, hw_uuid, hw_serial)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, e.KeyHash, e.Identifier, string(e.Details), e.OsqueryVersion, e.At.UnixNano(), e.At.UnixNano(),
				e.Hardware.UUID, e.Hardware.Serial); err != nil {
				return fmt.Errorf("enroll %s: %w", e.Identifier, err)
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case revoked:
			refused = &EnrollRefused{Reason: "revoked", Detail: "revoked until pkgpersist hosts --unrevoke"}
		case !allowed && changed(uuid, e.Hardware.UUID):
			refused = &EnrollRefused{Reason: "hardware_changed", Alert: true,
				Detail: fmt.Sprintf("system_info.uuid %q, enrolled as %q (pkgpersist hosts --allow-reenroll to accept)", e.Hardware.UUID, uuid)}
		case !allowed && changed(serial, e.Hardware.Serial):
			refused = &EnrollRefused{Reason: "hardware_changed", Alert: true,
				Detail: fmt.Sprintf("hardware_serial %q, enrolled as %q (pkgpersist hosts --allow-reenroll to accept)", e.Hardware.Serial, serial)}
		case !allowed && !retired && toldInvalid <= enrolled:
			refused = &EnrollRefused{Reason: "reenroll_unsolicited", Alert: true,
				Detail: "already enrolled with a key the server never refused (pkgpersist hosts --allow-reenroll to accept)"}
		}
		outcome, detail := "accepted", ""
		if refused != nil {
			outcome, detail = refused.Reason, refused.Detail
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO enrollments (host_id, at, remote, details, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)`,
			nodeHost, e.At.UnixNano(), e.Remote, string(e.Details), outcome, detail); err != nil {
			return err
		}
		if refused != nil {
			return nil // recorded; the refusal is returned once committed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE nodes SET key_hash = ?, details = ?, osquery_version = ?, enrolled = ?, last_seen = ?,
			hw_uuid = ?, hw_serial = ?, key_retired = 0, allow_reenroll = 0, reenrolled = ? WHERE host_id = ?`,
			e.KeyHash, string(e.Details), e.OsqueryVersion, e.At.UnixNano(), e.At.UnixNano(), e.Hardware.UUID, e.Hardware.Serial, e.At.UnixNano(), nodeHost); err != nil {
			return fmt.Errorf("enroll %s again: %w", e.Identifier, err)
		}
		again = true
		// the old key stops: replicas that cached it must ask again
		return keysChanged(ctx, tx)
	})
	if err != nil {
		return false, err
	}
	if refused != nil {
		return false, refused
	}
	return again, nil
}

// changed: both known and different (a host that stops sending its
// serial is not another machine).
func changed(was, now string) bool { return was != "" && now != "" && was != now }

// Authenticate finds the live node a key hash belongs to and marks it
// seen. A key of a revoked node, or one retired by an unrevoke, is
// ErrUnknownNode, and the node is recorded as told so: that is what
// lets it enroll again.
func (s *DB) Authenticate(ctx context.Context, keyHash string, now time.Time) (Node, error) {
	var n Node
	var enrolled, checked, seen int64
	var retired bool
	err := s.db.QueryRowContext(ctx, `SELECT host_id, host_identifier, osquery_version, extension, ext_checked, enrolled, last_seen, revoked, key_retired
		FROM nodes WHERE key_hash = ?`, keyHash).
		Scan(&n.HostID, &n.Host, &n.OsqueryVersion, &n.Extension, &checked, &enrolled, &seen, &n.Revoked, &retired)
	if errors.Is(err, sql.ErrNoRows) {
		return Node{}, ErrUnknownNode
	}
	if err != nil {
		return Node{}, classify("node", err)
	}
	if n.Revoked || retired {
		if _, err := s.exec(ctx, "told invalid", `UPDATE nodes SET told_invalid = ? WHERE host_id = ?`, now.UnixNano(), n.HostID); err != nil {
			return Node{}, err
		}
		return Node{}, ErrUnknownNode
	}
	n.Enrolled, n.LastSeen, n.ExtChecked = time.Unix(0, enrolled), time.Unix(0, seen), time.Unix(0, checked)
	if now.Sub(n.LastSeen) >= lastSeenEvery {
		if _, err := s.exec(ctx, "last seen", `UPDATE nodes SET last_seen = ? WHERE host_id = ?`, now.UnixNano(), n.HostID); err != nil {
			return n, err
		}
		n.LastSeen = now
	}
	return n, nil
}

// Unrevoke ends a revocation: the node's old key stays refused, and its
// next enrollment (after the server says node_invalid) is accepted.
func (s *DB) Unrevoke(ctx context.Context, identifier string) error {
	return s.nodeUpdate(ctx, identifier, `UPDATE nodes SET revoked = 0, key_retired = 1 WHERE host_identifier = ?`)
}

// AllowReenroll lets the node's next enrollment through whatever it
// claims (a reinstalled host, new hardware): the operator vouches for it.
func (s *DB) AllowReenroll(ctx context.Context, identifier string) error {
	return s.nodeUpdate(ctx, identifier, `UPDATE nodes SET allow_reenroll = 1 WHERE host_identifier = ?`)
}

// nodeUpdate changes a node's state by its identifier; the key revision
// moves on with it, so replicas that cached its key ask again.
func (s *DB) nodeUpdate(ctx context.Context, identifier, query string) error {
	var n int64
	err := s.write(ctx, "node update", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, identifier)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return keysChanged(ctx, tx)
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no enrolled host %q", identifier)
	}
	return nil
}

// Reenrolled returns when the node last enrolled again (zero if never).
func (s *DB) Reenrolled(ctx context.Context, hostID int64) (time.Time, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT reenrolled FROM nodes WHERE host_id = ?`, hostID).Scan(&at)
	if err != nil || at == 0 {
		return time.Time{}, err
	}
	return time.Unix(0, at), nil
}

// Pending tells whether a query of a batch waits for the host's answer.
func (s *DB) Pending(ctx context.Context, hostID int64, batch, queryID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM distributed WHERE batch = ? AND host_id = ? AND query_id = ? AND answered IS NULL`,
		batch, hostID, queryID).Scan(&n)
	return n > 0, err
}

// WouldDisappear counts the rows a host's latest successful run of a
// query returned that rows no longer holds: what storing rows as that
// query's next result would record as disappeared.
func (s *DB) WouldDisappear(ctx context.Context, host, queryID string, rows []Row) (int, error) {
	// asked before the rows: the store has one connection
	volatile, err := volatileColumns(ctx, s.db, queryID)
	if err != nil {
		return 0, err
	}
	hashes, err := s.db.QueryContext(ctx, `SELECT r.hash FROM results r JOIN hosts h ON h.id = r.host_id
		WHERE h.name = ? AND r.query_id = ? AND r.last_run = (SELECT max(run_id) FROM query_runs qr
			WHERE qr.host_id = r.host_id AND qr.query_id = r.query_id AND qr.error = '')`, host, queryID)
	if err != nil {
		return 0, err
	}
	defer hashes.Close()
	now := map[string]bool{}
	for _, r := range rows {
		now[r.Identity(volatile)] = true
	}
	gone := 0
	for hashes.Next() {
		var h string
		if err := hashes.Scan(&h); err != nil {
			return 0, err
		}
		if !now[h] {
			gone++
		}
	}
	return gone, hashes.Err()
}

// NodeDetails returns the host_details kept from the node's last
// accepted enrollment.
func (s *DB) NodeDetails(ctx context.Context, identifier string) (json.RawMessage, error) {
	var d string
	err := s.db.QueryRowContext(ctx, `SELECT details FROM nodes WHERE host_identifier = ?`, identifier).Scan(&d)
	return json.RawMessage(d), err
}
