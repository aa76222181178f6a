// Package report renders findings — rows that are new, present or gone on
// a host — in the collector's output formats, Elastic Common Schema
// documents included. The machine formats keep each row's fields apart:
// JSON and ndjson as an object under "row", CSV as one column per field.
package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Options say how findings are written.
type Options struct {
	Format string // one of output.Formats
	ECS    bool   // with ndjson: one ECS document per finding
	// Command is the command reporting (its ECS event.dataset).
	Command Command
	// Queries describe the findings' queries by id (severity, next step)
	// beyond what the store keeps; a query not in it is shown with the
	// store's title and techniques only.
	Queries map[string]*querydef.Query
}

// Record is one finding as JSON and ndjson write it; a reader decodes
// the output into it.
type Record struct {
	Host      string    `json:"host"`
	Query     string    `json:"query"`
	QueryKind string    `json:"query_kind"`
	Change    string    `json:"change"`
	Run       int64     `json:"run"`
	Time      string    `json:"time"`
	Row       store.Row `json:"row"`
}

// Fixed are the CSV columns before the row's fields, which follow as
// RowPrefix + field name: a field may be named like a fixed column (a
// process_events row has its own time).
var Fixed = []string{"host", "query", "query_kind", "change", "run", "time"}

// RowPrefix begins the CSV column of each row field.
const RowPrefix = "row."

func record(c store.Change) Record {
	return Record{Host: c.Host, Query: c.QueryID, QueryKind: c.Query.Kind, Change: c.Kind, Run: c.RunID,
		Time: c.At.UTC().Format(time.RFC3339), Row: c.Row}
}

// Write renders changes as o says.
func Write(w io.Writer, o Options, cs []store.Change) error {
	if o.ECS {
		if o.Format != "ndjson" {
			return fmt.Errorf("ECS documents are written as ndjson, not %s", o.Format)
		}
		return WriteECS(w, o, cs)
	}
	switch o.Format {
	case "json", "ndjson":
		return writeJSON(w, o.Format == "json", cs)
	case "csv":
		return writeCSV(w, cs)
	case "table":
		return writeTable(w, o.Queries, cs)
	}
	return fmt.Errorf("unknown format %q (one of %s)", o.Format, strings.Join(output.Formats, ", "))
}

// writeJSON writes an array with one record a line, or (ndjson) the
// records alone, one a line.
func writeJSON(w io.Writer, array bool, cs []store.Change) error {
	bw := bufio.NewWriter(w)
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	if array {
		bw.WriteString("[\n")
	}
	for i, c := range cs {
		line.Reset()
		if err := enc.Encode(record(c)); err != nil {
			return err
		}
		if array {
			bw.WriteString("  ")
			bw.Write(bytes.TrimSuffix(line.Bytes(), []byte("\n")))
			if i < len(cs)-1 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
			continue
		}
		bw.Write(line.Bytes())
	}
	if array {
		bw.WriteString("]\n")
	}
	return bw.Flush()
}

// fields is the union of the rows' field names, sorted.
func fields(cs []store.Change) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cs {
		for k := range c.Row {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// writeCSV writes one column per field of every row; a field a row does
// not have is an empty cell, as is an empty value. Values are shown
// through output.Safe, as in every text format.
func writeCSV(w io.Writer, cs []store.Change) error {
	fs := fields(cs)
	header := append([]string{}, Fixed...)
	for _, f := range fs {
		header = append(header, RowPrefix+f)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(safe(header)); err != nil {
		return err
	}
	for _, c := range cs {
		r := record(c)
		rec := []string{r.Host, r.Query, r.QueryKind, r.Change, strconv.FormatInt(r.Run, 10), r.Time}
		for _, f := range fs {
			rec = append(rec, c.Row[f])
		}
		if err := cw.Write(safe(rec)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func safe(r []string) []string {
	out := make([]string, len(r))
	for i, v := range r {
		out[i] = output.Safe(v)
	}
	return out
}

// WriteCSVDir writes one CSV file per query, DIR/QUERY.csv, each with
// that query's fields only, and returns the files written in query order.
func WriteCSVDir(dir string, cs []store.Change) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, g := range byQuery(cs) {
		// the id comes from a host for logged rows: it names no other
		// directory
		name := filepath.Join(dir, strings.NewReplacer("/", "_", "\\", "_").Replace(g[0].QueryID)+".csv")
		if strings.HasPrefix(filepath.Base(name), ".") {
			name = filepath.Join(dir, "_"+filepath.Base(name))
		}
		f, err := os.Create(name)
		if err != nil {
			return files, err
		}
		if err := writeCSV(f, g); err != nil {
			f.Close()
			return files, fmt.Errorf("%s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return files, err
		}
		files = append(files, name)
	}
	return files, nil
}

// byQuery groups changes by query, in the order the queries first occur.
func byQuery(cs []store.Change) [][]store.Change {
	index := map[string]int{}
	var out [][]store.Change
	for _, c := range cs {
		i, ok := index[c.QueryID]
		if !ok {
			i = len(out)
			index[c.QueryID] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], c)
	}
	return out
}

// writeTable writes a section per query: what the query is (title, kind,
// severity, techniques) and, for a detection, the next step, then a
// table of its rows with one column per field.
func writeTable(w io.Writer, qs map[string]*querydef.Query, cs []store.Change) error {
	for i, g := range byQuery(cs) {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(w, heading(g[0], qs[g[0].QueryID])); err != nil {
			return err
		}
		fs := fields(g)
		cols := append([]string{"host", "change", "run", "time"}, fs...)
		rows := make([][]string, len(g))
		for j, c := range g {
			r := record(c)
			rows[j] = append([]string{r.Host, r.Change, strconv.FormatInt(r.Run, 10), r.Time}, make([]string, len(fs))...)
			for k, f := range fs {
				rows[j][4+k] = c.Row[f]
			}
		}
		if err := output.Write(w, "table", cols, rows); err != nil {
			return err
		}
	}
	return nil
}

// heading describes a query above its rows; what came from a host (a
// logged query's id) is shown through output.Safe.
func heading(c store.Change, q *querydef.Query) string {
	title, kind, attack := c.Query.Title, c.Query.Kind, c.Query.Attack
	var severity, next string
	if q != nil {
		title, kind, attack, severity, next = q.Title, q.Kind, q.Attack, q.Severity, q.Next
	}
	var b strings.Builder
	b.WriteString(output.Safe(c.QueryID))
	if title != "" {
		b.WriteString(": " + output.Safe(title))
	}
	b.WriteString("\n")
	var facts []string
	if kind != "" {
		facts = append(facts, kind)
	}
	if severity != "" {
		facts = append(facts, "severity "+severity)
	}
	if len(attack) > 0 {
		facts = append(facts, "ATT&CK "+strings.Join(attack, ", "))
	}
	if len(facts) > 0 {
		b.WriteString("  " + output.Safe(strings.Join(facts, " · ")) + "\n")
	}
	if next != "" {
		b.WriteString("  next: " + output.Safe(next) + "\n")
	}
	if q != nil && q.File != "" {
		// a query of a file: explain shows its false positives and SQL
		b.WriteString("  more: pkgpersist explain " + output.Safe(q.ID) + "\n")
	}
	return b.String()
}

// HostStates writes, for each host that is not ok, one line per reason
// ("pkgpersist: HOST: STATE: REASON"), shown through output.Safe: reasons
// carry what hosts sent.
func HostStates(w io.Writer, hosts []store.HostOutcome) {
	for _, h := range hosts {
		if h.State == store.StateOK {
			continue
		}
		reasons := h.Reasons
		if len(reasons) == 0 {
			reasons = []string{"no reason recorded"}
		}
		for _, r := range reasons {
			fmt.Fprintf(w, "pkgpersist: %s: %s: %s\n", output.Safe(h.Host), h.State, output.Safe(r))
		}
	}
}
