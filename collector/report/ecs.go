package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// ECSVersion is the Elastic Common Schema release the documents follow;
// ecscheck validates them against that release's field definitions.
const ECSVersion = "9.4.0"

// Command is the collector command whose results a document carries;
// event.dataset is "pkgpersist." followed by it.
type Command string

// The commands that write ECS documents.
const (
	Hunt     Command = "hunt"
	Diff     Command = "diff"
	NewTerms Command = "new_terms"
)

// severities are event.severity of an alert by its query's severity
// header, on the scale Elastic's detection rules use for risk scores; a
// detection without one counts as high.
var severities = map[string]int{"low": 21, "medium": 47, "high": 73, "critical": 99, "": 73}

// WriteECS writes one ECS document a line for each change that o.Command
// reports (o.Queries give the severities).
func WriteECS(w io.Writer, o Options, cs []store.Change) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, c := range cs {
		sev := ""
		if q := o.Queries[c.QueryID]; q != nil {
			sev = q.Severity
		}
		if err := enc.Encode(ECS(c, o.Command, sev)); err != nil {
			return err
		}
	}
	return nil
}

// ECS maps a change that cmd reports to an Elastic Common Schema document.
// A detection's row that is there is an alert (with severity, rule and
// threat); a row that appeared or went away is an event; an inventory row
// that is simply still there is state. severity is the query's severity
// header ("" when it has none).
func ECS(c store.Change, cmd Command, severity string) map[string]any {
	there, first := changeState(c.Kind)
	kind := "event"
	switch {
	case c.Query.Kind == "event": // rows of an evented table are happenings
	case c.Query.Kind == "detection" && there:
		kind = "alert"
	case there && !first:
		kind = "state"
	}
	typ := "info"
	switch {
	case first:
		typ = "creation"
	case !there:
		typ = "deletion"
	}
	ev := map[string]any{
		"kind": kind, "category": []string{"configuration"}, "type": []string{typ},
		"module": "pkgpersist", "dataset": "pkgpersist." + string(cmd), "action": c.Kind,
	}
	name, root := hostECS(c.Host)
	if c.HostName != "" { // the machine's own name, as the hunt read it
		name, root = c.HostName, c.Root
	}
	custom := map[string]any{"query": c.QueryID, "change": c.Kind, "run": c.RunID, "row": c.Row}
	if root != "" {
		custom["root"] = root
	}
	doc := map[string]any{
		"@timestamp": c.At.UTC().Format(time.RFC3339Nano),
		"ecs":        map[string]any{"version": ECSVersion},
		"host":       map[string]any{"name": name},
		"event":      ev,
		"rule":       map[string]any{"id": c.QueryID, "name": c.Query.Title, "ruleset": "pkgpersist"},
		"pkgpersist": custom,
	}
	if kind == "alert" {
		ev["severity"] = severities[severity]
		if t := threatECS(c.Query.Attack); t != nil {
			doc["threat"] = t
		}
	}
	switch {
	case c.Row["target_path"] != "":
		// a pm_file_events row: the file, and the process that changed it
		ev["category"], ev["type"] = []string{"file"}, []string{fileEventType(c.Row["action"])}
		doc["file"] = map[string]any{"path": c.Row["target_path"]}
		doc["process"] = processECS(c.Row["path"], c.Row["cmdline"], c.Row["argv"], c.Row["pid"], nil)
	case c.Row["cmdline"] != "" || c.Row["parent_path"] != "":
		// a process_events row: path is the executable
		ev["category"], ev["type"] = []string{"process"}, []string{"start"}
		doc["process"] = processECS(c.Row["path"], c.Row["cmdline"], c.Row["argv"], c.Row["pid"], map[string]any{
			"parent": processECS(c.Row["parent_path"], c.Row["parent_cmdline"], "", c.Row["parent_pid"], nil)})
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

// changeState reads a change word: whether the row is there now and
// whether this is the first time it is seen.
func changeState(kind string) (there, first bool) {
	switch kind {
	case store.New:
		return true, true
	case store.Gone:
		return false, false
	}
	return true, false
}

// hostECS splits a stored host name into the host's name and the root
// directory hunted, which ECS has no field for: ssh targets name it as
// "?root=DIR", local hunts as "HOSTNAME:DIR".
func hostECS(host string) (name, root string) {
	if i := strings.IndexByte(host, '?'); i >= 0 {
		q, _ := url.ParseQuery(host[i+1:])
		return host[:i], q.Get("root")
	}
	if i := strings.IndexByte(host, ':'); i > 0 && !strings.ContainsAny(host[:i], "@[") {
		if _, err := strconv.ParseUint(host[i+1:], 10, 16); err != nil {
			return host[:i], host[i+1:]
		}
	}
	return host, ""
}

// fileEventType is ECS's event.type for a file event's action (osquery's
// words).
func fileEventType(action string) string {
	switch action {
	case "CREATED", "MOVED_TO":
		return "creation"
	case "DELETED", "MOVED_FROM":
		return "deletion"
	}
	return "change"
}

// processECS is ECS's process fields for an osquery process row. argv is
// the exact arguments as a JSON array where the row has them (the
// extension's events); else, as osquery joins argv with spaces,
// process.args splits the command line back.
func processECS(executable, cmdline, argv, pid string, extra map[string]any) map[string]any {
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
	var exact []string
	if err := json.Unmarshal([]byte(argv), &exact); err == nil && len(exact) > 0 {
		p["args"] = exact
	}
	if n, err := strconv.ParseInt(pid, 10, 64); err == nil {
		p["pid"] = n
	}
	return p
}
