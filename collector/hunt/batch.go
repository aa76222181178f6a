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

// BatchResult is one query's answer, as `pkgpersist batch` prints it,
// with what the tables could not read or evaluate in full while they
// answered it.
type BatchResult struct {
	ID       string              `json:"id"`
	Columns  []string            `json:"columns,omitempty"`
	Rows     []map[string]string `json:"rows,omitempty"`
	Error    string              `json:"error,omitempty"`
	Problems []store.Problem     `json:"problems,omitempty"`
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
		for _, p := range res.Problems {
			out[i].Problems = append(out[i].Problems, store.Problem(p))
		}
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
		rows, err := decodeRows(stdout.Bytes())
		if err != nil {
			out[i].Error = "osqueryi: " + err.Error()
		}
		out[i].Rows = rows
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

// DecodeBatch reads what `pkgpersist batch` printed on a host. The host
// is not trusted: an answer that is not what batch prints is kept as that
// query's error (or, without a query id, as an answer to none), and the
// other answers stand.
func DecodeBatch(data []byte) ([]BatchResult, error) {
	var answers []json.RawMessage
	if err := json.Unmarshal(data, &answers); err != nil {
		return nil, fmt.Errorf("malformed output from the remote engine: %w", err)
	}
	out := make([]BatchResult, len(answers))
	for i, a := range answers {
		out[i] = decodeAnswer(a)
	}
	return out, nil
}

func decodeAnswer(a json.RawMessage) BatchResult {
	var id struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a, &id); err != nil {
		return BatchResult{Error: "malformed answer: " + err.Error()}
	}
	var w struct {
		Columns  json.RawMessage `json:"columns"`
		Rows     json.RawMessage `json:"rows"`
		Error    json.RawMessage `json:"error"`
		Problems json.RawMessage `json:"problems"`
	}
	_ = json.Unmarshal(a, &w) // an object: its id was read from it
	r := BatchResult{ID: id.ID}
	var bad []string
	field := func(name string, raw json.RawMessage, v any) {
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, v); err != nil {
				bad = append(bad, fmt.Sprintf("malformed %s: %v", name, err))
			}
		}
	}
	field("columns", w.Columns, &r.Columns)
	field("error", w.Error, &r.Error)
	field("problems", w.Problems, &r.Problems)
	if len(w.Rows) > 0 { // batch leaves out an empty list
		rows, err := decodeRows(w.Rows)
		if err != nil {
			bad = append(bad, err.Error())
		}
		r.Rows = rows
	}
	if len(bad) > 0 {
		if r.Error != "" {
			bad = append([]string{r.Error}, bad...)
		}
		r.Error = strings.Join(bad, "; ")
	}
	return r
}

// decodeRows reads a JSON array of rows, each an object of strings (as
// osqueryi --json and pkgpersist batch print them). One row that is not
// makes the whole answer malformed.
func decodeRows(data []byte) ([]map[string]string, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("malformed rows: %w", err)
	}
	rows := make([]map[string]string, 0, len(raw))
	for i, r := range raw {
		var m map[string]string
		if err := json.Unmarshal(r, &m); err != nil || m == nil {
			return nil, fmt.Errorf("malformed rows: row %d is not an object of strings", i+1)
		}
		rows = append(rows, m)
	}
	return rows, nil
}
