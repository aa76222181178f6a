// Package completion writes bash and zsh completion for the program from
// its command definitions (clidoc): commands and subcommands, each one's
// flags, and file or directory names for flags whose value is a FILE or a
// DIR.
package completion

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/clidoc"
)

// Shells are the shells Write knows.
var Shells = []string{"bash", "zsh"}

// Write writes the completion script for shell.
func Write(w io.Writer, shell string, root *clidoc.Command) error {
	var s string
	switch shell {
	case "bash":
		s = bash(root)
	case "zsh":
		s = zsh(root)
	default:
		return fmt.Errorf("no completion for shell %q (one of %s)", shell, strings.Join(Shells, ", "))
	}
	_, err := io.WriteString(w, s)
	return err
}

// model is what both scripts are made of: the command paths, and for each
// the words that may follow and what a flag's value completes to.
type model struct {
	fn       string
	paths    []string // "pkgpersist report html"
	commands map[string][]*clidoc.Command
	flags    map[string][]clidoc.Flag
}

func build(root *clidoc.Command) model {
	m := model{fn: "_" + strings.ReplaceAll(root.Name(), "-", "_"),
		commands: map[string][]*clidoc.Command{}, flags: map[string][]clidoc.Flag{}}
	root.Walk(func(c *clidoc.Command) {
		p := c.Line()
		m.paths = append(m.paths, p)
		m.commands[p] = c.Subcommands
		m.flags[p] = c.Flags
	})
	sort.Strings(m.paths)
	return m
}

// subPaths are the "PATH WORD" strings that move the command path one
// level down, each command's aliases too.
func (m model) subPaths() []string {
	var out []string
	for _, p := range m.paths {
		for _, c := range m.commands[p] {
			for _, n := range append([]string{c.Path[len(c.Path)-1]}, c.Aliases...) {
				out = append(out, p+" "+n)
			}
		}
	}
	return out
}

// valueFlags lists, per kind of value, the "PATH:--flag" strings of flags
// that take one: their value is completed as such, never as a command.
func (m model) valueFlags() (files, dirs, other []string) {
	for _, p := range m.paths {
		for _, f := range m.flags[p] {
			if !f.TakesValue {
				continue
			}
			file, dir := f.TakesPath()
			for _, n := range f.Dashed() {
				k := p + ":" + n
				switch {
				case dir:
					dirs = append(dirs, k)
				case file:
					files = append(files, k)
				default:
					other = append(other, k)
				}
			}
		}
	}
	return files, dirs, other
}

func pattern(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = shQuote(k)
	}
	return strings.Join(q, "|")
}

// shQuote quotes s for sh, bash and zsh alike.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func bash(root *clidoc.Command) string {
	m := build(root)
	var b strings.Builder
	files, dirs, other := m.valueFlags()
	fmt.Fprintf(&b, `# bash completion for %[1]s, made from its command definitions
# (%[1]s completion bash).
%[2]s() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmdpath=%[1]s i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "$cmdpath ${COMP_WORDS[i]}" in
		%[3]s) cmdpath="$cmdpath ${COMP_WORDS[i]}" ;;
		esac
	done
	case "$cmdpath:$prev" in
`, root.Name(), m.fn, pattern(m.subPaths()))
	// mapfile, one name a line: COMPREPLY=($(...)) would split a name at
	// its spaces and expand its glob characters
	if len(files) > 0 {
		fmt.Fprintf(&b, "\t%s)\n\t\tcompopt -o filenames 2>/dev/null\n\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n\t\treturn ;;\n", pattern(files))
	}
	if len(dirs) > 0 {
		fmt.Fprintf(&b, "\t%s)\n\t\tcompopt -o filenames 2>/dev/null\n\t\tmapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n\t\treturn ;;\n", pattern(dirs))
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "\t%s)\n\t\tCOMPREPLY=()\n\t\treturn ;;\n", pattern(other))
	}
	b.WriteString("\tesac\n\tlocal words\n\tcase \"$cmdpath\" in\n")
	for _, p := range m.paths {
		var w []string
		for _, f := range m.flags[p] {
			w = append(w, f.Dashed()...)
		}
		var cmds []string
		for _, c := range m.commands[p] {
			cmds = append(cmds, c.Path[len(c.Path)-1])
		}
		fmt.Fprintf(&b, "\t%s)\n\t\tif [[ $cur == -* ]]; then words=%s; else words=%s; fi ;;\n",
			shQuote(p), shQuote(strings.Join(w, " ")), shQuote(strings.Join(cmds, " ")))
	}
	fmt.Fprintf(&b, "\tesac\n\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\ncomplete -F %s %s\n", m.fn, root.Name())
	return b.String()
}

func zsh(root *clidoc.Command) string {
	m := build(root)
	var b strings.Builder
	files, dirs, other := m.valueFlags()
	// $path is zsh's array tied to $PATH: the command path is cmdpath
	fmt.Fprintf(&b, `#compdef %[1]s
# zsh completion for %[1]s, made from its command definitions
# (%[1]s completion zsh).
%[2]s() {
	local cmdpath=%[1]s i prev=${words[CURRENT-1]}
	local -a described
	for ((i = 2; i < CURRENT; i++)); do
		case "$cmdpath ${words[i]}" in
		(%[3]s) cmdpath="$cmdpath ${words[i]}" ;;
		esac
	done
	case "$cmdpath:$prev" in
`, root.Name(), m.fn, pattern(m.subPaths()))
	if len(files) > 0 {
		fmt.Fprintf(&b, "\t(%s) _files; return ;;\n", pattern(files))
	}
	if len(dirs) > 0 {
		fmt.Fprintf(&b, "\t(%s) _files -/; return ;;\n", pattern(dirs))
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "\t(%s) _message 'value'; return ;;\n", pattern(other))
	}
	b.WriteString("\tesac\n\tcase \"$cmdpath\" in\n")
	for _, p := range m.paths {
		var fl, cmds []string
		for _, f := range m.flags[p] {
			for _, n := range f.Dashed() {
				fl = append(fl, shQuote(describe(n, f.Usage)))
			}
		}
		for _, c := range m.commands[p] {
			cmds = append(cmds, shQuote(describe(c.Path[len(c.Path)-1], c.Usage)))
		}
		fmt.Fprintf(&b, "\t(%s)\n\t\tif [[ $PREFIX == -* ]]; then described=(%s); _describe -t options option described\n\t\telse described=(%s); _describe -t commands command described; fi ;;\n",
			shQuote(p), strings.Join(fl, " "), strings.Join(cmds, " "))
	}
	fmt.Fprintf(&b, "\tesac\n}\n%s \"$@\"\n", m.fn)
	return b.String()
}

// describe is an entry of _describe: NAME:DESCRIPTION, a colon in the
// name escaped, the description on one line.
func describe(name, usage string) string {
	return strings.ReplaceAll(name, ":", `\:`) + ":" + strings.Join(strings.Fields(usage), " ")
}
