// Package report renders findings — rows that are there, or that appeared
// or disappeared — in the collector's output formats, Elastic Common Schema
// documents included.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Columns of the tabular formats.
var Columns = []string{"host", "query", "change", "run", "time", "row"}

// Write renders changes in format; ecs (with ndjson) writes one ECS
// document per finding.
func Write(w io.Writer, format string, ecs bool, cs []store.Change) error {
	if ecs {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, c := range cs {
			if err := enc.Encode(ECS(c)); err != nil {
				return err
			}
		}
		return nil
	}
	rows := make([][]string, len(cs))
	for i, c := range cs {
		rows[i] = []string{c.Host, c.QueryID, c.Kind, itoa(c.RunID), c.At.UTC().Format(time.RFC3339), summary(c.Row)}
	}
	return output.Write(w, format, Columns, rows)
}

// summary is the row as "key=value" pairs in key order.
func summary(r store.Row) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if r[k] != "" {
			parts = append(parts, k+"="+r[k])
		}
	}
	return strings.Join(parts, " ")
}

// ECS maps a finding to an Elastic Common Schema document.
func ECS(c store.Change) map[string]any {
	doc := map[string]any{
		"@timestamp": c.At.UTC().Format(time.RFC3339Nano),
		"host":       map[string]any{"name": c.Host},
		"event": map[string]any{
			"kind": "alert", "category": []string{"configuration"}, "type": []string{"info"},
			"dataset": "pkgpersist.hunt", "action": c.Kind,
		},
		"rule":       map[string]any{"id": c.QueryID, "name": c.Query.Title},
		"pkgpersist": map[string]any{"query": c.QueryID, "change": c.Kind, "run": c.RunID, "row": c.Row},
	}
	if len(c.Query.Attack) > 0 {
		var techniques []map[string]any
		for _, id := range c.Query.Attack {
			techniques = append(techniques, map[string]any{"id": strings.TrimSpace(id)})
		}
		doc["threat"] = map[string]any{"framework": "MITRE ATT&CK", "technique": techniques}
	}
	switch {
	case c.Row["cmdline"] != "" || c.Row["parent_path"] != "":
		// a process_events row: path is the executable
		ev := doc["event"].(map[string]any)
		ev["category"], ev["type"] = []string{"process"}, []string{"start"}
		doc["process"] = processECS(c.Row["path"], c.Row["cmdline"], c.Row["pid"], map[string]any{
			"parent": processECS(c.Row["parent_path"], c.Row["parent_cmdline"], c.Row["parent_pid"], nil)})
	default:
		if p := c.Row["path"]; p != "" {
			doc["file"] = map[string]any{"path": p}
		}
		if cmd := c.Row["command"]; cmd != "" {
			doc["process"] = map[string]any{"command_line": cmd}
		}
	}
	return doc
}

// processECS is ECS's process fields for an osquery process row; osquery
// joins argv with spaces, so process.args splits it back.
func processECS(executable, cmdline, pid string, extra map[string]any) map[string]any {
	p := map[string]any{}
	for k, v := range extra {
		p[k] = v
	}
	if executable != "" {
		p["executable"] = executable
		p["name"] = path.Base(executable)
	}
	if cmdline != "" {
		p["command_line"] = cmdline
		p["args"] = strings.Fields(cmdline)
	}
	if n, err := strconv.ParseInt(pid, 10, 64); err == nil {
		p["pid"] = n
	}
	return p
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
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
