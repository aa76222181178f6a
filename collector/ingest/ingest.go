// Package ingest reads osqueryd's filesystem results logs (one JSON result
// line each, in event, batch or snapshot format, gzip or plain) into the
// store, so hosts that log to files instead of enrolling are hunted over
// too. Reading a file twice stores nothing twice.
package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"

	"github.com/pkgpersist/pkgpersist/collector/osqwire"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// MaxLine bounds one log line; osqueryd's own lines are far shorter.
const MaxLine = 64 << 20

// batchRows is how many rows go in one transaction.
const batchRows = 20000

// Stats is what one reader held.
type Stats struct {
	Lines, Rows, New int
	// Bad counts lines that are not result lines; the first few are in
	// Errors.
	Bad    int
	Errors []string
}

// Read stores every result line of r (gzip is recognised by its magic).
func Read(ctx context.Context, st *store.SQLite, r io.Reader, name string) (Stats, error) {
	var stats Stats
	br := bufio.NewReaderSize(r, 1<<20)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return stats, fmt.Errorf("%s: %w", name, err)
		}
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<20), MaxLine)
	pending := map[string][]store.Logged{}
	n := 0
	ids := map[string]int64{}
	flush := func() error {
		added, err := st.SaveLogsByHost(ctx, pending, ids)
		if err != nil {
			return fmt.Errorf("%s: storing: %w", name, err)
		}
		stats.New += added
		clear(pending)
		n = 0
		return nil
	}
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		stats.Lines++
		res, err := osqwire.DecodeResultLine(line)
		if err != nil {
			stats.Bad++
			if len(stats.Errors) < 5 {
				stats.Errors = append(stats.Errors, fmt.Sprintf("%s:%d: %v", name, stats.Lines, err))
			}
			continue
		}
		for _, r := range res {
			host := r.HostIdentifier
			if host == "" {
				host = name
			}
			pending[host] = append(pending[host], r.Logged())
			stats.Rows++
			n++
		}
		if n >= batchRows {
			if err := flush(); err != nil {
				return stats, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return stats, fmt.Errorf("%s: line %d: %w", name, stats.Lines+1, err)
	}
	return stats, flush()
}
