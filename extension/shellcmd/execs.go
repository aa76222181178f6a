package shellcmd

import (
	"path"
	"strconv"
	"strings"
)

// How a program came to run (Exec.How).
const (
	HowCommand = "command"            // a command word of the command line
	HowShell   = "sh -c"              // a command word of a string a shell reads as code (`sh -c`)
	HowWrapper = "wrapper"            // the command a wrapper runs (nohup, env, setsid, exec…)
	HowScript  = "interpreter-script" // the script file an interpreter is given
	HowSource  = "source"             // a file the shell reads as code (`.`, `source`)
	HowEval    = "eval"               // a command word of an `eval` string
	HowTrap    = "trap"               // a command word of a `trap` action
	HowDirect  = "direct"             // executed without a shell (an argument vector)
)

// How the program's file is found (Exec.Lookup).
const (
	LookupPath     = "path-lookup" // a name searched on PATH
	LookupAbsolute = "absolute"    // an absolute path
	LookupRelative = "relative"    // a path relative to the working directory
	LookupScript   = "script"      // a script operand: a file name, relative to the working directory unless absolute
	LookupBuiltin  = "builtin"     // run by the shell itself
	LookupFunction = "function"    // a shell function the command line defines
	LookupApplet   = "applet"      // a busybox applet: runs inside busybox
	LookupModule   = "module"      // a Python module, found on Python's import path
	LookupDynamic  = "dynamic"     // the word is only known when the shell runs
	LookupError    = "error"       // the shell stops: a syntax error, or pkgpersist's bound
)

// Exec is one program a command line makes run.
type Exec struct {
	Word   string   // as looked up (quotes removed); as written when Lookup is dynamic
	How    string   // see the How constants
	Via    []string // the commands that lead to it, outermost first
	Lookup string   // see the Lookup constants
	Reason string   // why it has no file to look for (builtin, dynamic, error…)
	PATH   string   // the PATH it is searched on
	Dir    string   // the working directory, "" when not known
	Root   string   // the directory a chroot wrapper runs it in, "" for /
	// Fetches is the download or network connection whose data it runs
	// as code ("" for none).
	Fetches string
	Dialect Dialect // of the shell that looks it up
	// Limit is set on an error row that a bound of pkgpersist caused.
	Limit bool
	// Line is the line of the outermost command string on which the
	// simple command that leads to it starts (1-based; a program of a
	// `sh -c` string has the line of that `sh -c`).
	Line int
}

// Options are what the caller knows about how the command line is run.
type Options struct {
	Sh   Dialect // what `sh` is: the root's /bin/sh (dash: Sh; bash: Bash)
	PATH string  // inherited PATH (DefaultPATH when "")
	Dir  string  // inherited working directory, "" when not known
	// Via are the steps that led to this command line (e.g. the script
	// whose #! line names the program), put before every row's own.
	Via []string
	// MaxExecs bounds the programs listed (default 4096); what is cut is
	// said in Result.Cut.
	MaxExecs int
}

// Result is what a command line runs.
type Result struct {
	Execs []Exec
	Cut   string // why the list is incomplete; "" when it is whole
}

// Command lists what `sh -c src` runs, with the shell of dialect d.
func Command(src string, d Dialect, o Options) Result {
	w := newWalker(o)
	w.string(src, d, w.start(HowCommand))
	return w.result()
}

// Argv lists what executing argv without a shell runs (how: HowDirect,
// or HowCommand for an argument vector a package manager splits itself).
// An argument holding "${" is taken as substituted by the caller.
func Argv(argv []string, how string, o Options) Result {
	w := newWalker(o)
	words := make([]Word, len(argv))
	for i, a := range argv {
		words[i] = Word{Raw: a, Lit: a}
		if strings.Contains(a, "${") {
			words[i].Dynamic = a
		}
	}
	if len(words) > 0 {
		e := w.start(how)
		w.argv(words, w.execFor(words[0], e), e, false)
	}
	return w.result()
}

type walker struct {
	o      Options
	out    []Exec
	cut    string
	budget *budget
	line   int // of the outermost simple command being walked
}

// env is the state of the shell a command runs in.
type env struct {
	d      Dialect
	how    string
	via    []string
	path   string
	dir    string
	root   string
	depth  int
	funcs  map[string]bool
	netFds map[string]string // descriptor → /dev/tcp path (bash)
	files  map[string]string // file → the download that wrote it
	stdin  string            // network source of standard input
}

func newWalker(o Options) *walker {
	if o.PATH == "" {
		o.PATH = DefaultPATH
	}
	if o.MaxExecs <= 0 {
		o.MaxExecs = 4096
	}
	return &walker{o: o, budget: &budget{words: maxWords}}
}

func (w *walker) start(how string) *env {
	return &env{d: w.o.Sh, how: how, via: append([]string(nil), w.o.Via...), path: w.o.PATH, dir: w.o.Dir, funcs: map[string]bool{}, netFds: map[string]string{}, files: map[string]string{}}
}

func (w *walker) result() Result { return Result{Execs: w.out, Cut: w.cut} }

// emit adds x; it returns its index, or -1 past the bound.
func (w *walker) emit(x Exec) int {
	if len(w.out) >= w.o.MaxExecs {
		if w.cut == "" {
			w.cut = "more than " + strconv.Itoa(w.o.MaxExecs) + " programs; the rest are not listed"
		}
		return -1
	}
	x.Via = append([]string(nil), x.Via...)
	if x.Line == 0 {
		x.Line = w.line
	}
	w.out = append(w.out, x)
	return len(w.out) - 1
}

func (w *walker) fetch(i int, src string) {
	if i >= 0 && src != "" && w.out[i].Fetches == "" {
		w.out[i].Fetches = src
	}
}

// sub is the environment of a subshell: changes stay inside.
func (e *env) sub() *env {
	c := *e
	c.via = append([]string(nil), e.via...)
	return &c
}

// nested is the environment of a program that runs via step.
func (e *env) nested(how, step string) *env {
	c := e.sub()
	c.how = how
	c.via = append(c.via, step)
	return c
}

func (e *env) template() Exec {
	return Exec{How: e.how, Via: e.via, PATH: e.path, Dir: e.dir, Root: e.root, Dialect: e.d}
}

// string parses src as code of a shell of dialect d and walks it.
func (w *walker) string(src string, d Dialect, e *env) {
	if e.depth > MaxDepth {
		x := e.template()
		x.Lookup, x.Limit = LookupError, true
		x.Reason = "not read: shell strings nested deeper than " + strconv.Itoa(MaxDepth) + " levels"
		w.emit(x)
		return
	}
	e.d = d
	prog := parseProgram(src, d, e.depth, w.budget)
	w.program(prog, e)
}

func (w *walker) program(prog *Program, e *env) {
	w.list(prog.List, e)
	if prog.Err != nil {
		x := e.template()
		x.Lookup, x.Limit = LookupError, prog.Err.Limit
		if e.depth == 0 {
			x.Line = prog.Err.Line
		}
		if prog.Err.Limit {
			x.Reason = prog.Err.Error()
		} else {
			x.Reason = prog.Dialect.String() + ": " + prog.Err.Error() + "; the shell runs nothing from that line on"
		}
		w.emit(x)
	}
}

func (w *walker) list(l *List, e *env) {
	if l == nil {
		return
	}
	for _, ao := range l.Items {
		for _, pl := range ao.Pipes {
			w.pipeline(pl, e)
		}
	}
}

func (w *walker) pipeline(pl *Pipeline, e *env) {
	if len(pl.Cmds) == 1 {
		w.node(pl.Cmds[0], e)
		return
	}
	net := ""
	for i, c := range pl.Cmds {
		ce := e.sub()
		if i > 0 {
			ce.stdin = net
		}
		w.node(c, ce)
		if net == "" {
			net = w.download(c, e)
		}
	}
}

func (w *walker) node(n Node, e *env) {
	switch n := n.(type) {
	case *Simple:
		w.simple(n, e)
	case *Compound:
		for _, wd := range n.Words {
			w.substs(wd, e)
		}
		w.redirects(n.Redirs, e)
		ce := e
		if n.Subshell {
			ce = e.sub()
		}
		if in := w.stdinOf(n.Redirs, e); in != "" {
			ce = ce.sub()
			ce.stdin = in
		}
		for _, l := range n.Lists {
			w.list(l, ce)
		}
	case *FuncDef:
		e.funcs[n.Name] = true
		w.node(n.Body, e.nested(e.how, "function "+n.Name))
	}
}

var substLabel = map[string]string{"$(": "$(…)", "`": "`…`", "<(": "<(…)", ">(": ">(…)"}

// substs walks the command substitutions of a word: they run first.
func (w *walker) substs(wd Word, e *env) {
	for _, s := range wd.Subst {
		w.program(s.Prog, e.nested(e.how, substLabel[s.Kind]))
	}
}

func (w *walker) redirects(rs []*Redirect, e *env) {
	for _, r := range rs {
		w.substs(r.Target, e)
		if r.Body != nil {
			w.substs(*r.Body, e)
		}
	}
}

// stdinOf is the network source a command's redirections put on its
// standard input: a bash /dev/tcp or /dev/udp path, a descriptor opened on
// one, a file a download wrote, or a here-document or here-string whose
// text comes from a download.
func (w *walker) stdinOf(rs []*Redirect, e *env) string {
	net := ""
	toStdin := false
	for _, r := range rs {
		fd := r.Fd
		switch r.Op {
		case "<", "<>", "<&", "<<", "<<-", "<<<":
			if fd == "" {
				fd = "0"
			}
		case "&>", "&>>":
			fd = "1"
		default:
			if fd == "" {
				fd = "1"
			}
		}
		t := r.Target
		switch {
		case r.Op == "<<" || r.Op == "<<-" || r.Op == "<<<":
			body := t
			if r.Body != nil {
				body = *r.Body
			}
			if d := w.downloadIn(body, e); d != "" && fd == "0" {
				return d
			}
		case e.d == Bash && t.Dynamic == "" && isNetPath(t.Lit):
			net = t.Lit
			if fd == "0" {
				toStdin = true
			}
		case (r.Op == "<&" || r.Op == ">&") && t.Dynamic == "":
			if src, ok := e.netFds[t.Lit]; ok && fd == "0" {
				return src
			}
			if fd == "0" && net != "" {
				toStdin = true
			}
		case t.Dynamic == "" && fd == "0" && e.files[t.Lit] != "":
			return e.files[t.Lit]
		}
	}
	if toStdin {
		return net
	}
	return ""
}

func isNetPath(p string) bool {
	return strings.HasPrefix(p, "/dev/tcp/") || strings.HasPrefix(p, "/dev/udp/")
}

// simple walks a simple command: its substitutions, then the program.
func (w *walker) simple(s *Simple, e *env) {
	if e.depth == 0 {
		w.line = s.Line
	}
	for _, a := range s.Assigns {
		w.substs(a.Value, e)
	}
	for _, wd := range s.Words {
		w.substs(wd, e)
	}
	w.redirects(s.Redirs, e)
	if len(s.Words) == 0 {
		for _, a := range s.Assigns {
			e.assign(a.Name, a.Value)
		}
		w.execRedirects(s.Redirs, e)
		return
	}
	if len(s.Words) == 1 && s.Words[0].Raw == "exec" {
		w.execRedirects(s.Redirs, e)
	}
	ce := e
	if len(s.Assigns) > 0 {
		ce = e.sub()
		for _, a := range s.Assigns {
			ce.assign(a.Name, a.Value)
		}
	}
	if in := w.stdinOf(s.Redirs, e); in != "" {
		ce = ce.sub()
		ce.stdin = in
	}
	w.recordDownload(s, e)
	w.shellCommand(s.Words, ce, e)
}

// execRedirects keeps the descriptors a bare `exec 3<>/dev/tcp/…` (or a
// redirection-only command) opens for the commands after it.
func (w *walker) execRedirects(rs []*Redirect, e *env) {
	if e.d != Bash {
		return
	}
	for _, r := range rs {
		if r.Target.Dynamic == "" && isNetPath(r.Target.Lit) && r.Fd != "" {
			e.netFds[r.Fd] = r.Target.Lit
			if r.Fd == "0" {
				e.stdin = r.Target.Lit
			}
		}
	}
}

// assign applies NAME=value to the state pkgpersist follows: PATH.
func (e *env) assign(name string, v Word) {
	if name != "PATH" {
		return
	}
	val := v.Lit
	if v.Dynamic != "" {
		val = strings.NewReplacer("${PATH}", e.path, "$PATH", e.path).Replace(v.Lit)
	}
	e.path = val
}

// shellCommand looks up the command word as the shell does: a path,
// a function, a builtin, or a name on PATH. outer is the shell's own
// state, which `exec`, `cd` and `export` change.
func (w *walker) shellCommand(words []Word, e, outer *env) {
	first := words[0]
	x := e.template()
	if first.Dynamic != "" {
		x.Word, x.Lookup = first.Raw, LookupDynamic
		x.Reason = "the command word is only known when the shell runs (" + first.Dynamic + ")"
		x.Fetches = w.downloadIn(first, e)
		w.emit(x)
		return
	}
	name := first.Lit
	if strings.Contains(name, "/") || name == "" {
		w.argv(words, w.execFor(first, e), e, false)
		return
	}
	switch {
	case e.funcs[name]:
		x.Word, x.Lookup, x.Reason = name, LookupFunction, "a shell function the command line defines"
		w.emit(x)
		return
	case name == "time" && e.d == Bash:
		x.Word, x.Lookup, x.Reason = name, LookupBuiltin, "a bash reserved word: times the command after it"
		w.emit(x)
		w.wrapped(words, timeSpec, name, e)
		return
	case !IsBuiltin(name, e.d):
		w.argv(words, w.execFor(first, e), e, false)
		return
	}
	x.Word, x.Lookup, x.Reason = name, LookupBuiltin, "a "+e.d.String()+" builtin: the shell runs it itself"
	w.emit(x)
	args := words[1:]
	switch name {
	case ".", "source":
		w.source(args, e)
	case "eval":
		w.codeWords(args, e, HowEval, "eval")
	case "trap":
		if len(args) >= 2 && args[0].Lit != "-" && args[0].Raw != "" {
			w.codeWords(args[:1], e, HowTrap, "trap")
		}
	case "exec":
		w.wrapped(words, execSpec, name, e)
	case "command":
		w.commandBuiltin(words, e)
	case "builtin":
		if len(args) > 0 && args[0].Dynamic == "" && IsBuiltin(args[0].Lit, e.d) {
			w.shellCommand(args, e, outer)
		}
	case "cd", "chdir":
		outer.cd(args)
	case "export", "readonly", "local", "declare", "typeset":
		for _, a := range args {
			if n, ok := assignName(a.Raw); ok {
				v := a
				v.Lit = strings.TrimPrefix(a.Lit, n+"=")
				outer.assign(n, v)
			}
		}
	}
}

// cd follows the working directory when it is written out.
func (e *env) cd(args []Word) {
	if len(args) == 0 || args[0].Dynamic != "" || args[0].Lit == "-" {
		e.dir = ""
		return
	}
	d := args[0].Lit
	switch {
	case path.IsAbs(d):
		e.dir = path.Clean(d)
	case e.dir != "":
		e.dir = path.Join(e.dir, d)
	}
}

// execFor is the row of a program a shell or wrapper executes.
func (w *walker) execFor(word Word, e *env) Exec {
	x := e.template()
	x.Word = word.Lit
	switch {
	case word.Dynamic != "":
		x.Word, x.Lookup = word.Raw, LookupDynamic
		x.Reason = "the program is only known when it runs (" + word.Dynamic + ")"
	case word.Lit == "":
		x.Lookup, x.Reason = LookupError, "an empty command word: nothing to execute"
	case strings.HasPrefix(word.Lit, "/"):
		x.Lookup = LookupAbsolute
	case strings.Contains(word.Lit, "/"):
		x.Lookup = LookupRelative
	default:
		x.Lookup = LookupPath
	}
	return x
}

// source is `. FILE`: dash and bash search PATH for a name without "/".
func (w *walker) source(args []Word, e *env) {
	if len(args) == 0 {
		return
	}
	x := w.execFor(args[0], e)
	x.How = HowSource
	x.Fetches = w.downloadIn(args[0], e)
	if !x.Dynamic() && (args[0].Lit == "/dev/stdin" || args[0].Lit == "/proc/self/fd/0") && e.stdin != "" {
		x.Fetches = e.stdin
	}
	w.emit(x)
}

// Dynamic reports whether the row's word is only known at run time.
func (x Exec) Dynamic() bool { return x.Lookup == LookupDynamic }

// codeWords reads words the shell joins and runs as code (eval, trap).
func (w *walker) codeWords(args []Word, e *env, how, step string) {
	var parts []string
	for _, a := range args {
		if a.Dynamic != "" {
			x := e.template()
			x.How, x.Lookup = how, LookupDynamic
			x.Word = a.Raw
			x.Reason = "the " + step + " string is only known when the shell runs (" + a.Dynamic + ")"
			x.Fetches = w.downloadIn(a, e)
			w.emit(x)
			return
		}
		parts = append(parts, a.Lit)
	}
	ce := e.nested(how, step)
	ce.depth++
	w.string(strings.Join(parts, " "), e.d, ce)
}

// commandBuiltin is `command [-p] name args`: no function, builtins
// first; -v and -V only print.
func (w *walker) commandBuiltin(words []Word, e *env) {
	i, opts, ok := readOptions(words, commandSpec, false)
	if !ok || i >= len(words) || opts.noCmd {
		return
	}
	ce := e.nested(HowWrapper, "command")
	if opts.has('p') {
		// confstr(_CS_PATH), which both shells use for -p
		ce.path = "/bin:/usr/bin"
	}
	rest := words[i:]
	if rest[0].Dynamic == "" && IsBuiltin(rest[0].Lit, e.d) {
		x := ce.template()
		x.Word, x.Lookup, x.Reason = rest[0].Lit, LookupBuiltin, "a "+e.d.String()+" builtin: the shell runs it itself"
		w.emit(x)
		return
	}
	w.argv(rest, w.execFor(rest[0], ce), ce, false)
}

// wrapped runs the command after a builtin wrapper's options.
func (w *walker) wrapped(words []Word, sp spec, name string, e *env) {
	i, opts, ok := readOptions(words, sp, false)
	if !ok || i >= len(words) || opts.noCmd {
		return
	}
	ce := e.nested(HowWrapper, name)
	w.argv(words[i:], w.execFor(words[i], ce), ce, false)
}

// argv emits x, the program words[0], and follows what it runs in turn.
// applet marks a busybox applet, which has no file of its own.
func (w *walker) argv(words []Word, x Exec, e *env, applet bool) {
	if applet {
		x.Lookup, x.Reason = LookupApplet, "a busybox applet: runs inside busybox"
	}
	idx := w.emit(x)
	if x.Lookup == LookupDynamic || x.Lookup == LookupError {
		return
	}
	name := words[0].Lit
	sp := specOf(path.Base(name))
	switch sp.kind {
	case wrapper:
		w.wrapper(words, sp, name, e)
	case shell:
		w.shellArgs(words, sp, name, idx, e)
	case interp:
		w.interpArgs(words, sp, name, idx, e)
	case finder:
		w.findExec(words, e)
	case multicall:
		if len(words) > 1 && words[1].Dynamic == "" && !strings.HasPrefix(words[1].Lit, "-") {
			ce := e.nested(HowWrapper, name)
			w.argv(words[1:], w.execFor(words[1], ce), ce, true)
		}
	}
}

// wrapper follows the command a wrapper program runs.
func (w *walker) wrapper(words []Word, sp spec, base string, e *env) {
	i, opts, ok := readOptions(words, sp, false)
	ce := e.nested(HowWrapper, base)
	if !ok {
		x := ce.template()
		x.Word, x.Lookup = words[i].Raw, LookupDynamic
		x.Reason = "the options of " + base + " are only known when it runs (" + words[i].Dynamic + ")"
		w.emit(x)
		return
	}
	if opts.noCmd {
		return
	}
	if v, ok := opts.value(sp.dir); ok {
		if path.IsAbs(v) {
			ce.dir = v
		} else {
			ce.dir = ""
		}
	}
	if code, ok := opts.word(sp.shellOpt, sp.longShell); ok {
		sh, _ := opts.word(sp.shellSel, []string{"shell"})
		w.shellString(code, sh, base, ce, sp)
		return
	}
	if sp.assigns {
		for i < len(words) {
			n, isAssign := assignName(words[i].Raw)
			if !isAssign {
				break
			}
			v := words[i]
			v.Lit = strings.TrimPrefix(v.Lit, n+"=")
			if n == "PATH" {
				// the wrapper's execvp searches the new PATH
				ce.path = strings.NewReplacer("${PATH}", e.path, "$PATH", e.path).Replace(v.Lit)
			}
			i++
		}
	}
	if s, ok := opts.word(sp.split, nil); ok {
		// env -S: the string is split into words and put first
		words = append(append(append([]Word(nil), words[:i]...), splitWords(s)...), words[i:]...)
	}
	if sp.chroot {
		if i >= len(words) {
			return
		}
		if words[i].Dynamic != "" || !path.IsAbs(words[i].Lit) {
			x := ce.template()
			x.Word, x.Lookup = words[i].Raw, LookupDynamic
			x.Reason = "chroot into a directory only known when it runs"
			w.emit(x)
			return
		}
		ce.root = path.Join(ce.root, words[i].Lit)
		ce.dir = "/"
		i++
		if i >= len(words) {
			// chroot runs "$SHELL -i" by default
			x := ce.template()
			x.Word, x.Lookup = "/bin/sh", LookupAbsolute
			w.emit(x)
			return
		}
	} else {
		i += sp.operands
	}
	if sp.shellAfter && i+1 < len(words) && (words[i].Lit == "-c" || words[i].Lit == "--command") {
		// flock FILE -c COMMAND: util-linux flock looks for -c after the file
		w.shellString(words[i+1], Word{}, base, ce, sp)
		return
	}
	if i >= len(words) {
		if sp.defaultCmd != "" {
			x := ce.template()
			x.Word, x.Lookup = sp.defaultCmd, LookupPath
			w.emit(x)
		}
		return
	}
	w.argv(words[i:], w.execFor(words[i], ce), ce, false)
}

// shellString runs the shell command line a wrapper's -c option gives:
// flock starts $SHELL, else /bin/sh; su and runuser the shell of -s, else
// the user's login shell, which only /etc/passwd knows.
func (w *walker) shellString(code, sh Word, base string, e *env, sp spec) {
	x := e.template()
	switch {
	case sp.shellAfter:
		x.Word, x.Lookup = "/bin/sh", LookupAbsolute
	case sh.Lit != "":
		x = w.execFor(sh, e)
	default:
		x.Lookup, x.Reason = LookupDynamic, "the login shell of the user (in /etc/passwd)"
	}
	idx := w.emit(x)
	w.code(code, e.d, e.nested(HowShell, base+" -c"), idx)
}

// splitWords splits env -S's string into words (quotes and spaces).
func splitWords(s Word) []Word {
	if s.Dynamic != "" {
		return []Word{s}
	}
	prog := Parse(s.Lit, Sh)
	if prog.Err != nil || len(prog.List.Items) != 1 || len(prog.List.Items[0].Pipes) != 1 {
		return []Word{{Raw: s.Lit, Lit: s.Lit}}
	}
	if sc, ok := prog.List.Items[0].Pipes[0].Cmds[0].(*Simple); ok {
		return sc.Words
	}
	return []Word{{Raw: s.Lit, Lit: s.Lit}}
}

// shellArgs follows what a shell program runs: its -c string, its script
// operand, or the code it reads from standard input.
func (w *walker) shellArgs(words []Word, sp spec, base string, idx int, e *env) {
	d := sp.dialect
	if path.Base(base) == "sh" {
		d = w.o.Sh
	}
	i, opts, ok := readOptions(words, spec{args: "oO", long: []string{"rcfile", "init-file"}}, true)
	if !ok {
		return
	}
	switch {
	case opts.has('c'):
		if i >= len(words) {
			return
		}
		ce := e.nested(HowShell, base+" -c")
		w.code(words[i], d, ce, idx)
	case opts.has('s') || i >= len(words) || words[i].Lit == "-":
		w.fetch(idx, e.stdin)
	default:
		w.script(words[i], base, idx, e)
	}
}

// code walks a string a program runs as shell code.
func (w *walker) code(code Word, d Dialect, e *env, idx int) {
	if code.Dynamic != "" {
		x := e.template()
		x.Word, x.Lookup = code.Raw, LookupDynamic
		x.Reason = "the shell string is only known when it runs (" + code.Dynamic + ")"
		x.Fetches = w.downloadIn(code, e)
		w.fetch(idx, x.Fetches)
		w.emit(x)
		return
	}
	e.depth++
	w.string(code.Lit, d, e)
}

// script emits the script file an interpreter runs.
func (w *walker) script(op Word, base string, idx int, e *env) {
	ce := e.nested(HowScript, base)
	x := w.execFor(op, ce)
	if x.Lookup == LookupPath || x.Lookup == LookupRelative {
		x.Lookup = LookupScript
	}
	x.Fetches = w.downloadIn(op, e)
	if x.Fetches == "" && op.Dynamic == "" {
		x.Fetches = e.files[op.Lit]
		if (op.Lit == "/dev/stdin" || op.Lit == "/proc/self/fd/0") && e.stdin != "" {
			x.Fetches = e.stdin
		}
	}
	w.fetch(idx, x.Fetches)
	w.emit(x)
}

// interpArgs follows what python, perl and the like run: inline code
// (which runs no file), a script operand, a module, or standard input.
func (w *walker) interpArgs(words []Word, sp spec, base string, idx int, e *env) {
	i, opts, ok := readOptions(words, sp, false)
	if !ok {
		return
	}
	if code, ok := opts.word(sp.code, sp.longCode); ok {
		w.fetch(idx, w.downloadIn(code, e))
		return
	}
	if f, ok := opts.word(sp.script, nil); ok {
		w.script(f, base, idx, e)
		return
	}
	if m, ok := opts.word(sp.module, nil); ok {
		x := e.nested(HowScript, base).template()
		x.Word, x.Lookup, x.Reason = m.Lit, LookupModule, "a Python module: found on Python's import path, not on PATH"
		if m.Dynamic != "" {
			x.Word, x.Lookup = m.Raw, LookupDynamic
		}
		w.emit(x)
		return
	}
	if i >= len(words) || words[i].Lit == "-" {
		w.fetch(idx, e.stdin)
		return
	}
	w.script(words[i], base, idx, e)
}

// findExec follows find's -exec, -execdir, -ok and -okdir commands.
func (w *walker) findExec(words []Word, e *env) {
	for i := 1; i < len(words); i++ {
		switch words[i].Lit {
		case "-exec", "-execdir", "-ok", "-okdir":
		default:
			continue
		}
		j := i + 1
		for j < len(words) && words[j].Lit != ";" && words[j].Lit != "+" {
			j++
		}
		if j > i+1 {
			ce := e.nested(HowWrapper, "find "+words[i].Lit)
			w.argv(words[i+1:j], w.execFor(words[i+1], ce), ce, false)
		}
		i = j
	}
}

// download is the text of the first command in n that downloads, or
// reads network data on its standard input and so passes it on; "" for
// none.
func (w *walker) download(n Node, e *env) string {
	switch n := n.(type) {
	case *Simple:
		if isDownload(n.Words) {
			return n.Text
		}
		if in := w.stdinOf(n.Redirs, e); in != "" {
			return in
		}
	case *Compound:
		for _, l := range n.Lists {
			for _, ao := range l.Items {
				for _, pl := range ao.Pipes {
					for _, c := range pl.Cmds {
						if d := w.download(c, e); d != "" {
							return d
						}
					}
				}
			}
		}
	}
	return ""
}

// downloadIn is the download whose output a word's substitutions carry.
func (w *walker) downloadIn(wd Word, e *env) string {
	for _, s := range wd.Subst {
		if s.Kind == ">(" {
			continue
		}
		for _, ao := range s.Prog.List.Items {
			for _, pl := range ao.Pipes {
				for _, c := range pl.Cmds {
					if d := w.download(c, e); d != "" {
						return d
					}
				}
			}
		}
	}
	return ""
}

// recordDownload remembers the file a download writes (curl -o F, wget
// -O F, or > F), so that running F later counts as running the download.
func (w *walker) recordDownload(s *Simple, e *env) {
	if !isDownload(s.Words) {
		return
	}
	for i, wd := range s.Words {
		a := wd.Lit
		if i+1 < len(s.Words) && (a == "-o" || a == "--output" || a == "-O" || a == "--output-document") && s.Words[i+1].Dynamic == "" {
			e.files[s.Words[i+1].Lit] = s.Text
		}
		for _, p := range []string{"--output=", "--output-document="} {
			if strings.HasPrefix(a, p) {
				e.files[strings.TrimPrefix(a, p)] = s.Text
			}
		}
	}
	for _, r := range s.Redirs {
		if (r.Op == ">" || r.Op == ">>" || r.Op == ">|") && (r.Fd == "" || r.Fd == "1") && r.Target.Dynamic == "" {
			e.files[r.Target.Lit] = s.Text
		}
	}
}

// isDownload reports a command whose program, past any wrappers, fetches
// from the network.
func isDownload(words []Word) bool {
	for len(words) > 0 && words[0].Dynamic == "" {
		base := path.Base(words[0].Lit)
		sp := specOf(base)
		switch sp.kind {
		case downloader:
			return true
		case wrapper:
			i, opts, ok := readOptions(words, sp, false)
			if !ok || opts.noCmd {
				return false
			}
			for sp.assigns && i < len(words) {
				if _, a := assignName(words[i].Raw); !a {
					break
				}
				i++
			}
			i += sp.operands
			if sp.chroot {
				i++
			}
			if i >= len(words) {
				return false
			}
			words = words[i:]
		default:
			return false
		}
	}
	return false
}

// options are the options read from a command line.
type options struct {
	short map[byte]Word
	long  map[string]Word
	noCmd bool
}

func (o options) has(c byte) bool { _, ok := o.short[c]; return ok }

func (o options) value(c string) (string, bool) {
	if c == "" {
		return "", false
	}
	v, ok := o.short[c[0]]
	return v.Lit, ok && v.Dynamic == ""
}

// word is the argument of the first of the short options in shorts (or
// of the long options) that was given.
func (o options) word(shorts string, longs []string) (Word, bool) {
	for i := 0; i < len(shorts); i++ {
		if v, ok := o.short[shorts[i]]; ok {
			return v, true
		}
	}
	for _, l := range longs {
		if v, ok := o.long[l]; ok {
			return v, true
		}
	}
	return Word{}, false
}

// readOptions reads the options of words[0] up to its first operand (GNU
// getopt with "+", POSIX utility syntax); it returns the operand's index.
// shellLike also reads +o and -o style options and treats "-" as the end.
// ok is false when an option word is only known at run time.
func readOptions(words []Word, sp spec, shellLike bool) (int, options, bool) {
	o := options{short: map[byte]Word{}, long: map[string]Word{}}
	i := 1
	for i < len(words) {
		a := words[i]
		if a.Dynamic != "" {
			if strings.HasPrefix(a.Lit, "-") && !shellLike {
				return i, o, false
			}
			break
		}
		s := a.Lit
		if s == "--" {
			i++
			break
		}
		if len(s) < 2 || (s[0] != '-' && !(shellLike && s[0] == '+')) || s == "-" {
			if sp.permute && i+1 < len(words) {
				// GNU getopt without "+": options may follow operands
				i++
				continue
			}
			break
		}
		i++
		if strings.HasPrefix(s, "--") {
			name, val, eq := strings.Cut(s[2:], "=")
			switch {
			case eq:
				o.long[name] = Word{Raw: val, Lit: val}
			case contains(sp.long, name) || contains(sp.longCode, name) || contains(sp.longShell, name):
				if i < len(words) {
					o.long[name] = words[i]
					i++
				}
			default:
				o.long[name] = Word{}
			}
			if contains(sp.longNoCm, name) {
				o.noCmd = true
			}
			continue
		}
		for j := 1; j < len(s); j++ {
			c := s[j]
			if strings.IndexByte(sp.noCmd, c) >= 0 {
				o.noCmd = true
			}
			takes := strings.IndexByte(sp.args, c) >= 0 || strings.IndexByte(sp.code, c) >= 0 ||
				(sp.script != "" && c == sp.script[0]) || (sp.module != "" && c == sp.module[0]) ||
				(sp.shellOpt != "" && c == sp.shellOpt[0])
			if takes {
				if j+1 < len(s) {
					o.short[c] = Word{Raw: s[j+1:], Lit: s[j+1:]}
				} else if i < len(words) {
					o.short[c] = words[i]
					i++
				}
				if strings.IndexByte(sp.code, c) >= 0 || (sp.module != "" && c == sp.module[0]) {
					// -c code / -m module end the options (python)
					return i, o, true
				}
				break
			}
			if strings.IndexByte(sp.rest, c) >= 0 {
				o.short[c] = Word{Raw: s[j+1:], Lit: s[j+1:]}
				break
			}
			o.short[c] = Word{}
		}
	}
	return i, o, true
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
