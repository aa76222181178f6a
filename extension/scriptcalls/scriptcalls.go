// Package scriptcalls lists what a package's maintainer script or
// scriptlet runs — every program its shell code starts (through wrappers,
// `sh -c` strings, substitutions, as extension/shellcmd finds them) and
// the writes its redirections and copy commands make — and marks the
// calls that persistence is made of: network tools and /dev/tcp, detached
// shells (nohup, setsid), decoders (base64 -d), code run from the network,
// and writes to the places package managers, cron and systemd run code from.
package scriptcalls

import (
	"path"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/shellcmd"
)

// Tags of a call.
const (
	TagNet    = "[net]"    // a network tool, or a /dev/tcp or /dev/udp path
	TagFetch  = "[fetch]"  // runs data from the network as code
	TagDetach = "[detach]" // leaves the package manager's process tree (nohup, setsid…)
	TagDecode = "[decode]" // decodes an encoded payload (base64 -d, xxd -r…)
	TagWrite  = "[write]"  // writes where a package manager, cron or systemd runs code from
	TagError  = "[error]"  // the shell stops: syntax error, or a bound of pkgpersist
)

// Description is the calls column's documentation.
const Description = "What the script runs, one call per line: `<line> <tags><program>` with ` (via <outer programs>)` and ` <- <network source>` when it runs network data as code, " +
	"or `<line> <tags>write <path>` for a redirection or copy into a watched place. Tags: `[net]` network tool or /dev/tcp, `[fetch]` runs network data as code, `[detach]` nohup/setsid/disown/screen/tmux/at, " +
	"`[decode]` base64 -d, xxd -r, openssl -d, `[write]` into apt/dpkg/dnf/yum hook or plugin paths, cron, systemd, init, profile, ld.so.preload, sudoers or ssh keys, `[error]` where the shell stops. Shell builtins are left out. Empty for a script in a language pkgpersist does not read (the reason says so)."

var netTools = set("curl", "wget", "nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "socat", "telnet", "ssh", "scp", "sftp", "ftp", "tftp", "rsync", "openssl", "busybox", "lwp-download", "fetch", "aria2c", "axel")

var detachTools = set("nohup", "setsid", "disown", "screen", "tmux", "at", "batch", "daemonize", "start-stop-daemon", "systemd-run")

var copyTools = set("cp", "install", "mv", "ln", "tee", "dd", "rsync", "crontab")

// watched are the places where code written by a script keeps running.
var watched = []string{
	"/etc/apt/apt.conf.d/", "/etc/dpkg/dpkg.cfg.d/", "/etc/dpkg/dpkg.cfg", "/etc/dnf/plugins/", "/etc/dnf/libdnf5-plugins/",
	"/etc/yum/pluginconf.d/", "/usr/lib/yum-plugins/", "/etc/yum.conf", "/etc/dnf/dnf.conf",
	"/usr/lib/python3/dist-packages/dnf-plugins/", "/var/lib/dpkg/info/",
	"/etc/cron", "/var/spool/cron/", "/etc/anacrontab",
	"/etc/systemd/", "/lib/systemd/", "/usr/lib/systemd/", "/run/systemd/",
	"/etc/init.d/", "/etc/rc.local", "/etc/profile", "/etc/bash.bashrc", "/root/.bashrc", "/root/.profile",
	"/etc/ld.so.preload", "/etc/sudoers", "/root/.ssh/", "/etc/udev/rules.d/", "/lib/udev/rules.d/", "/etc/update-motd.d/",
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Call is one thing the script runs or writes.
type Call struct {
	Line    int
	Tags    []string
	Program string // as looked up; "write" for a write
	Via     string // outer programs, outermost first, joined by " > "
	Source  string // network source of code it runs; the path of a write
}

func (c Call) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Line) + " ")
	for _, t := range c.Tags {
		b.WriteString(t)
	}
	if len(c.Tags) > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(c.Program)
	if c.Via != "" {
		b.WriteString(" (via " + c.Via + ")")
	}
	switch {
	case c.Program == "write":
		b.WriteString(" " + c.Source)
	case c.Source != "":
		b.WriteString(" <- " + c.Source)
	}
	return oneLine(b.String())
}

// Lines renders calls as the calls column.
func Lines(calls []Call) string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.String()
	}
	return strings.Join(out, "\n")
}

// Result is what a script runs, and why the list may be incomplete.
type Result struct {
	Calls []Call
	Cut   string // "" when the list is whole
}

// Shell lists the calls of shell code read by a shell of dialect d.
func Shell(src string, d shellcmd.Dialect) Result {
	res := shellcmd.Command(src, d, shellcmd.Options{})
	var out []Call
	for _, x := range res.Execs {
		c := Call{Line: x.Line, Program: x.Word, Via: strings.Join(x.Via, " > "), Source: x.Fetches}
		switch x.Lookup {
		case shellcmd.LookupBuiltin:
			// disown is a bash builtin that detaches; the rest run inside the shell
			if x.Word != "disown" {
				continue
			}
		case shellcmd.LookupFunction:
			continue
		case shellcmd.LookupError:
			c.Program, c.Tags = x.Reason, []string{TagError}
			out = append(out, c)
			continue
		}
		base := path.Base(x.Word)
		if netTools[base] {
			c.Tags = append(c.Tags, TagNet)
		}
		if x.Fetches != "" {
			if !netTools[base] {
				c.Tags = append(c.Tags, TagNet)
			}
			c.Tags = append(c.Tags, TagFetch)
		}
		if detachTools[base] {
			c.Tags = append(c.Tags, TagDetach)
		}
		out = append(out, c)
	}
	for _, a := range astCalls(shellcmd.Parse(src, d)) {
		if merged(out, a) {
			continue
		}
		out = append(out, a)
	}
	sortByLine(out)
	return Result{Calls: out, Cut: res.Cut}
}

// merged puts a decoder's tag on the program call of the same line, when
// there is one.
func merged(calls []Call, a Call) bool {
	if a.Program == "write" {
		return false
	}
	for i := range calls {
		c := &calls[i]
		if c.Line == a.Line && c.Via == "" && path.Base(c.Program) == a.Program {
			c.Tags = append(c.Tags, a.Tags...)
			return true
		}
	}
	return false
}

// sortByLine orders calls by line, keeping the order within a line.
func sortByLine(cs []Call) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].Line < cs[j-1].Line; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(s)
}
