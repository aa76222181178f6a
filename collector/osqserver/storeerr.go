package osqserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// failure is the reply to an error no handler refused on purpose. A
// store that could not keep the request is named by its reason
// (store_full, store_busy, store_io, ...); a full or busy store is 503,
// which osqueryd, like any non-200, takes as a failure: its logger keeps
// the batch buffered and sends it again; a distributed write is tried
// distributed_tls_max_attempts times, and a query whose answer was not
// stored stays pending, so the next distributed read hands it out again.
// Anything else is 500.
func failure(err error) *rejection {
	var se *store.Error
	if !errors.As(err, &se) {
		return &rejection{status: http.StatusInternalServerError, reason: "internal", msg: err.Error()}
	}
	status := http.StatusInternalServerError
	if errors.Is(err, store.ErrFull) || errors.Is(err, store.ErrBusy) {
		status = http.StatusServiceUnavailable
	}
	return &rejection{status: status, reason: store.Reason(err), msg: "not stored: " + err.Error()}
}

// writeStoreMetrics adds how often the store's writes waited for other
// processes on the database (hunt, ingest) and gave up.
func (s *Server) writeStoreMetrics(w io.Writer) {
	c := s.store.Contention()
	fmt.Fprintf(w, "# HELP pkgpersist_store_retries_total Writes that found the database held by another process and tried again.\n"+
		"# TYPE pkgpersist_store_retries_total counter\npkgpersist_store_retries_total %d\n"+
		"# HELP pkgpersist_store_gave_up_total Writes that found the database held past their bound (answered 503).\n"+
		"# TYPE pkgpersist_store_gave_up_total counter\npkgpersist_store_gave_up_total %d\n", c.Retries, c.GaveUp)
	// the rate limits every replica shares, in the store
	if n, err := s.store.RateBuckets(context.Background()); err == nil {
		fmt.Fprintf(w, "# HELP pkgpersist_rate_buckets Names rate limited lately (nodes, enrolling identifiers), all replicas together.\n"+
			"# TYPE pkgpersist_rate_buckets gauge\npkgpersist_rate_buckets %d\n", n)
	}
}
