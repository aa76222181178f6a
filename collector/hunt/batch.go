// Package hunt runs the queries on targets — this host, mounted roots,
// hosts over SSH — and stores what each returns.
package hunt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/collector/tables"
)

// BatchQuery is one query sent to an engine, locally or on a remote host.
type BatchQuery struct {
	ID  string `json:"id"`
	SQL string `json:"sql"`
}

// BatchResult is one query's answer, as `pkgpersist batch` prints it.
type BatchResult struct {
	ID      string              `json:"id"`
	Columns []string            `json:"columns,omitempty"`
	Rows    []map[string]string `json:"rows,omitempty"`
	Error   string              `json:"error,omitempty"`
}

// RunBatch runs queries in the embedded engine over root; a query that
// fails is reported and the others still run.
func RunBatch(ctx context.Context, root string, qs []BatchQuery) ([]BatchResult, error) {
	e, err := engine.New(tables.Engine(), root)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	out := make([]BatchResult, len(qs))
	for i, q := range qs {
		out[i].ID = q.ID
		res, err := e.Query(ctx, q.SQL)
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		out[i].Columns = res.Columns
		for _, r := range res.Rows {
			m := make(map[string]string, len(r))
			for j, c := range res.Columns {
				m[c] = r[j]
			}
			out[i].Rows = append(out[i].Rows, m)
		}
	}
	return out, ctx.Err()
}

// Osqueryi runs queries with osquery's own shell and the pkgpersist
// extension instead of the embedded engine.
type Osqueryi struct {
	Path      string // the osqueryi program
	Extension string // pkgpersist.ext
}

// Run runs each query as `osqueryi --json`, which prints an array of
// objects with string values.
func (o Osqueryi) Run(ctx context.Context, qs []BatchQuery) ([]BatchResult, error) {
	out := make([]BatchResult, len(qs))
	for i, q := range qs {
		out[i].ID = q.ID
		args := []string{"--json", "--extensions_timeout=10", "--extensions_require=pkgpersist", "--extension", o.Extension, q.SQL}
		cmd := exec.CommandContext(ctx, o.Path, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			out[i].Error = "osqueryi: " + msg
			continue
		}
		if err := json.Unmarshal(stdout.Bytes(), &out[i].Rows); err != nil {
			out[i].Error = "osqueryi: malformed JSON: " + err.Error()
		}
	}
	return out, ctx.Err()
}

// ServeBatch is `pkgpersist batch`: queries as JSON on r, results as JSON
// on w. It is what a remote host runs; osq, when set, runs the queries
// through osqueryi instead of the embedded engine.
func ServeBatch(ctx context.Context, root string, osq *Osqueryi, r io.Reader, w io.Writer) error {
	var qs []BatchQuery
	if err := json.NewDecoder(io.LimitReader(r, 16<<20)).Decode(&qs); err != nil {
		return fmt.Errorf("reading queries: %w", err)
	}
	var res []BatchResult
	var err error
	if osq != nil {
		res, err = osq.Run(ctx, qs)
	} else {
		res, err = RunBatch(ctx, root, qs)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(res)
}

// toHost turns batch results into a stored host result.
func toHost(name string, res []BatchResult) store.HostResult {
	h := store.HostResult{Host: name}
	for _, r := range res {
		qr := store.QueryResult{QueryID: r.ID, Err: r.Error}
		for _, row := range r.Rows {
			qr.Rows = append(qr.Rows, store.Row(row))
		}
		h.Queries = append(h.Queries, qr)
	}
	return h
}
