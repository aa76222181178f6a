package scriptcalls

import (
	"path"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/shellcmd"
)

// astCalls finds, in the parsed script, what the list of programs does not
// show: decoders by their options, redirections to /dev/tcp, and writes
// (redirections, copies) into watched places.
func astCalls(p *shellcmd.Program) []Call {
	var out []Call
	var walk func(n shellcmd.Node, line int)
	list := func(l *shellcmd.List, line int) {
		if l == nil {
			return
		}
		for _, ao := range l.Items {
			for _, pl := range ao.Pipes {
				for _, c := range pl.Cmds {
					walk(c, line)
				}
			}
		}
	}
	substs := func(w shellcmd.Word, line int) {
		for _, s := range w.Subst {
			if s.Prog != nil {
				list(s.Prog.List, line)
			}
		}
	}
	redirs := func(rs []*shellcmd.Redirect, line int) {
		for _, r := range rs {
			substs(r.Target, line)
			t := r.Target.Lit
			switch {
			case r.Target.Dynamic != "":
			case strings.HasPrefix(t, "/dev/tcp/") || strings.HasPrefix(t, "/dev/udp/"):
				out = append(out, Call{Line: line, Tags: []string{TagNet}, Program: "write", Source: r.Op + " " + t})
			case writes(r.Op) && isWatched(t):
				out = append(out, Call{Line: line, Tags: []string{TagWrite}, Program: "write", Source: r.Op + " " + t})
			}
		}
	}
	walk = func(n shellcmd.Node, line int) {
		switch n := n.(type) {
		case *shellcmd.Simple:
			if n.Line > 0 {
				line = n.Line
			}
			for _, a := range n.Assigns {
				substs(a.Value, line)
			}
			for _, w := range n.Words {
				substs(w, line)
			}
			redirs(n.Redirs, line)
			out = append(out, simpleCalls(n.Words, line)...)
		case *shellcmd.Compound:
			for _, w := range n.Words {
				substs(w, line)
			}
			redirs(n.Redirs, line)
			for _, l := range n.Lists {
				list(l, line)
			}
		case *shellcmd.FuncDef:
			walk(n.Body, line)
		case *shellcmd.Pipeline:
			for _, c := range n.Cmds {
				walk(c, line)
			}
		case *shellcmd.AndOr:
			for _, pl := range n.Pipes {
				walk(pl, line)
			}
		case *shellcmd.List:
			list(n, line)
		}
	}
	list(p.List, 1)
	return out
}

func writes(op string) bool {
	switch op {
	case ">", ">>", ">|", "&>", "&>>", "<>":
		return true
	}
	return false
}

func isWatched(p string) bool {
	p = path.Clean(p)
	for _, w := range watched {
		if strings.HasPrefix(p, w) || p+"/" == w {
			return true
		}
	}
	return false
}

// simpleCalls looks at one command's words: a decoder by its options, a
// copy into a watched place by its operands.
func simpleCalls(words []shellcmd.Word, line int) []Call {
	if len(words) == 0 || words[0].Dynamic != "" {
		return nil
	}
	name := path.Base(words[0].Lit)
	args := make([]string, 0, len(words)-1)
	for _, w := range words[1:] {
		args = append(args, w.Lit)
	}
	var out []Call
	if decodes(name, args) {
		out = append(out, Call{Line: line, Tags: []string{TagDecode}, Program: name})
	}
	if copyTools[name] {
		for i, a := range args {
			if words[i+1].Dynamic != "" {
				continue
			}
			if name == "dd" {
				a = strings.TrimPrefix(a, "of=")
			}
			if strings.HasPrefix(a, "/") && isWatched(a) {
				out = append(out, Call{Line: line, Tags: []string{TagWrite}, Program: "write", Source: name + " " + a})
			}
		}
	}
	return out
}

func decodes(name string, args []string) bool {
	has := func(opts ...string) bool {
		for _, a := range args {
			for _, o := range opts {
				if a == o || (len(o) == 2 && strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a[1:], o[1:])) {
					return true
				}
			}
		}
		return false
	}
	switch name {
	case "base64", "base32", "basenc", "uudecode":
		return name == "uudecode" || has("-d", "--decode")
	case "xxd":
		return has("-r")
	case "openssl":
		return has("-d", "-base64") && len(args) > 0 && (args[0] == "enc" || args[0] == "base64")
	}
	return false
}
