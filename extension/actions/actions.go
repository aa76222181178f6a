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
	"strings"
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

// lines splits like Python's file iteration: lines keep no newline.
func lines(data []byte) []string {
	ls := strings.Split(string(data), "\n")
	if len(ls) > 0 && ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// ParseDNF4 reads a DNF 4 .action file.
func ParseDNF4(data []byte) []Action {
	return parseThreeFields(data, "filter:state:command", []string{"in", "out", "any"}, nil)
}

// ParseYUM reads a YUM post-actions .action file. A key with a '/' that is
// not an absolute path matches nothing.
func ParseYUM(data []byte) []Action {
	return parseThreeFields(data, "key:state:command", []string{"install", "update", "remove", "any"}, func(a Action) string {
		if strings.Contains(a.Filter, "/") && !strings.HasPrefix(a.Filter, "/") {
			return "key has '/' but is not an absolute path: it matches nothing"
		}
		return ""
	})
}

// parseThreeFields is the loop both post-transaction-actions plugins run:
// strip each line, skip blanks and '#' comments, split(':', 2), check the
// state.
func parseThreeFields(data []byte, format string, states []string, check func(Action) string) []Action {
	var out []Action
	for i, raw := range lines(data) {
		line := pyStrip(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		a := Action{Line: i + 1}
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
	return out
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

// ParseDNF5 reads a libdnf5 .actions file; the first malformed line is an
// error (the plugin throws, and dnf5 stops).
func ParseDNF5(data []byte) ([]Action, *Error) {
	var out []Action
	for i, line := range lines(data) {
		n := i + 1
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
	return out, nil
}
