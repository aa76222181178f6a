package alpmhook

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrStopped is ScanINI's and Parse's answer when their stop function
// ended the reading before the end of the file.
var ErrStopped = errors.New("stopped before the end of the file")

// The operations of a trigger, in the order libalpm's bit flags have them
// (hook.c enum _alpm_hook_op_t).
var operations = []string{"Install", "Upgrade", "Remove"}

// Trigger is one [Trigger] section.
type Trigger struct {
	Line int `json:"-"` // of its header
	// Operations are the distinct operations set, in libalpm's order.
	Operations []string `json:"operations"`
	// Type is "Path" or "Package" ("File" is read as "Path"), "" when
	// unset.
	Type string `json:"type"`
	// Targets are fnmatch patterns in file order; a leading '!' inverts,
	// and the last matching pattern decides (util.c
	// _alpm_fnmatch_patterns walks them from the end).
	Targets []string `json:"targets"`
	ops     int
}

// Hook is what libalpm makes of one hook file.
type Hook struct {
	Triggers []Trigger
	// When is "PreTransaction", "PostTransaction" or "" (unset).
	When string
	// Exec is the command as wordsplit splits it (no shell); ExecSet
	// tells an empty Exec from none.
	Exec     []string
	ExecSet  bool
	ExecLine int
	Depends  []string
	// NullDepends: a Depends line without '=', which libalpm can never
	// satisfy (the hook is loaded but "could not satisfy dependencies")
	NullDepends bool
	AbortOnFail bool
	// NeedsTargets passes the matched targets on the command's stdin.
	NeedsTargets bool
	Description  string
	// Error is the first error libalpm stops at while parsing ("" when
	// none); Missing are what _alpm_hook_validate finds missing.
	Error    string
	Missing  []string
	Warnings []string
}

// Valid reports whether libalpm keeps the hook (parse_ini and
// _alpm_hook_validate both succeed).
func (h *Hook) Valid() bool { return h.Error == "" && len(h.Missing) == 0 }

// Masking reports a valid hook without any [Trigger]: libalpm keeps it
// (hook.c: "allow triggerless hooks as a way of creating dummy hooks that
// can be used to mask lower priority hooks") but it never runs.
func (h *Hook) Masking() bool { return h.Valid() && len(h.Triggers) == 0 }

// Problem is the one-line reason a hook is not valid ("" when it is).
func (h *Hook) Problem() string {
	if h.Error != "" {
		return h.Error
	}
	return strings.Join(h.Missing, "; ")
}

// Parse reads a hook file. stop, when not nil, is asked every few thousand
// lines whether to give up (a deadline); err is then ErrStopped, or the
// read error, and the hook holds what was read.
func Parse(r io.Reader, stop func() bool) (*Hook, error) {
	h := &Hook{}
	err := ScanINI(r, stop, h.directive)
	if err != nil {
		if h.Error == "" {
			h.Error = "error while reading hook: " + err.Error()
		}
		return h, err
	}
	if h.Error == "" {
		h.validate()
	}
	for i := range h.Triggers {
		t := &h.Triggers[i]
		t.Operations = []string{}
		for b, op := range operations {
			if t.ops&(1<<b) != 0 {
				t.Operations = append(t.Operations, op)
			}
		}
		if t.Targets == nil {
			t.Targets = []string{}
		}
	}
	return h, nil
}

// directive is _alpm_hook_parse_cb: false (stop) at the first error.
func (h *Hook) directive(d Directive) bool {
	fail := func(format string, a ...any) bool {
		h.Error = fmt.Sprintf("line %d: ", d.Line) + fmt.Sprintf(format, a...)
		return false
	}
	warn := func(key string) {
		h.Warnings = append(h.Warnings, fmt.Sprintf("line %d: overwriting previous definition of %s", d.Line, key))
	}
	// libalpm 6.0.2 passes a missing value (no '=') on as NULL: strcmp
	// of it, or the later matching of a NULL target, crashes pacman
	// (segmentation fault, its database lock left behind)
	noValue := func() bool {
		return fail("%s has no value (no '='): pacman 6.0.2 crashes on it (segmentation fault) and leaves its database locked", d.Key)
	}
	switch {
	case !d.InSection:
		return fail("invalid option %s (before any section)", d.Key)
	case d.Start:
		switch d.Section {
		case "Trigger":
			h.Triggers = append(h.Triggers, Trigger{Line: d.Line})
		case "Action":
		default:
			return fail("invalid section %s", d.Section)
		}
		return true
	case d.Section == "Trigger":
		t := &h.Triggers[len(h.Triggers)-1]
		switch d.Key {
		case "Operation":
			if !d.HasValue {
				return noValue()
			}
			i := indexOf(operations, d.Value)
			if i < 0 {
				return fail("invalid value %s", d.Value)
			}
			t.ops |= 1 << i
		case "Type":
			if !d.HasValue {
				return noValue()
			}
			if t.Type != "" {
				warn("Type")
			}
			switch d.Value {
			case "Package", "Path":
				t.Type = d.Value
			case "File":
				t.Type = "Path"
			default:
				return fail("invalid value %s", d.Value)
			}
		case "Target":
			if !d.HasValue {
				return noValue()
			}
			t.Targets = append(t.Targets, d.Value)
		default:
			return fail("invalid option %s", d.Key)
		}
	default: // Action
		switch d.Key {
		case "When":
			if !d.HasValue {
				return noValue()
			}
			if h.When != "" {
				warn("When")
			}
			if d.Value != "PreTransaction" && d.Value != "PostTransaction" {
				return fail("invalid value %s", d.Value)
			}
			h.When = d.Value
		case "Description":
			if h.Description != "" {
				warn("Description")
			}
			h.Description = d.Value
		case "Depends":
			if !d.HasValue {
				// hook.c:226-229 keeps the NULL; alpm_find_satisfier
				// never satisfies it, so the hook never runs
				h.NullDepends = true
				return true
			}
			h.Depends = append(h.Depends, d.Value)
		case "AbortOnFail":
			h.AbortOnFail = true
		case "NeedsTargets":
			h.NeedsTargets = true
		case "Exec":
			if h.ExecSet {
				warn("Exec")
			}
			if !d.HasValue {
				return fail("invalid value (Exec without '=')")
			}
			argv, ok := WordSplit(d.Value)
			if !ok {
				return fail("invalid value %s (unbalanced quote)", d.Value)
			}
			h.Exec, h.ExecSet, h.ExecLine = argv, true, d.Line
		default:
			return fail("invalid option %s", d.Key)
		}
	}
	return true
}

// validate is _alpm_hook_validate: a hook without triggers is valid; one
// with triggers needs, in each, targets, a type and an operation, and an
// Exec and a When.
func (h *Hook) validate() {
	if len(h.Triggers) == 0 {
		return
	}
	for _, t := range h.Triggers {
		if len(t.Targets) == 0 {
			h.Missing = append(h.Missing, fmt.Sprintf("missing trigger targets ([Trigger] of line %d)", t.Line))
		}
		if t.Type == "" {
			h.Missing = append(h.Missing, fmt.Sprintf("missing trigger type ([Trigger] of line %d)", t.Line))
		}
		if t.ops == 0 {
			h.Missing = append(h.Missing, fmt.Sprintf("missing trigger operation ([Trigger] of line %d)", t.Line))
		}
	}
	if !h.ExecSet {
		h.Missing = append(h.Missing, "missing Exec option")
	}
	if h.When == "" {
		h.Missing = append(h.Missing, "missing When option")
	} else if h.When != "PreTransaction" && h.AbortOnFail {
		h.Warnings = append(h.Warnings, "AbortOnFail set for PostTransaction hook")
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// WordSplit is libalpm's wordsplit: words separated by whitespace, single
// or double quotes group (a backslash escapes the quote character inside
// them), a backslash before a quote outside them makes it literal. ok is
// false for an unbalanced quote.
func WordSplit(s string) (words []string, ok bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	words = []string{}
	for i < len(s) {
		var w []byte
		for i < len(s) && !isSpace(s[i]) {
			c := s[i]
			if c == '\'' || c == '"' {
				i++
				for i < len(s) && s[i] != c {
					if s[i] == '\\' && i+1 < len(s) && s[i+1] == c {
						i++
					}
					w = append(w, s[i])
					i++
				}
				if i >= len(s) {
					return nil, false
				}
				i++
				continue
			}
			if c == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"') {
				i++
			}
			w = append(w, s[i])
			i++
		}
		words = append(words, string(w))
		if i >= len(s) {
			break
		}
		for i++; i < len(s) && isSpace(s[i]); i++ {
		}
	}
	return words, true
}
