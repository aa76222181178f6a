// Package shellcmd reads a shell command line (what a package manager
// hands to `/bin/sh -c`, or executes as an argument vector) and lists the
// programs it makes run: every command word, the commands of wrappers
// (nohup, env, setsid, timeout…), the script an interpreter is given, the
// strings of `sh -c`, `eval` and `trap` read again as shell code, the
// commands of `$(…)` and backquotes, and which of them take their code from
// the network. It parses as POSIX sh (dash, Debian's /bin/sh) or bash does,
// quoting and escapes included; it never runs anything.
//
// Command lines are untrusted input: nesting is bounded, and so is the
// number of programs listed; what is cut is said, never dropped.
package shellcmd

import "strconv"

// Dialect is the grammar a command string is read with.
type Dialect int

const (
	// Sh is POSIX sh as dash implements it (Debian's /bin/sh).
	Sh Dialect = iota
	// Bash is bash (Fedora's /bin/sh, `bash -c`): `$'…'`, `[[ ]]`,
	// `(( ))`, `&>`, `|&`, `<(…)`, `function`, /dev/tcp redirections.
	Bash
)

func (d Dialect) String() string {
	if d == Bash {
		return "bash"
	}
	return "sh"
}

// Word is one shell word.
type Word struct {
	Raw string // as written
	// Lit is the value after quote removal; expansions are kept as
	// written (see Dynamic).
	Lit string
	// Dynamic names the first part whose value only the running shell
	// knows (`$HOME`, `$(…)`, a glob, `~`); "" when Lit is the value.
	Dynamic string
	Quoted  bool // some part was quoted or escaped
	// Subst are the command and process substitutions in the word; they
	// run when the word is expanded.
	Subst []*Subst
}

// Subst is a command substitution (`$(…)`, backquotes) or a bash process
// substitution (`<(…)`, `>(…)`).
type Subst struct {
	Kind string // "$(", "`", "<(", ">("
	Prog *Program
}

// Redirect is one redirection of a command.
type Redirect struct {
	Fd     string // the IO number as written, "" for the default
	Op     string // "<", ">", ">>", "<&", ">&", "<>", ">|", "<<", "<<-", "&>", "&>>", "<<<"
	Target Word   // file, descriptor or here-document delimiter
	// Body is a here-document's text, expanded (Subst) when the
	// delimiter is unquoted.
	Body *Word
}

// Assign is a NAME=value word before a command.
type Assign struct {
	Name  string
	Value Word
}

// Node is a command of any kind.
type Node interface{ node() }

// Simple is a simple command.
type Simple struct {
	Assigns []Assign
	Words   []Word
	Redirs  []*Redirect
	Text    string // source text
	Line    int    // line of the command string it starts on (1-based)
}

// Pipeline is commands joined by `|`.
type Pipeline struct {
	Bang bool
	Cmds []Node
}

// AndOr is pipelines joined by `&&` and `||`.
type AndOr struct {
	Pipes []*Pipeline
}

// List is a sequence of and-or lists.
type List struct {
	Items []*AndOr
}

// Compound is a compound command: `( )`, `{ }`, if, while, until, for,
// case, `[[ ]]`, `(( ))`. Lists are its bodies in source order; Words
// are words it expands (the for list, the case word and patterns, the
// operands of `[[ ]]` and `(( ))`).
type Compound struct {
	Kind     string // "(", "{", "if", "while", "until", "for", "case", "[[", "(("
	Subshell bool
	Lists    []*List
	Words    []Word
	Redirs   []*Redirect
}

// FuncDef is a function definition; its body runs when it is called.
type FuncDef struct {
	Name string
	Body Node
}

func (*Simple) node()   {}
func (*Pipeline) node() {}
func (*AndOr) node()    {}
func (*List) node()     {}
func (*Compound) node() {}
func (*FuncDef) node()  {}

// Program is a parsed command string.
type Program struct {
	Dialect Dialect
	List    *List
	// Err is the syntax error that stops the shell: it runs the lines
	// before Err.Line and nothing from that line on.
	Err *SyntaxError
}

// SyntaxError is where and why the shell refuses a command string.
type SyntaxError struct {
	Line int
	Msg  string
	// Limit is set when the string is not wrong but pkgpersist's bound
	// on nesting or size stopped the reading (the shell would go on).
	Limit bool
}

func (e *SyntaxError) Error() string {
	if e.Limit {
		return "not read past line " + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return "syntax error at line " + strconv.Itoa(e.Line) + ": " + e.Msg
}
