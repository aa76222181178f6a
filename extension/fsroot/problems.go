package fsroot

import (
	"context"
	"errors"
	"io/fs"
	"sync"
	"syscall"
)

// Problem is something under a root that a table had to read and could
// not read, or could not evaluate in full. A hunt with any problem is not
// clean: it is incomplete (Cause permission or io: pkgpersist could not
// look) or a finding (any other Cause: something under the root, which an
// attacker may control, stopped the evaluation).
type Problem struct {
	Path   string // as seen inside the root
	Cause  string // one of the Cause constants
	Detail string // the error, one line
}

// The causes of a problem.
const (
	CausePermission = "permission" // not allowed to read it (run as root)
	CauseIO         = "io"         // an I/O or other system error
	CauseLimit      = "limit"      // a bound pkgpersist sets on work or memory was reached
	CauseDeadline   = "deadline"   // the table's time ran out before it was read
	CauseSpecial    = "special"    // not a regular file (FIFO, device, socket) where the package manager reads one
	CauseLoop       = "loop"       // a symlink loop
	// a format pkgpersist does not read (a database backend, a digest
	// algorithm): what the package manager knows from it is not known
	CauseUnsupported = "unsupported"
	// the record the package manager checks a file against is missing
	// (a package installed without its checksums): whether the file is
	// still the package's cannot be told, and whoever can change the
	// file may have removed the record
	CauseUnverifiable = "unverifiable"
)

// ErrUnsupported marks an error about a format pkgpersist does not read
// (Classify: CauseUnsupported).
var ErrUnsupported = errors.New("not supported")

// Incomplete reports whether the cause means pkgpersist could not look,
// rather than that what it looked at is itself suspicious.
func Incomplete(cause string) bool {
	return cause == CausePermission || cause == CauseIO || cause == CauseUnsupported
}

// Problems collects the problems of one piece of work (a query, a hunt of
// one host). It is safe for concurrent use.
type Problems struct {
	mu   sync.Mutex
	list []Problem
	seen map[Problem]bool
}

// Add records p once.
func (ps *Problems) Add(p Problem) {
	if ps == nil {
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.seen == nil {
		ps.seen = map[Problem]bool{}
	}
	if !ps.seen[p] {
		ps.seen[p] = true
		ps.list = append(ps.list, p)
	}
}

// List returns the problems in the order they were met.
func (ps *Problems) List() []Problem {
	if ps == nil {
		return nil
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]Problem(nil), ps.list...)
}

type problemsKey struct{}

// WithProblems returns a context whose roots (OpenContext) record their
// problems in ps.
func WithProblems(ctx context.Context, ps *Problems) context.Context {
	return context.WithValue(ctx, problemsKey{}, ps)
}

// ProblemsFrom returns the collector WithProblems put in ctx, or nil.
func ProblemsFrom(ctx context.Context) *Problems {
	ps, _ := ctx.Value(problemsKey{}).(*Problems)
	return ps
}

// Classify returns the cause of a read error, or "" for an error that
// means there is nothing to read (the file or a directory on its path does
// not exist), which is no problem.
func Classify(err error) string {
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return ""
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return CausePermission
	case errors.Is(err, errLoop), errors.Is(err, syscall.ELOOP):
		return CauseLoop
	case errors.Is(err, ErrTooLarge):
		return CauseLimit
	case errors.Is(err, errSpecial):
		return CauseSpecial
	case errors.Is(err, ErrUnsupported):
		return CauseUnsupported
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return CauseDeadline
	}
	return CauseIO
}

// Report records a problem with name, when it is one (see Classify), in
// the root's collector; it returns err.
func (r *Root) Report(name string, err error) error {
	if c := Classify(err); c != "" && r.problems != nil {
		r.problems.Add(Problem{Path: clean(name), Cause: c, Detail: oneLine(err.Error())})
	}
	return err
}

// ReportLimit records that name could not be evaluated in full because a
// bound was reached (a parser's work limit, say); what says what.
func (r *Root) ReportLimit(name, what string) { r.ReportCause(name, CauseLimit, what) }

// ReportCause records a problem of a cause no read error has (a bound
// reached, a record missing); what says what.
func (r *Root) ReportCause(name, cause, what string) {
	if r.problems != nil {
		r.problems.Add(Problem{Path: clean(name), Cause: cause, Detail: what})
	}
}

func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
