package store

import (
	"errors"
	"fmt"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// What a store failure means to the caller that must answer for it: a
// server answers each with an error (osqueryd keeps the data and sends it
// again), never with success.
var (
	// ErrFull: the disk (or the database's size limit) has no room for
	// what was to be stored.
	ErrFull = errors.New("store full")
	// ErrBusy: other writers held the database for longer than the
	// write's bound (Options.WriteWait).
	ErrBusy = errors.New("store busy")
	// ErrIO: the file system failed a read or write.
	ErrIO = errors.New("store I/O error")
	// ErrReadOnly: the database cannot be written (file mode, read-only
	// mount).
	ErrReadOnly = errors.New("store read-only")
	// ErrCorrupt: the database file is damaged.
	ErrCorrupt = errors.New("store corrupt")
	// ErrUnreachable: the database server cannot be reached or is
	// shutting down (PostgreSQL).
	ErrUnreachable = errors.New("store unreachable")
)

// errKinds maps SQLite's primary result codes to the errors above.
var errKinds = map[sqlite3.ErrNo]error{
	sqlite3.ErrFull:     ErrFull,
	sqlite3.ErrBusy:     ErrBusy,
	sqlite3.ErrLocked:   ErrBusy,
	sqlite3.ErrIoErr:    ErrIO,
	sqlite3.ErrCantOpen: ErrIO,
	sqlite3.ErrReadonly: ErrReadOnly,
	sqlite3.ErrCorrupt:  ErrCorrupt,
	sqlite3.ErrNotADB:   ErrCorrupt,
}

// Error is a failed store operation: what was done, what the failure
// means (one of the Err values above, nil when it is none of them) and
// the driver's error.
type Error struct {
	Op   string
	Kind error
	Err  error
}

func (e *Error) Error() string {
	if e.Kind == nil {
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + ": " + e.Kind.Error() + ": " + e.Err.Error()
}

// Unwrap makes errors.Is match the kind and the driver's error.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// classify wraps a driver error as an *Error of op; nil stays nil, and
// an error that is already a store error keeps its kind.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	var le sqlite3.Error
	if errors.As(err, &le) {
		return &Error{Op: op, Kind: errKinds[le.Code], Err: err}
	}
	kind, _ := pgKind(err)
	return &Error{Op: op, Kind: kind, Err: err}
}

// busy tells a write that another connection held the database.
func busy(err error) bool {
	var le sqlite3.Error
	return (errors.As(err, &le) && (le.Code == sqlite3.ErrBusy || le.Code == sqlite3.ErrLocked)) || pgRetry(err)
}

// Reason names a store failure for a metric label: store_full,
// store_busy, store_io, store_readonly, store_corrupt, store_unreachable, or store for any
// other.
func Reason(err error) string {
	for _, k := range []struct {
		err    error
		reason string
	}{{ErrFull, "store_full"}, {ErrBusy, "store_busy"}, {ErrIO, "store_io"}, {ErrReadOnly, "store_readonly"}, {ErrCorrupt, "store_corrupt"}, {ErrUnreachable, "store_unreachable"}} {
		if errors.Is(err, k.err) {
			return k.reason
		}
	}
	return "store"
}

// gaveUp is the error of a write that waited its whole bound. SQLite's
// own message ("database is locked") is left out: the write was not
// refused by a lock, it waited its bound for one.
func gaveUp(op string, attempts int, waited fmt.Stringer) error {
	return &Error{Op: op, Kind: ErrBusy, Err: fmt.Errorf("the database was held by other writers for %v (%d attempts)", waited, attempts)}
}
