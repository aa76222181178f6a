// Package installargv decides from a command line whether rpm, dpkg,
// pacman or apk installs packages, the way their own option parsers read
// it, and which spelling did it: Elastic's rule looks only for rpm's (and
// dpkg's) "-i" and "--install", so clustered options (-ivh, -Uvh),
// -U/--upgrade, -F/--freshen, --reinstall and dpkg's --unpack slip past
// it; pacman -U and apk add of a package file are installs it does not
// look at.
package installargv

import (
	"encoding/json"
	"path"
	"strings"
)

// Install is what a command line does, when it installs.
type Install struct {
	Tool string // rpm, dpkg, pacman or apk
	// Form is the argument that made it an install, as written (apk's:
	// its applet, add).
	Form string
	// Rule reports whether Elastic's rule (rpm or dpkg with args "-i" or
	// "--install") matches this command line.
	Rule bool
}

// Classify reads argv (argv[0] names the program) and returns the install
// it performs, or ok false: another program, another action, a dry run,
// or options the program would reject.
func Classify(argv []string) (in Install, ok bool) {
	if len(argv) == 0 {
		return in, false
	}
	switch path.Base(argv[0]) {
	case "rpm":
		in, ok = rpm(argv[1:])
		in.Tool = "rpm"
	case "dpkg":
		in, ok = dpkg(argv[1:])
		in.Tool = "dpkg"
	case "pacman": // Elastic's rule names rpm and dpkg only: Rule stays false
		in, ok = pacman(argv[1:])
		in.Tool = "pacman"
		return in, ok
	case "apk":
		in, ok = apk(argv[1:])
		in.Tool = "apk"
		return in, ok
	default:
		return in, false
	}
	for _, a := range argv[1:] {
		if a == "--" {
			break
		}
		in.Rule = in.Rule || a == "-i" || a == "--install"
	}
	return in, ok
}

// Split splits a command line as osquery's cmdline column gives it (the
// arguments joined by spaces) back into arguments.
func Split(cmdline string) []string { return strings.Fields(cmdline) }

// parser walks options the way popt (rpm) and dpkg's myopt do: long
// options, clusters of short ones, values attached or in the next
// argument, and "--" ending the options.
type parser struct {
	longValue  map[string]bool // long options that take a value
	shortValue string          // short options that take a value
	long       func(name string) bool
	short      func(c byte, token string) bool
}

// run returns false when an option makes the command line one the tool
// would refuse or that cannot install.
func (p parser) run(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return true
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			if p.longValue[name] && !hasValue {
				i++
			}
			if !p.long(name) {
				return false
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				if !p.short(a[j], a) {
					return false
				}
				if strings.IndexByte(p.shortValue, a[j]) >= 0 {
					if j == len(a)-1 {
						i++ // the value is the next argument
					}
					break // the rest of the cluster is the value
				}
			}
		}
	}
	return true
}

// rpm follows rpm's command line (rpm.c, lib/poptI.c, lib/poptQV.c): one
// major mode; -i installs unless a query or verify mode came first (then
// it is --info); --test only reports what would happen.
func rpm(args []string) (Install, bool) {
	var in Install
	mode := "" // install, query, other
	set := func(m, form string) bool {
		if mode != "" && mode != m {
			return false // rpm: only one major mode may be specified
		}
		if mode == "" && m == "install" {
			in.Form = form
		}
		mode = m
		return true
	}
	test := false
	p := parser{
		longValue: map[string]bool{"root": true, "dbpath": true, "define": true, "eval": true, "macros": true,
			"rcfile": true, "predefine": true, "pipe": true, "relocate": true, "prefix": true, "excludepath": true,
			"queryformat": true, "qf": true, "load": true},
		shortValue: "DEr",
		long: func(name string) bool {
			switch name {
			case "install", "upgrade", "freshen", "reinstall":
				return set("install", "--"+name)
			case "query", "verify", "querytags", "whatprovides", "whatrequires":
				return set("query", "")
			case "erase", "checksig", "import", "initdb", "rebuilddb", "setperms", "setugids", "restore", "showrc", "eval", "delsign", "addsign", "resign":
				return set("other", "")
			case "test":
				test = true
			}
			return true
		},
		short: func(c byte, token string) bool {
			switch c {
			case 'i':
				if mode == "query" {
					return true // -qi: --info
				}
				return set("install", token)
			case 'U', 'F':
				return set("install", token)
			case 'q', 'V':
				return set("query", "")
			case 'e', 'K':
				return set("other", "")
			}
			return true
		},
	}
	if !p.run(args) || mode != "install" || test {
		return Install{}, false
	}
	return in, true
}

// dpkg follows dpkg's action table (src/main/main.c): the last action
// given wins only when it is the same one (two actions conflict); -i and
// --unpack install; --no-act, --dry-run and --simulate install nothing.
func dpkg(args []string) (Install, bool) {
	var in Install
	action := ""
	dry := false
	set := func(a, form string) bool {
		if action != "" && action != a {
			return false // dpkg: conflicting actions
		}
		if action == "" {
			in.Form = form
		}
		action = a
		return true
	}
	p := parser{
		longValue:  map[string]bool{"root": true, "admindir": true, "instdir": true, "debug": true, "log": true, "status-fd": true, "status-logger": true, "path-include": true, "path-exclude": true, "pre-invoke": true, "post-invoke": true, "abort-after": true, "force": false, "ignore-depends": true},
		shortValue: "D",
		long: func(name string) bool {
			switch name {
			case "install", "unpack":
				return set(name, "--"+name)
			case "no-act", "dry-run", "simulate":
				dry = true
			case "remove", "purge", "configure", "triggers-only", "contents", "info", "field", "extract", "vextract",
				"fsys-tarfile", "status", "listfiles", "list", "search", "print-avail", "audit", "verify",
				"record-avail", "forget-old-unavail", "clear-avail", "get-selections", "set-selections",
				"clear-selections", "yet-to-unpack", "predep-package", "print-architecture", "compare-versions",
				"help", "version", "build", "update-avail", "merge-avail", "add-architecture", "remove-architecture",
				"print-foreign-architectures", "assert-support-predepends", "validate-pkgname", "validate-version":
				return set(name, "")
			}
			return true
		},
		short: func(c byte, token string) bool {
			switch c {
			case 'i':
				return set("install", token)
			case 'r', 'P', 'c', 'I', 'f', 'x', 'X', 's', 'L', 'l', 'S', 'p', 'C', 'V', 'A', 'b', '?', 'h':
				return set(string(c), "")
			}
			return true
		},
	}
	if !p.run(args) || (action != "install" && action != "unpack") || dry {
		return Install{}, false
	}
	return in, true
}

// Args is the argv of a logged process row: its exact argv (a JSON array,
// as the extension's events give it) when there is one, else its cmdline
// split on spaces, with the executable's path (exe, when known) first.
func Args(argvJSON, cmdline, exe string) []string {
	var exact []string
	args := Split(cmdline)
	if err := json.Unmarshal([]byte(argvJSON), &exact); err == nil && len(exact) > 0 {
		args = exact
	}
	if len(args) > 0 && exe != "" {
		args[0] = exe
	}
	return args
}
