package rpmmacros

import (
	"errors"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/rpmmacro"
)

// Macros are the macros rpm run by root has once it loaded its files:
// the effective definitions, and the target macros rpm sets itself.
type Macros struct {
	defs map[string]Macro
	// Target is rpm's %{_target}, cpu-os.
	Target string
}

// Defined returns the macros rpm run by root uses, from Evaluate's rows.
func Defined(macros []Macro, target string) *Macros {
	m := &Macros{defs: map[string]Macro{}, Target: target}
	for _, d := range macros {
		if d.Effective && d.Loaded && !d.Other {
			m.defs[d.Name] = d
		}
	}
	return m
}

// Lookup returns the definition rpm uses for name.
func (m *Macros) Lookup(name string) (Macro, bool) {
	d, ok := m.defs[name]
	return d, ok
}

// Names lists the names of the macros rpm run by root uses.
func (m *Macros) Names() []string {
	out := make([]string, 0, len(m.defs))
	for n := range m.defs {
		out = append(out, n)
	}
	return out
}

// body is the value of name, with the macros rpm defines itself.
func (m *Macros) body(name string) (string, bool) {
	cpu, os, _ := strings.Cut(m.Target, "-")
	switch name {
	case "_target":
		return m.Target, true
	case "_target_cpu":
		return cpu, true
	case "_target_os":
		return os, true
	}
	d, ok := m.defs[name]
	if !ok {
		return "", false
	}
	if d.Parametric {
		return "", true
	}
	return d.Body, true
}

// ErrRunTime is the error of a value only rpm can compute when it runs:
// a shell or Lua expansion, an expression, a built-in or parametric macro.
var ErrRunTime = errors.New("computed when rpm runs")

// Expand expands s the way rpm's expandMacro does for plain references:
// %%, %name, %{name}, %{?name}, %{!?name}, %{?name:text}, %{!?name:text};
// an undefined %name or %{name} stays as written. Anything else (%( ),
// %{lua:}, %[ ], built-ins, parametric macros) is ErrRunTime.
func (m *Macros) Expand(s string) (string, error) { return m.expand(s, 0) }

func (m *Macros) expand(s string, depth int) (string, error) {
	if depth > 64 {
		return "", errors.New("too many levels of recursion in macro expansion")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; {
		case c == '%':
			b.WriteByte('%')
			i++
		case c == '{':
			end := rpmmacro.MatchBrace(s[i+1:]) - 1
			if end < 0 {
				return "", ErrRunTime
			}
			inner := s[i+2 : i+1+end]
			out, err := m.ref(inner, s[i:i+2+end], depth)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i += 1 + end
		case c == '_' || isLetter(c):
			j := i + 1
			for j < len(s) && (isLetter(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '_') {
				j++
			}
			out, err := m.ref(s[i+1:j], s[i:j], depth)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i = j - 1
		default:
			return "", ErrRunTime
		}
	}
	return b.String(), nil
}

// ref expands one reference: inner is what is between the braces (or the
// bare name), written is the reference as written.
func (m *Macros) ref(inner, written string, depth int) (string, error) {
	neg, cond := false, false
	for len(inner) > 0 && (inner[0] == '!' || inner[0] == '?') {
		if inner[0] == '!' {
			neg = true
		} else {
			cond = true
		}
		inner = inner[1:]
	}
	name, text, hasText := strings.Cut(inner, ":")
	if name == "" || !validMacroName(name) || rpmmacro.Builtins[name] {
		return "", ErrRunTime
	}
	body, defined := m.body(name)
	if d, ok := m.defs[name]; ok && d.Parametric {
		return "", ErrRunTime
	}
	switch {
	case cond && hasText:
		if defined != neg {
			return m.expand(text, depth+1)
		}
		return "", nil
	case cond:
		if defined && !neg {
			return m.expand(body, depth+1)
		}
		return "", nil
	case hasText:
		return "", ErrRunTime
	case !defined:
		return written, nil
	}
	return m.expand(body, depth+1)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func validMacroName(n string) bool {
	for i := 0; i < len(n); i++ {
		if !(isLetter(n[i]) || n[i] >= '0' && n[i] <= '9' || n[i] == '_') {
			return false
		}
	}
	return true
}
