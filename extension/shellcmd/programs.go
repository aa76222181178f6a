package shellcmd

import (
	"regexp"
	"strings"
	"sync"
)

// kind is what a program does with its arguments.
type kind int

const (
	plain      kind = iota
	wrapper         // runs the command in its arguments (nohup, env, setsid…)
	shell           // sh, bash…: -c code, a script file, or stdin
	interp          // python, perl…: inline code, a script file, or stdin
	finder          // find: -exec/-execdir/-ok/-okdir commands
	multicall       // busybox: the first argument names the applet
	downloader      // fetches data from the network
)

// spec says how a program reads its options (GNU getopt with "+": options
// end at the first operand) and where the command or code is.
type spec struct {
	kind kind
	// args are short options that take an argument, attached or as the
	// next word; rest are short options that take the rest of their word
	// only (perl -M, -x).
	args, rest string
	// long options that take an argument (--opt=value or --opt value)
	long []string
	// noCmd: with one of these options the program runs no command
	noCmd    string
	longNoCm []string
	// operands before the command (timeout's duration, chroot's
	// directory, flock's lock file)
	operands int
	assigns  bool // NAME=value words before the command (env, sudo)
	// code: the short option whose argument is program text (python
	// -c, perl -e, php -r); longCode the same as long options. For
	// shells, -c is a flag and the code is the first operand.
	code     string
	longCode []string
	// script: the option whose argument is the script file (php -f)
	script string
	// module: the option whose argument names a module to run (python -m)
	module string
	// shellOpt: the option whose argument is a shell command line
	// (flock -c, su -c)
	shellOpt  string
	longShell []string
	// dir: the option whose argument is the working directory of the
	// command (env -C)
	dir string
	// split: the option whose argument is split into the command's words
	// (env -S)
	split       string
	defaultCmd  string // the command run when none is given (xargs: echo)
	chroot      bool   // the first operand is the root the command runs in
	dialect     Dialect
	stdinReader bool // with no code and no script, reads code from stdin
	// shellAfter: "-c COMMAND" may follow the operands (flock FILE -c)
	shellAfter bool
	// permute: options may follow operands (su, runuser: GNU getopt
	// without "+")
	permute bool
	// shellSel: the option that names the shell of shellOpt (su -s)
	shellSel string
}

// programs are the wrappers, interpreters and downloaders by the name
// they are run as. Options follow each program's own documentation
// (coreutils, util-linux, findutils, sudo, the interpreters' man pages).
// Built on first use, not at package init: most runs of the binaries
// never read a shell command.
var programs = sync.OnceValue(func() map[string]spec {
	return map[string]spec{
		"nohup":   {kind: wrapper},
		"setsid":  {kind: wrapper},
		"env":     {kind: wrapper, args: "uCS", long: []string{"unset", "chdir", "split-string"}, assigns: true, dir: "C", split: "S"},
		"timeout": {kind: wrapper, args: "sk", long: []string{"signal", "kill-after"}, operands: 1},
		"nice":    {kind: wrapper, args: "n", long: []string{"adjustment"}},
		"ionice":  {kind: wrapper, args: "cnpPu", long: []string{"class", "classdata", "pid", "pgid", "uid"}, noCmd: "pPu", longNoCm: []string{"pid", "pgid", "uid"}},
		"sudo": {kind: wrapper, args: "CDghpRrTtUu", long: []string{"close-from", "chdir", "group", "host", "prompt", "chroot", "role", "command-timeout", "type", "other-user", "user"},
			noCmd: "elvVKk", longNoCm: []string{"edit", "list", "validate", "version", "remove-timestamp"}, assigns: true, dir: "D"},
		"doas":    {kind: wrapper, args: "uC", noCmd: "L"},
		"stdbuf":  {kind: wrapper, args: "ioe", long: []string{"input", "output", "error"}},
		"chrt":    {kind: wrapper, args: "TPD", long: []string{"sched-runtime", "sched-period", "sched-deadline"}, noCmd: "pm", longNoCm: []string{"pid", "max"}, operands: 1},
		"taskset": {kind: wrapper, noCmd: "p", longNoCm: []string{"pid"}, operands: 1},
		"flock":   {kind: wrapper, args: "wEc", long: []string{"timeout", "wait", "conflict-exit-code", "command"}, operands: 1, shellOpt: "c", longShell: []string{"command"}, shellAfter: true},
		"su":      {kind: wrapper, args: "cgGsw", long: []string{"command", "session-command", "group", "supp-group", "shell", "whitelist-environment"}, shellOpt: "c", longShell: []string{"command", "session-command"}, permute: true, shellSel: "s"},
		"runuser": {kind: wrapper, args: "cgGsuw", long: []string{"command", "session-command", "group", "supp-group", "shell", "user", "whitelist-environment"}, shellOpt: "c", longShell: []string{"command", "session-command"}, permute: true, shellSel: "s"},
		"chroot":  {kind: wrapper, long: []string{"groups", "userspec"}, chroot: true},
		"xargs":   {kind: wrapper, args: "adEILnPs", rest: "eil", long: []string{"arg-file", "delimiter", "max-args", "max-procs", "max-chars", "process-slot-var"}, defaultCmd: "echo"},
		"time":    {kind: wrapper, args: "fo", long: []string{"format", "output"}},

		"sh":   {kind: shell, dialect: Sh},
		"dash": {kind: shell, dialect: Sh},
		"ash":  {kind: shell, dialect: Sh},
		"posh": {kind: shell, dialect: Sh},
		"bash": {kind: shell, dialect: Bash}, "rbash": {kind: shell, dialect: Bash},
		"ksh": {kind: shell, dialect: Bash}, "ksh93": {kind: shell, dialect: Bash}, "mksh": {kind: shell, dialect: Bash},
		"zsh": {kind: shell, dialect: Bash}, "yash": {kind: shell, dialect: Sh},

		"perl":   {kind: interp, code: "eE", args: "I", rest: "MmxildDC0", stdinReader: true},
		"ruby":   {kind: interp, code: "e", args: "IrCEF", rest: "KTWx", stdinReader: true},
		"php":    {kind: interp, code: "rBRE", args: "cdzt", script: "f", stdinReader: true},
		"node":   {kind: interp, code: "ep", args: "r", longCode: []string{"eval", "print"}, long: []string{"require", "import", "loader"}, stdinReader: true},
		"nodejs": {kind: interp, code: "ep", args: "r", longCode: []string{"eval", "print"}, long: []string{"require", "import", "loader"}, stdinReader: true},
		"lua":    {kind: interp, code: "e", args: "l", stdinReader: true},

		"find":    {kind: finder},
		"busybox": {kind: multicall},

		"curl": {kind: downloader}, "wget": {kind: downloader}, "fetch": {kind: downloader},
		"aria2c": {kind: downloader}, "nc": {kind: downloader}, "ncat": {kind: downloader},
		"netcat": {kind: downloader}, "socat": {kind: downloader}, "telnet": {kind: downloader},
		"lwp-download": {kind: downloader}, "lwp-request": {kind: downloader}, "GET": {kind: downloader},
		"tftp": {kind: downloader}, "ftp": {kind: downloader}, "openssl": {kind: downloader},
	}
})

// The builtins that run a command: read like wrappers, but only by the
// shell (a program cannot execute them).
var (
	execSpec    = spec{kind: wrapper, args: "a"}
	commandSpec = spec{kind: wrapper, noCmd: "vV"}
	timeSpec    = spec{kind: wrapper}
)

var (
	pythonName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(python|pypy)[0-9.]*$`) })
	pythonSpec = spec{kind: interp, code: "c", module: "m", args: "WX", long: []string{"check-hash-based-pycs"}, stdinReader: true}
	perlName   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^perl[0-9.]+$`) })
)

// specOf returns how the program named base (no directory) reads its
// arguments.
func specOf(base string) spec {
	if s, ok := programs()[base]; ok {
		return s
	}
	switch {
	case pythonName().MatchString(base):
		return pythonSpec
	case perlName().MatchString(base):
		return programs()["perl"]
	}
	return spec{}
}

// builtins are the commands the shell runs itself (dash 0.5.12
// src/builtins.def.in; bash 5.2 `enable -a`), found before PATH.
var builtins = map[Dialect]map[string]bool{
	Sh:   setOf(". : [ alias bg break cd chdir command continue echo eval exec exit export false fc fg getopts hash jobs kill local printf pwd read readonly return set shift test times trap true type ulimit umask unalias unset wait"),
	Bash: setOf(". : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown echo enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile popd printf pushd pwd read readarray readonly return set shift shopt source suspend test times trap true type typeset ulimit umask unalias unset wait"),
}

// IsBuiltin reports whether the shell of dialect d runs name itself.
func IsBuiltin(name string, d Dialect) bool { return builtins[d][name] }

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// DefaultPATH is the PATH a root shell has on Debian (login.defs
// ENV_SUPATH, sudo's secure_path) and systemd gives services: where
// pkgpersist looks up a command word when the command line does not set
// its own.
const DefaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
