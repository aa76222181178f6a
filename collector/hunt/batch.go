// Package hunt runs the queries on targets — this host, mounted roots,
// hosts over SSH — and stores what each returns.
package hunt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/collector/tables"
)

// BatchQuery is one query sent to an engine, locally or on a remote host.
type BatchQuery struct {
	ID  string `json:"id"`
	SQL string `json:"sql"`
	// Event marks a query over events (kind event): only a capture
	// that was running before the query can answer it.
	Event bool `json:"event,omitempty"`
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
	// Skipped says why a query was not run where it cannot be answered
	// (an event query where nothing captures events): not a failure of
	// the host, and no rows either.
	Skipped string `json:"skipped,omitempty"`
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
		var nes *engine.NoEventSource
		if errors.As(err, &nes) {
			out[i].Skipped = err.Error()
			continue
		}
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
		if q.Event {
			out[i].Skipped = "osqueryi has captured no events when the query runs: hunt the hosts' osqueryd (--enrolled) with the pkgpersist extension for event queries"
			continue
		}
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
// through osqueryi instead of the embedded engine. With watch, r must stay
// open after the queries until the answer is read: when it closes first
// (the collector gave up or its connection is gone) the queries are
// cancelled and ServeBatch returns, so no batch outlives its hunt.
func ServeBatch(ctx context.Context, root string, osq *Osqueryi, r io.Reader, w io.Writer, watch bool) error {
	var qs []BatchQuery
	d := json.NewDecoder(io.LimitReader(r, 16<<20))
	if err := d.Decode(&qs); err != nil {
		return fmt.Errorf("reading queries: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gone := make(chan struct{})
	if watch {
		go func() {
			_, _ = io.Copy(io.Discard, io.MultiReader(d.Buffered(), r))
			close(gone)
		}()
	}
	type answer struct {
		res []BatchResult
		err error
	}
	done := make(chan answer, 1)
	go func() {
		var a answer
		if osq != nil {
			a.res, a.err = osq.Run(ctx, qs)
		} else {
			a.res, a.err = RunBatch(ctx, root, qs)
		}
		done <- a
	}()
	var a answer
	select {
	case a = <-done:
	case <-gone:
		cancel()
		// give the queries (and osqueryi, killed by the cancel) a moment
		// to stop; a table stuck in the kernel must not keep us here
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
		return errors.New("standard input closed before the answer: the collector is gone")
	}
	if a.err != nil {
		return a.err
	}
	return json.NewEncoder(w).Encode(a.res)
}

// DecodeBatch reads what `pkgpersist batch` printed on a host; see
// ReadBatch.
func DecodeBatch(data []byte) ([]BatchResult, error) {
	return ReadBatch(bytes.NewReader(data), 0)
}

// ReadBatch reads what `pkgpersist batch` prints on a host as it arrives.
// The host is not trusted: an answer that is not what batch prints is kept
// as that query's error (or, without a query id, as an answer to none),
// and the other answers stand. What the answer may cost is bounded by
// maxOutput (0 for no bound): its bytes plus RowCost a row; past it the
// read stops with an *OutputLimitError. Nothing is held but the decoded
// answers.
func ReadBatch(r io.Reader, maxOutput int64) ([]BatchResult, error) {
	var b *budget
	if maxOutput > 0 {
		b = newBudget(maxOutput)
	}
	d := json.NewDecoder(budgetReader{r, b})
	malformed := func(err error) error {
		if isBudget(err) {
			return err
		}
		return fmt.Errorf("malformed output from the remote engine: %w", err)
	}
	tok, err := d.Token()
	switch {
	case err != nil:
		return nil, malformed(err)
	case tok == nil:
		return []BatchResult{}, end(d, malformed)
	case tok != json.Delim('['):
		return nil, malformed(fmt.Errorf("%s, not a list of answers", kind(tok)))
	}
	out := []BatchResult{}
	for d.More() {
		a, err := readAnswer(d, b)
		if err != nil {
			return nil, malformed(err)
		}
		out = append(out, a)
	}
	if _, err := d.Token(); err != nil {
		return nil, malformed(err)
	}
	return out, end(d, malformed)
}

// end checks that nothing but white space follows the answers.
func end(d *json.Decoder, malformed func(error) error) error {
	if _, err := d.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the answers")
		}
		return malformed(err)
	}
	return nil
}

// readAnswer reads one answer. A field of the wrong type is that answer's
// error; what breaks the JSON (or the budget) is the whole output's.
func readAnswer(d *json.Decoder, b *budget) (BatchResult, error) {
	tok, err := d.Token()
	if err != nil {
		return BatchResult{}, err
	}
	switch tok {
	case nil:
		return BatchResult{}, nil
	case json.Delim('{'):
	default:
		if err := skipRest(d, tok); err != nil {
			return BatchResult{}, err
		}
		return BatchResult{Error: fmt.Sprintf("malformed answer: %s, not an object", kind(tok))}, nil
	}
	var r BatchResult
	var bad []string
	badID := false
	field := func(name string, v any) error {
		err := d.Decode(v)
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			bad = append(bad, fmt.Sprintf("malformed %s: %v", name, err))
			return nil
		}
		return err
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return BatchResult{}, err
		}
		switch key := tok.(string); key {
		case "id":
			var id string
			if err := d.Decode(&id); err != nil {
				var typeErr *json.UnmarshalTypeError
				if !errors.As(err, &typeErr) {
					return BatchResult{}, err
				}
				badID = true
			}
			r.ID = id
		case "columns":
			err = field(key, &r.Columns)
		case "error":
			err = field(key, &r.Error)
		case "skipped":
			err = field(key, &r.Skipped)
		case "problems":
			if err = field(key, &r.Problems); err == nil {
				err = b.take(int64(len(r.Problems)) * RowCost)
			}
		case "rows":
			var rowsBad error
			r.Rows, rowsBad, err = readRows(d, b)
			if rowsBad != nil {
				bad = append(bad, rowsBad.Error())
			}
		default:
			var skip json.RawMessage
			err = d.Decode(&skip)
		}
		if err != nil {
			return BatchResult{}, err
		}
	}
	if _, err := d.Token(); err != nil {
		return BatchResult{}, err
	}
	if badID {
		return BatchResult{Error: "malformed answer: its id is not a string"}, nil
	}
	if len(bad) > 0 {
		if r.Error != "" {
			bad = append([]string{r.Error}, bad...)
		}
		r.Error = strings.Join(bad, "; ")
	}
	return r, nil
}

// kind names what a JSON value starting with tok is.
func kind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('{') {
			return "an object"
		}
		return "a list"
	case string:
		return "a string"
	case bool:
		return "true or false"
	}
	return "a number"
}

// skipRest reads the rest of a value whose first token was tok.
func skipRest(d *json.Decoder, tok json.Token) error {
	depth := 0
	for {
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = d.Token(); err != nil {
			return err
		}
	}
}

// readRows reads a JSON array of rows, each an object of strings (as
// osqueryi --json and pkgpersist batch print them), one at a time and each
// charged RowCost. One row that is not an object of strings makes the
// whole list malformed (bad); what breaks the JSON or the budget is fatal.
func readRows(d *json.Decoder, b *budget) (rows []map[string]string, bad, fatal error) {
	tok, err := d.Token()
	if err != nil {
		return nil, nil, err
	}
	switch tok {
	case nil:
		return []map[string]string{}, nil, nil
	case json.Delim('['):
	default:
		return nil, fmt.Errorf("malformed rows: %s, not a list", kind(tok)), skipRest(d, tok)
	}
	rows = []map[string]string{}
	for i := 1; d.More(); i++ {
		if err := b.take(RowCost); err != nil {
			return nil, nil, err
		}
		var m map[string]string
		err := d.Decode(&m)
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) || (err == nil && m == nil):
			if bad == nil {
				bad = fmt.Errorf("malformed rows: row %d is not an object of strings", i)
			}
		case err != nil:
			return nil, nil, err
		case bad == nil:
			rows = append(rows, m)
		}
	}
	if _, err := d.Token(); err != nil {
		return nil, nil, err
	}
	if bad != nil {
		return nil, bad, nil
	}
	return rows, nil, nil
}

// decodeRows reads a whole JSON array of rows (osqueryi's output).
func decodeRows(data []byte) ([]map[string]string, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	rows, bad, err := readRows(d, nil)
	if err == nil {
		err = end(d, func(err error) error { return err })
	}
	if err != nil {
		return nil, fmt.Errorf("malformed rows: %w", err)
	}
	return rows, bad
}
