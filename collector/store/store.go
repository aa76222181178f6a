// Package store keeps every hunt result: hosts, runs, the queries run, each
// distinct result row keyed by a canonical hash of its columns with the run
// that first and last saw it on its host, and per-host, per-query errors.
// A repeat run that sees the same rows adds no result rows; a host's results
// for a run are committed in one transaction.
//
// # Writers
//
// pkgpersist serve, hunt and ingest are separate processes on one SQLite
// file, so the store cannot have one writer goroutine: whatever it does
// must hold between processes, where only SQLite's file locks order the
// writers. It therefore writes as follows:
//
//   - WAL: readers never wait for the writer, nor the writer for them.
//   - Every write is a BEGIN IMMEDIATE transaction. A deferred one that
//     reads first (hostID, saveRows, TakeQueued's RETURNING) holds a read
//     snapshot; when another process commits before it writes, SQLite
//     cannot upgrade it and returns "database is locked" at once, without
//     calling the busy handler. That was the failure of hunt --enrolled
//     beside serve: 397 of them in TestHuntWhileHostsCheckIn and
//     TestLocalHuntsFloodIngest with deferred transactions.
//   - One connection a process (database/sql queues this process's
//     writers in order; SQLite only arbitrates between processes).
//   - SQLite's busy timeout is short (Options.BusyTimeout, a second): its
//     busy handler polls without any order, and holds the connection while
//     it does. A write that meets it is rolled back and tried again after a
//     random pause until Options.WriteWait (a minute); then it fails with
//     ErrBusy, never a bare "database is locked". Each retry and each
//     write given up is counted (Contention), for serve's /metrics.
//   - The schema version is read inside each migration's transaction:
//     processes opening a new database at once migrate it once.
//
// # Failures
//
// A write either commits or returns an *Error whose Kind says why
// (ErrFull, ErrBusy, ErrIO, ErrReadOnly, ErrCorrupt; Reason names it for
// a metric). Whoever acknowledges data to a sender (serve to osqueryd)
// acknowledges only after the write returned nil.
//
// # Files
//
// A new database is created 0600, and SQLite gives its -wal and -shm files
// the database file's mode. An existing database keeps its mode: an
// operator may have opened it to a group on purpose, and a hunt run by
// another user could not change it anyway. Warnings reports each of the
// three files that other users can read, and the commands print them.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"time"
)

// Row is a result row: column name to value, as osquery carries them.
type Row map[string]string

// Hash is the row's canonical identity: its columns sorted by name,
// JSON-encoded, SHA-256.
func (r Row) Hash() string { return r.Identity(nil) }

// Identity is the row's identity when the columns named in volatile are
// left out: a row that differs only in them is the same row. A volatile
// column keeps its name with a null value (no string encodes as null),
// so a row with the column never shares an identity with a row without
// it. Without volatile columns in the row, Identity is Hash.
func (r Row) Identity(volatile []string) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([][2]any, len(keys))
	for i, k := range keys {
		pairs[i] = [2]any{k, r[k]}
		if slices.Contains(volatile, k) {
			pairs[i][1] = nil
		}
	}
	b, _ := json.Marshal(pairs)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Query is a query as run.
type Query struct {
	ID, Title, Kind, SQL string
	Attack               []string
	Volatile             []string // columns left out of a row's identity (querydef.Query.Volatile)
}

// QueryResult is one query's outcome on one host.
type QueryResult struct {
	QueryID  string
	Rows     []Row
	Err      string    // "" when the query ran
	Problems []Problem // what its tables could not read or evaluate in full
}

// Problem is a file a query's tables had to read and could not, or could
// not evaluate in full (fsroot.Problem as a host reports it).
type Problem struct {
	Path   string `json:"path"`
	Cause  string `json:"cause"` // permission, io, limit, deadline, special, loop
	Detail string `json:"detail"`
}

// The states of a host's outcome in a run.
const (
	StateOK         = "ok"         // everything was read, evaluated and stored
	StateIncomplete = "incomplete" // stored, but something could not be looked at (Reasons)
	StateFailed     = "failed"     // nothing usable (Reasons)
)

// HostResult is everything one host returned in a run.
type HostResult struct {
	Host    string
	Err     string // the host could not be hunted at all ("" when it was)
	State   string // StateOK, StateIncomplete or StateFailed
	Reasons []string
	Queries []QueryResult
}

// HostOutcome is a host's stored state in a run, with the problems its
// queries met.
type HostOutcome struct {
	Host     string
	Err      string
	State    string // "" for runs stored before states were
	Reasons  []string
	Problems []QueryProblem
}

// QueryProblem is a Problem with the query that met it.
type QueryProblem struct {
	QueryID string
	Problem
}

// Run describes one hunt.
type Run struct {
	ID        int64
	Started   time.Time
	Finished  time.Time
	Transport string
	Who       string
}

// The words every command and format uses for a row's change: New is a
// row first seen (in this run, or in the window), Present one seen before
// and still there, Gone one there before and not now. The changes table
// keeps its own words (appeared, disappeared); Diff translates them.
const (
	New     = "new"
	Present = "present"
	Gone    = "gone"
)

// Change is a row that is new, present or gone on a host.
type Change struct {
	Host    string
	QueryID string
	Kind    string // New, Present or Gone (Current: "current")
	RunID   int64
	At      time.Time
	Row     Row
	RowHash string
	Query   Query
	// First is when the row was first seen on its host (Findings only;
	// zero elsewhere)
	First time.Time

	// Host is the host's name in the store (what --host takes); the
	// machine's own host name and the root hunted there ("/" for the
	// machine itself, "" unknown) are these
	HostName, Root string
}

// Window selects the runs a diff looks at.
type Window struct {
	Since time.Time // runs started at or after
	Run   int64     // one run (0: use Since)
	Host  string    // one host ("" for all)
	Query string    // one query ("" for all)
}

// Store is where results live; SQLite now, PostgreSQL for many collectors
// later.
type Store interface {
	// BeginRun records a run and the queries it runs.
	BeginRun(ctx context.Context, r Run, queries []Query) (int64, error)
	// ResolveHost returns the name of the host a target reached, the
	// machine it found there, keeping the target's name as an alias.
	ResolveHost(ctx context.Context, k HostKey) (string, error)
	// SaveHost commits one host's results for a run atomically.
	SaveHost(ctx context.Context, runID int64, h HostResult) error
	// HostOutcomes returns the state, reasons and problems of each host
	// stored in a run.
	HostOutcomes(ctx context.Context, runID int64) ([]HostOutcome, error)
	// FinishRun marks the run finished.
	FinishRun(ctx context.Context, runID int64) error
	// Diff lists what appeared and disappeared in the window.
	Diff(ctx context.Context, w Window) ([]Change, error)
	// Current returns the rows each host returned in its latest run of
	// each query.
	Current(ctx context.Context, host, query string) ([]Change, error)
	Close() error
}
