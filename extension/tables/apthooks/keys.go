package apthooks

import (
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/aptconf"
)

// kind is how apt uses a command-valued key.
type kind int

const (
	// list: apt runs every non-empty direct child, in order, with
	// /bin/sh -c (pkgDPkgPM::RunScripts and friends).
	list kind = iota
	// scalar: apt runs or executes the key's own value.
	scalar
	// vector: apt's FindVector: the key's own value when it has one
	// (comma-separated), else its children.
	vector
	// dpkgOptions: apt passes every non-empty direct child to dpkg as an
	// argument; those that are dpkg's --pre-invoke/--post-invoke options
	// make dpkg run a command with sh -c.
	dpkgOptions
)

// hookKeys are the configuration keys whose values make apt (or the dpkg it
// starts) execute something. The first pattern that matches a key wins; "*"
// stands for one scope component. A `Binary::<name>::` prefix scopes any of
// them to the program named <name>.
var hookKeys = []struct {
	pattern string
	kind    kind
	// shadowedBy names a sibling key whose non-empty value apt uses
	// instead of this one.
	shadowedBy string
}{
	{"APT::Update::Pre-Invoke", list, ""},
	{"APT::Update::Post-Invoke", list, ""},
	{"APT::Update::Post-Invoke-Success", list, ""},
	{"DPkg::Pre-Invoke", list, ""},
	{"DPkg::Post-Invoke", list, ""},
	{"DPkg::Pre-Install-Pkgs", list, ""},
	{"RPM::Pre-Invoke", list, ""},
	{"RPM::Post-Invoke", list, ""},
	{"RPM::Pre-Install-Pkgs", list, ""},
	// apt's JSON hooks (doc/json-hooks-protocol.md), run by the apt
	// command line tool for install, upgrade and search
	{"AptCli::Hooks::Install", list, ""},
	{"AptCli::Hooks::Upgrade", list, ""},
	{"AptCli::Hooks::Search", list, ""},
	{"DPkg::Options", dpkgOptions, ""},
	{"Acquire::*::Proxy-Auto-Detect", scalar, ""},
	// the older spelling, which apt reads when the new one is unset
	{"Acquire::*::ProxyAutoDetect", scalar, "Proxy-Auto-Detect"},
	{"Dir::Bin::solvers", vector, ""},
	{"Dir::Bin::planners", vector, ""},
	{"Dir::Bin::*", scalar, ""},
}

// dpkgInvokeOptions are dpkg's options that take a command.
var dpkgInvokeOptions = []string{"--pre-invoke", "--post-invoke"}

// match is how an item relates to a hook key.
type match struct {
	hook       string // the key, canonically spelled, with its Binary:: scope
	kind       kind
	shadowedBy string
	key        *aptconf.Item // the hook key's item
	depth      int           // 0 the key itself, 1 a direct child, 2+ deeper
}

// hookKeySegments are the "::"-separated components of each hookKeys
// pattern, split once: classify meets every assignment of the
// configuration.
var hookKeySegments = func() [][]string {
	out := make([][]string, len(hookKeys))
	for i, hk := range hookKeys {
		out[i] = strings.Split(hk.pattern, "::")
	}
	return out
}()

// matchSegments reports whether the first items of chain have the tags of
// segs ("*" matching any).
func matchSegments(segs []string, chain []*aptconf.Item) bool {
	for i, s := range segs {
		if s != "*" && !asciiEqualFold(s, chain[i].Tag) {
			return false
		}
	}
	return true
}

// classify finds the hook key that item is, or is below.
func classify(item *aptconf.Item) (match, bool) {
	var chain []*aptconf.Item
	for it := item; it != nil && it.Parent != nil; it = it.Parent {
		chain = append(chain, it)
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	scope := ""
	if len(chain) >= 3 && strings.EqualFold(chain[0].Tag, "Binary") {
		scope = "Binary::" + chain[1].Tag + "::"
		chain = chain[2:]
	}
	for k, hk := range hookKeys {
		segs := hookKeySegments[k]
		if len(chain) < len(segs) || !matchSegments(segs, chain) {
			continue
		}
		name := make([]string, len(segs))
		for i, s := range segs {
			name[i] = s
			if s == "*" {
				name[i] = chain[i].Tag
			}
		}
		return match{
			hook:       scope + strings.Join(name, "::"),
			kind:       hk.kind,
			shadowedBy: hk.shadowedBy,
			key:        chain[len(segs)-1],
			depth:      len(chain) - len(segs),
		}, true
	}
	return match{}, false
}

// asciiEqualFold compares as apt does: ASCII letters only.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// invokeCommand returns the command of a dpkg --pre-invoke=/--post-invoke=
// argument.
func invokeCommand(arg string) (string, bool) {
	for _, o := range dpkgInvokeOptions {
		if cmd, ok := strings.CutPrefix(arg, o+"="); ok {
			return cmd, true
		}
	}
	return "", false
}

// isBareInvokeOption reports an option whose command is the next argument.
func isBareInvokeOption(arg string) bool {
	for _, o := range dpkgInvokeOptions {
		if arg == o {
			return true
		}
	}
	return false
}

// RunsWithShell reports whether APT, or the dpkg it starts, runs the
// entries of hook (an apt_hooks hook name such as `DPkg::Post-Invoke` or
// `Binary::apt::Acquire::http::Proxy-Auto-Detect`) with `/bin/sh -c`;
// false for the settings APT executes as a program without a shell
// (proxy auto-detection, `Dir::Bin::*`).
func RunsWithShell(hook string) bool {
	segs := strings.Split(hook, "::")
	if len(segs) >= 3 && asciiEqualFold(segs[0], "Binary") {
		segs = segs[2:]
	}
	for _, hk := range hookKeys {
		pat := strings.Split(hk.pattern, "::")
		if len(pat) != len(segs) {
			continue
		}
		ok := true
		for i, s := range pat {
			ok = ok && (s == "*" || asciiEqualFold(s, segs[i]))
		}
		if ok {
			return hk.kind == list || hk.kind == dpkgOptions
		}
	}
	return false
}
