// Package actions parses the action files through which package-manager
// plugins run commands on package transactions:
//
//   - DNF 4 post-transaction-actions (dnf-plugins-core
//     plugins/post-transaction-actions.py): lines `filter:state:command`,
//     stripped, `#` comments, split(':', 2), state in/out/any, run by a shell;
//   - libdnf5 actions (dnf5 libdnf5-plugins/actions/actions.cpp
//     Actions::parse_action_files): `hook:filter:direction:options:command`,
//     `#` in column 0, any malformed line an error that stops dnf5, the
//     command split into arguments and executed without a shell;
//   - YUM post-transaction-actions (yum-utils
//     plugins/post-transaction-actions/post-transaction-actions.py): lines
//     `key:state:command`, state install/update/remove/any, run by a shell.
package actions

import (
	"fmt"
	"io"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/lines"
)

// Action is one line that names a command.
type Action struct {
	Line    int
	Trigger string // when it runs: the state, or the libdnf5 hook and direction
	Filter  string // which packages (or files) it applies to
	Command string
	// Skipped says why the plugin ignores the line ("" when it runs it).
	Skipped string
}

// pyStrip is Python's str.strip() for ASCII.
func pyStrip(s string) string { return strings.Trim(s, " \t\n\r\x0b\x0c") }

// Format is the kind of action file.
type Format int

// The action file formats.
const (
	DNF4 Format = iota
	YUM
	DNF5
)

// Parse reads an action file of any size from r, one line at a time; stop
// is polled every few thousand lines (nil for never). A libdnf5 line the
// plugin rejects is a *Error (dnf5 stops on it); any other error means the
// file was not read to the end (a read error, an over-long line, stop), and
// the actions before that point are returned with it.
func Parse(f Format, r io.Reader, stop func() error) ([]Action, error) {
	lr := lines.New(r, stop)
	var out []Action
	var err error
	switch f {
	case DNF4:
		out = parseThreeFields(lr, "filter:state:command", []string{"in", "out", "any"}, nil)
	case YUM:
		out = parseThreeFields(lr, "key:state:command", []string{"install", "update", "remove", "any"}, func(a Action) string {
			if strings.Contains(a.Filter, "/") && !strings.HasPrefix(a.Filter, "/") {
				return "key has '/' but is not an absolute path: it matches nothing"
			}
			return ""
		})
	case DNF5:
		out, err = parseDNF5(lr)
	}
	if lr.Err() != nil {
		return out, lr.Err()
	}
	return out, err
}

// parseThreeFields is the loop both post-transaction-actions plugins run:
// strip each line, skip blanks and '#' comments, split(':', 2), check the
// state.
func parseThreeFields(lr *lines.Reader, format string, states []string, check func(Action) string) []Action {
	var out []Action
	for {
		raw, ok := lr.Next()
		if !ok {
			return out
		}
		line := pyStrip(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		a := Action{Line: lr.Line()}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			a.Command = line
			a.Skipped = "bad action line: not " + format + " (the plugin logs it and skips it)"
			out = append(out, a)
			continue
		}
		a.Filter, a.Trigger, a.Command = parts[0], parts[1], parts[2]
		known := false
		for _, s := range states {
			known = known || a.Trigger == s
		}
		switch {
		case !known:
			a.Skipped = fmt.Sprintf("unknown state %q: the plugin skips it (%s)", a.Trigger, strings.Join(states, ", "))
		case check != nil:
			a.Skipped = check(a)
		}
		out = append(out, a)
	}
}

// DNF5Hooks are the libdnf5 actions plugin's hooks; only the transaction
// hooks take a package filter and a direction.
var DNF5Hooks = map[string]bool{
	"pre_base_setup": false, "post_base_setup": false, "repos_configured": false,
	"repos_loaded": false, "pre_add_cmdline_packages": false, "post_add_cmdline_packages": false,
	"goal_resolved": true, "pre_transaction": true, "post_transaction": true,
}

// Error is a line the libdnf5 actions plugin rejects: dnf5 then stops.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// parseDNF5 reads a libdnf5 .actions file; the first malformed line is an
// error (the plugin throws, and dnf5 stops).
func parseDNF5(lr *lines.Reader) ([]Action, error) {
	var out []Action
	for {
		line, ok := lr.Next()
		if !ok {
			return out, nil
		}
		n := lr.Line()
		if line == "" || line[0] == '#' {
			continue
		}
		parts := strings.SplitN(line, ":", 5)
		if len(parts) != 5 {
			return out, &Error{n, "\"hook:package_filter:direction:options:command\" format expected"}
		}
		hook, filter, direction, options, cmd := parts[0], parts[1], parts[2], parts[3], parts[4]
		transaction, known := DNF5Hooks[hook]
		switch {
		case !known:
			return out, &Error{n, "unknown hook " + hook}
		case !transaction && filter != "":
			return out, &Error{n, "package filter is only allowed on transaction hooks"}
		case direction != "" && direction != "in" && direction != "out":
			return out, &Error{n, "unknown direction " + direction}
		case !transaction && direction != "":
			return out, &Error{n, "direction is only allowed on transaction hooks"}
		case cmd == "":
			return out, &Error{n, "missing command"}
		}
		a := Action{Line: n, Trigger: hook, Filter: filter, Command: cmd}
		if direction != "" {
			a.Trigger += ":" + direction
		}
		for _, opt := range strings.Fields(options) {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "enabled":
				switch v {
				case "1":
				case "host-only":
				case "installroot-only":
					a.Skipped = "enabled=installroot-only: runs only for transactions in another installroot"
				default:
					return out, &Error{n, "invalid value " + v + " for option enabled"}
				}
			case "mode":
				if v != "plain" && v != "json" {
					return out, &Error{n, "invalid value " + v + " for option mode"}
				}
			default:
				return out, &Error{n, "unknown option " + k}
			}
		}
		out = append(out, a)
	}
}
