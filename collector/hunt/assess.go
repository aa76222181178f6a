package hunt

import (
	"fmt"

	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// The coverage query every host answers whatever engine runs it: one row
// per file a pkgpersist table had to read (status complete, unreadable or
// unevaluated, with a cause and a reason) and at least one row per table
// (with an empty path, summarising it). A host that answers it with no
// rows did not run it as the table does.
const (
	CoverageID  = "pkgpersist-coverage"
	CoverageSQL = "SELECT source, path, status, cause, reason FROM pkgpersist_coverage"
)

// SkippedPrefix starts the stored error of a query a host skipped.
const SkippedPrefix = "skipped: "

// Coverage is the coverage query as the store records it.
func Coverage() store.Query {
	return store.Query{ID: CoverageID, Title: "What pkgpersist's tables could read and evaluate", Kind: "inventory", SQL: CoverageSQL}
}

// Assess turns what a host answered (or the error that stopped it) into
// its result with a state: failed when there is nothing usable (no answer,
// or every query failed); incomplete when something could not be looked
// at (a query failed or was not answered, an answer is malformed, names a
// query that was not asked or answers one twice, a file could not be read
// for permission or I/O reasons, the coverage query says so or answered
// nothing); ok otherwise. An event query the host skipped (nothing there
// captures events) is not run, not a failure: its reason is among
// the host's, its state stays what the rest makes it, and the query keeps
// an error so that its earlier rows are neither replaced nor gone. The
// host is not trusted: whatever it answers, the result is one the store
// takes.
func Assess(host string, asked []BatchQuery, res []BatchResult, err error) store.HostResult {
	if err != nil {
		return store.HostResult{Host: host, Err: oneLine(err), State: store.StateFailed, Reasons: []string{oneLine(err)}}
	}
	h := store.HostResult{Host: host}
	var reasons, skipped []string
	skips := map[string]string{} // query id -> why the host skipped it
	at := map[string]int{}       // query id -> index in h.Queries
	answers := map[string]int{}
	for _, q := range asked {
		at[q.ID] = len(h.Queries)
		h.Queries = append(h.Queries, store.QueryResult{QueryID: q.ID})
	}
	for _, r := range res {
		i, ok := at[r.ID]
		if !ok {
			// its rows have no query to be stored under: the reason is
			// what is kept of them
			why := fmt.Sprintf("answer to a query that was not asked: %q", r.ID)
			if r.Error != "" {
				why += ": " + r.Error
			}
			reasons = append(reasons, why)
			continue
		}
		answers[r.ID]++
		// a query answered twice keeps every row and every error of its
		// answers: nothing the host sent is dropped
		q := &h.Queries[i]
		for _, row := range r.Rows {
			q.Rows = append(q.Rows, store.Row(row))
		}
		q.Problems = append(q.Problems, r.Problems...)
		if r.Skipped != "" {
			// only an event query may be skipped, and only outright
			why := ""
			switch {
			case r.Error != "" || len(r.Rows) > 0:
				why = "malformed answer: skipped, yet with rows or an error"
			case !asked[i].Event:
				why = "skipped, and it is not an event query: " + r.Skipped
			default:
				skips[r.ID] = r.Skipped
				continue
			}
			if r.Error != "" {
				why = r.Error + "; " + why
			}
			r.Error = why
		}
		if r.Error != "" {
			if q.Err != "" {
				q.Err += "; "
			}
			q.Err += r.Error
		}
	}
	usable := false
	seen := map[string]bool{}
	for i, q := range asked {
		qr := &h.Queries[i]
		n := answers[q.ID]
		switch {
		case n == 0:
			qr.Err = "no answer"
			reasons = append(reasons, "no answer to query "+q.ID)
			continue
		case n > 1:
			reasons = append(reasons, fmt.Sprintf("query %s answered %d times", q.ID, n))
		}
		switch {
		case skips[q.ID] != "" && n == 1:
			qr.Err = SkippedPrefix + skips[q.ID]
			skipped = append(skipped, fmt.Sprintf("query %s skipped: %s", q.ID, skips[q.ID]))
		case skips[q.ID] != "" && qr.Err == "":
			// answered more than once, one of them a skip: what was
			// answered stands, and the skip is a reason like the rest
			reasons = append(reasons, fmt.Sprintf("query %s skipped: %s", q.ID, skips[q.ID]))
			usable = true
		case qr.Err != "":
			reasons = append(reasons, fmt.Sprintf("query %s failed: %s", q.ID, qr.Err))
		default:
			usable = true
		}
		for _, p := range qr.Problems {
			if why := problemReason(p); why != "" && !seen[why] {
				seen[why] = true
				reasons = append(reasons, why)
			}
		}
		if q.ID == CoverageID && qr.Err == "" {
			reasons = append(reasons, coverageReasons(qr.Rows)...)
		}
	}
	h.Reasons = append(reasons, skipped...)
	switch {
	case !usable:
		h.State = store.StateFailed
		h.Err = "no query could run"
		if len(h.Reasons) > 0 {
			h.Err = h.Reasons[0]
		}
	case len(reasons) > 0:
		h.State = store.StateIncomplete
	default:
		h.State = store.StateOK
	}
	return h
}

// problemReason is why a problem makes the host incomplete, or "" when it
// does not (a bound or a special file is a finding under the root, which
// the tables report as rows).
func problemReason(p store.Problem) string {
	if !fsroot.Incomplete(p.Cause) {
		return ""
	}
	return DescribeProblem(p)
}

// DescribeProblem says in one line what a problem is, and what to do
// about it.
func DescribeProblem(p store.Problem) string {
	what := "could not read"
	if !fsroot.Incomplete(p.Cause) {
		what = "could not evaluate in full"
	}
	return fmt.Sprintf("%s %s (%s: %s)%s", what, p.Path, p.Cause, p.Detail, advice(p.Cause))
}

// advice is what to do about a cause.
func advice(cause string) string {
	if cause == fsroot.CausePermission {
		return ": run as root"
	}
	return ""
}

// coverageReasons is why the coverage query's rows make a host
// incomplete: no rows at all, or any file or table not complete.
func coverageReasons(rows []store.Row) []string {
	if len(rows) == 0 {
		return []string{"answered nothing to the coverage query, which always returns rows"}
	}
	var out []string
	for _, r := range rows {
		if r["status"] == "complete" {
			continue
		}
		what := r["source"]
		if r["path"] != "" {
			what += " " + r["path"]
		}
		why := fmt.Sprintf("coverage: %s is %q", what, r["status"])
		if r["cause"] != "" {
			why += " (" + r["cause"] + ")"
		}
		if r["reason"] != "" {
			why += ": " + r["reason"]
		}
		out = append(out, why+advice(r["cause"]))
	}
	return out
}
