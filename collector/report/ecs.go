package report

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

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
