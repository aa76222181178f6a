package pyscan

import (
	"strings"
	"sync"
)

// Calls: every call of a function that runs a command or code, imports a
// module by name or opens a network connection, anywhere in the module,
// with the argument rendered once the whole module is read (so that a
// constant defined after the function that uses it is known).

type argStyle uint8

const (
	argCommand argStyle = iota // a command string or argv list (or args=/cmd=/command=)
	argExecl                   // path, arg0, arg1, ...
	argExecv                   // path, argv
	argSpawnl                  // mode, path, arg0, arg1, ...
	argSpawnv                  // mode, path, argv
	argFirst                   // the first argument (code, module, path, URL)
	argAddress                 // (host, port)
	argAll                     // every positional argument, comma separated
	argSource                  // every argument as Python source
)

type callSpec struct {
	kind    string
	style   argStyle
	envLast bool   // the last argument is an environment (exec*e, spawn*e)
	display string // shown instead of the resolved callee
}

// callSpecs is built on first use, not at package init: most runs of
// the binaries never scan Python.
var callSpecs = sync.OnceValue(func() map[string]callSpec {
	callSpecs := map[string]callSpec{}
	add := func(kind string, style argStyle, names ...string) {
		for _, n := range names {
			callSpecs[n] = callSpec{kind: kind, style: style}
		}
	}
	add("command", argCommand, "os.system", "os.popen", "os.popen2", "os.popen3", "os.popen4",
		"popen2.popen2", "popen2.popen3", "popen2.popen4", "commands.getoutput", "commands.getstatusoutput",
		"subprocess.call", "subprocess.run", "subprocess.Popen", "subprocess.check_call",
		"subprocess.check_output", "subprocess.getoutput", "subprocess.getstatusoutput", "pty.spawn")
	add("command", argExecl, "os.execl", "os.execlp")
	add("command", argExecv, "os.execv", "os.execvp", "os.execve", "os.execvpe", "os.posix_spawn", "os.posix_spawnp")
	add("command", argSpawnl, "os.spawnl", "os.spawnlp")
	add("command", argSpawnv, "os.spawnv", "os.spawnvp", "os.spawnve", "os.spawnvpe")
	callSpecs["os.execle"] = callSpec{kind: "command", style: argExecl, envLast: true}
	callSpecs["os.execlpe"] = callSpec{kind: "command", style: argExecl, envLast: true}
	callSpecs["os.spawnle"] = callSpec{kind: "command", style: argSpawnl, envLast: true}
	callSpecs["os.spawnlpe"] = callSpec{kind: "command", style: argSpawnl, envLast: true}
	add("code", argFirst, "exec", "eval", "compile", "execfile")
	add("import", argFirst, "__import__", "importlib.import_module", "runpy.run_path", "runpy.run_module")
	add("import", argAll, "imp.load_source", "imp.load_module")
	add("network", argSource, "socket.socket")
	add("network", argAll, "urllib.urlopen", "urllib.urlretrieve", "urllib2.urlopen",
		"urllib.request.urlopen", "urllib.request.urlretrieve", "http.client.HTTPConnection",
		"http.client.HTTPSConnection", "httplib.HTTPConnection", "httplib.HTTPSConnection")
	add("network", argAddress, "socket.create_connection")
	callSpecs["socket.socket().connect"] = callSpec{kind: "network", style: argAddress, display: "socket.connect"}
	callSpecs["socket.socket().connect_ex"] = callSpec{kind: "network", style: argAddress, display: "socket.connect_ex"}
	return callSpecs
})

// specOf returns the spec of an interesting callee.
func specOf(callee string) (callSpec, bool) {
	if s, ok := callSpecs()[callee]; ok {
		return s, true
	}
	if strings.HasPrefix(callee, "requests.") {
		return callSpec{kind: "network", style: argAll}, true
	}
	return callSpec{}, false
}

// builtins that name interesting callees without an import.
func isBuiltinCallee(name string) bool {
	switch name {
	case "exec", "eval", "compile", "execfile", "__import__", "getattr":
		return true
	}
	return false
}

// normalize maps aliases of the same functions to one name.
func normalize(d string) string {
	for _, p := range []string{"builtins.", "__builtin__.", "__builtins__."} {
		if strings.HasPrefix(d, p) && isBuiltinCallee(d[len(p):]) {
			return d[len(p):]
		}
	}
	switch {
	case strings.HasPrefix(d, "posix."):
		return "os." + d[len("posix."):]
	case d == "importlib.__import__":
		return "__import__"
	}
	return d
}

// calleeOf resolves what a call's function expression names: a dotted
// name through the imports, the result of __import__/import_module
// /getattr, or another call's result ("f()").
func (sc *scanner) calleeOf(fn *node, ns *namespace) string {
	if fn == truncNode {
		return ""
	}
	if fn.calleeDone {
		return fn.callee
	}
	fn.callee = sc.resolveCallee(fn, ns)
	fn.calleeDone = true
	return fn.callee
}

func (sc *scanner) resolveCallee(fn *node, ns *namespace) string {
	switch fn.kind {
	case nName:
		if d, ok := sc.lookupAlias(ns, fn.op); ok {
			return normalize(d)
		}
		for cur := ns; cur != nil; cur = cur.parent {
			for _, m := range cur.stars {
				if _, ok := specOf(normalize(m + "." + fn.op)); ok {
					return normalize(m + "." + fn.op)
				}
			}
		}
		return fn.op
	case nAttr:
		base := sc.calleeOf(fn.kids[0], ns)
		if base == "" {
			return ""
		}
		return normalize(base + "." + fn.op)
	case nCall:
		inner := sc.calleeOf(fn.kids[0], ns)
		args := fn.kids[1:]
		switch inner {
		case "__import__", "importlib.import_module":
			if len(args) > 0 {
				if v := sc.eval(args[0], ns, 0); v.exact {
					return v.text
				}
			}
		case "getattr":
			if len(args) >= 2 {
				base := sc.calleeOf(args[0], ns)
				if v := sc.eval(args[1], ns, 0); v.exact && base != "" {
					return normalize(base + "." + v.text)
				}
			}
		}
		if inner == "" {
			return ""
		}
		return inner + "()"
	}
	return ""
}

// pendingCall is a recorded call whose argument is rendered at the end.
type pendingCall struct {
	call Call
	spec callSpec
	args []*node
	ns   *namespace
}

// wctx is where an expression is evaluated.
type wctx struct {
	when When
	fn   string
	ns   *namespace
}

func (sc *scanner) ctxWith(w When) wctx {
	f := sc.top()
	return wctx{when: w, fn: f.fn, ns: f.ns}
}

func (sc *scanner) walk(n *node) { sc.walkIn(n, sc.ctxWith(sc.top().when)) }

func (c wctx) possibly(cond string) wctx {
	c.when = combine(c.when, Possible, cond)
	return c
}

func (c wctx) never(cond string) wctx {
	c.when = combine(c.when, Never, cond)
	return c
}

// walkIn finds the calls in an expression evaluated in c.
func (sc *scanner) walkIn(n *node, c wctx) {
	if n == nil || n == truncNode {
		return
	}
	switch n.kind {
	case nCall:
		if len(n.kids) > 0 {
			sc.noteCallName(sc.calleeOf(n.kids[0], c.ns), c, n.line)
		}
		sc.recordCall(n, c) // walks the call's parts too
		return
	case nBool:
		// a later operand runs only if the earlier ones do not decide
		cur := c
		for i, k := range n.kids {
			sc.walkIn(k, cur)
			if i == len(n.kids)-1 {
				break
			}
			t := sc.decide(k, c.ns)
			switch {
			case n.op == "and" && t == no || n.op == "or" && t == yes:
				cur = cur.never("short-circuited " + n.op)
			case t == unknown:
				cur = cur.possibly(render(n))
			}
		}
		return
	case nIfExp:
		if len(n.kids) != 3 {
			break
		}
		sc.walkIn(n.kids[1], c)
		cond := render(n.kids[1])
		switch sc.decide(n.kids[1], c.ns) {
		case yes:
			sc.walkIn(n.kids[0], c)
			sc.walkIn(n.kids[2], c.never(cond+" is true"))
		case no:
			sc.walkIn(n.kids[0], c.never(cond+" is false"))
			sc.walkIn(n.kids[2], c)
		default:
			sc.walkIn(n.kids[0], c.possibly(cond))
			sc.walkIn(n.kids[2], c.possibly("not "+cond))
		}
		return
	case nLambda:
		for _, d := range n.kids[1:] {
			sc.walkIn(d, c)
		}
		if len(n.kids) > 0 {
			fn := "<lambda>"
			if c.fn != "" {
				fn = c.fn + ".<locals>.<lambda>"
			}
			lc := c
			lc.fn = fn
			if lc.when.Run != Never {
				lc.when = When{} // runs when called
			}
			sc.walkIn(n.kids[0], lc)
		}
		return
	case nComp:
		// the first iterable is evaluated where the comprehension is; the
		// rest runs per item (and a generator only when consumed)
		inner := c.possibly("inside a " + n.op + " comprehension")
		for i, k := range n.kids {
			if i == 1 && k.kind == nFor && len(k.kids) > 1 {
				sc.walkIn(k.kids[1], c)
				for j, kk := range k.kids {
					if j != 1 {
						sc.walkIn(kk, inner)
					}
				}
				continue
			}
			sc.walkIn(k, inner)
		}
		return
	case nStr:
		if n.str != nil && n.str.fstr {
			sc.walkFields(n.str, c)
		}
		return
	}
	for _, k := range n.kids {
		sc.walkIn(k, c)
	}
}

// walkFields parses an f-string's replacement fields and walks them.
func (sc *scanner) walkFields(s *strLit, c wctx) {
	if sc.fieldDepth >= maxFieldNesting {
		return
	}
	sc.fieldDepth++
	saved := sc.lineOverride
	if saved == 0 {
		sc.lineOverride = s.line
	}
	defer func() { sc.fieldDepth--; sc.lineOverride = saved }()
	for _, src := range s.fields {
		if n := sc.subExpr(src, s.line); n != nil {
			sc.walkIn(n, c)
		}
	}
}

// recordCall notes a call of an interesting function.
func (sc *scanner) recordCall(n *node, c wctx) {
	for _, k := range n.kids {
		sc.walkIn(k, c)
	}
	if len(n.kids) == 0 {
		return
	}
	callee := sc.calleeOf(n.kids[0], c.ns)
	spec, ok := specOf(callee)
	args := n.kids[1:]
	if !ok && (strings.HasSuffix(callee, ".connect") || strings.HasSuffix(callee, ".connect_ex")) &&
		len(args) == 1 && args[0].kind == nTuple && len(args[0].kids) == 2 {
		// an (host, port) address: a socket, whatever the receiver
		spec, ok = callSpec{kind: "network", style: argAddress, display: "socket." + callee[strings.LastIndexByte(callee, '.')+1:]}, true
	}
	if !ok {
		return
	}
	if len(sc.pending) >= maxCalls {
		sc.limit("more than " + itoa(maxCalls) + " calls that run commands, code or network: the rest are not listed")
		return
	}
	display := callee
	if spec.display != "" {
		display = spec.display
	}
	pc := &pendingCall{spec: spec, ns: c.ns, call: Call{Line: sc.line(n.line), Func: c.fn, When: c.when, Callee: display, Kind: spec.kind}}
	for _, a := range args {
		pc.args = append(pc.args, sc.retain(a))
	}
	sc.pending = append(sc.pending, pc)
	if spec.kind == "code" && callee != "execfile" && len(args) > 0 {
		sc.subScanArg(args[0], c)
	}
}

// execStmt is Python 2's exec statement.
func (sc *scanner) execStmt(code *node, nsArgs []*node, line int) {
	c := sc.ctxWith(sc.top().when)
	sc.walkIn(code, c)
	for _, a := range nsArgs {
		sc.walkIn(a, c)
	}
	if len(sc.pending) >= maxCalls {
		sc.limit("more than " + itoa(maxCalls) + " calls that run commands, code or network: the rest are not listed")
		return
	}
	sc.pending = append(sc.pending, &pendingCall{spec: callSpecs()["exec"], ns: c.ns, args: []*node{sc.retain(code)},
		call: Call{Line: sc.line(line), Func: c.fn, When: c.when, Callee: "exec", Kind: "code"}})
	sc.subScanArg(code, c)
}

// subScanArg scans code passed to exec/eval/compile when it is a literal
// (after decoding): the commands it runs are the module's too, and at
// import the names it binds are module names.
func (sc *scanner) subScanArg(arg *node, c wctx) {
	if sc.execDepth >= maxExecNesting {
		return
	}
	v := sc.eval(arg, c.ns, 0)
	if !v.exact || v.text == "" {
		return
	}
	if sc.subScanned+len(v.text) > maxSubScan {
		// decoded code can hold more code: bound the total
		sc.limit("more than " + itoa(maxSubScan>>20) + " MiB of exec'd code: the rest is not scanned")
		return
	}
	sc.subScanned += len(v.text)
	line := sc.line(arg.line)
	sc.execDepth++
	defer func() { sc.execDepth-- }()
	sc.subScan(v.text, line, c)
}

// finish renders the recorded calls' arguments.
func (sc *scanner) finish() {
	sc.addReachable()
	for _, pc := range sc.pending {
		sc.mod.Calls = append(sc.mod.Calls, sc.renderCall(pc))
	}
}

func (sc *scanner) renderCall(pc *pendingCall) Call {
	c := pc.call
	var pos []*node
	kw := map[string]*node{}
	for _, a := range pc.args {
		switch {
		case a == nil:
			pos = append(pos, truncNode)
		case a.kind == nKeyword && len(a.kids) > 0:
			kw[a.op] = a.kids[0]
		case a.kind == nDStar:
		default:
			pos = append(pos, a)
		}
	}
	arg := func(i int, names ...string) *node {
		if i < len(pos) {
			return pos[i]
		}
		for _, n := range names {
			if v, ok := kw[n]; ok {
				return v
			}
		}
		return nil
	}
	ev := func(n *node) value {
		if n == nil {
			return value{}
		}
		return sc.eval(n, pc.ns, 0)
	}
	var parts []value
	switch pc.spec.style {
	case argCommand:
		parts = []value{ev(arg(0, "args", "cmd", "command", "argv"))}
	case argFirst:
		parts = []value{ev(arg(0, "source", "code", "object", "name", "path", "path_name", "filename", "url"))}
	case argExecl, argSpawnl:
		first := 0
		if pc.spec.style == argSpawnl {
			first = 1
		}
		rest := pos
		if pc.spec.envLast && len(rest) > 0 {
			rest = rest[:len(rest)-1]
		}
		if first < len(rest) {
			parts = append(parts, ev(rest[first]))
			if first+2 < len(rest) {
				for _, a := range rest[first+2:] {
					parts = append(parts, ev(a))
				}
			}
		}
		c.Arg, c.Literal, c.Truncated = joinArgs(parts)
		return finishArg(c)
	case argExecv, argSpawnv:
		first := 0
		if pc.spec.style == argSpawnv {
			first = 1
		}
		path := ev(arg(first, "path", "file"))
		argv := ev(arg(first+1, "argv", "args"))
		parts = []value{path}
		if argv.seq && len(argv.items) > 1 {
			parts = append(parts, argv.items[1:]...)
		} else if !argv.seq && argv.text != "" {
			parts = append(parts, argv)
		}
		c.Arg, c.Literal, c.Truncated = joinArgs(parts)
		return finishArg(c)
	case argAddress:
		a := ev(arg(0, "address"))
		if a.seq && len(a.items) == 2 {
			c.Arg = a.items[0].text + ":" + a.items[1].text
			c.Literal = a.items[0].exact && a.items[1].exact
			c.Truncated = a.items[0].trunc || a.items[1].trunc
		} else {
			c.Arg, c.Literal, c.Truncated = a.text, a.exact, a.trunc
		}
		return finishArg(c)
	case argSource:
		var texts []string
		for _, a := range pc.args {
			texts = append(texts, render(a))
		}
		c.Arg, c.Literal = strings.Join(texts, ", "), true
		return finishArg(c)
	case argAll:
		var texts []string
		c.Literal = true
		for _, a := range pos {
			v := ev(a)
			texts = append(texts, v.text)
			c.Literal = c.Literal && v.exact
			c.Truncated = c.Truncated || v.trunc
		}
		for _, k := range []string{"url", "host"} {
			if n, ok := kw[k]; ok {
				v := ev(n)
				texts = append(texts, v.text)
				c.Literal = c.Literal && v.exact
			}
		}
		c.Arg = strings.Join(texts, ", ")
		return finishArg(c)
	}
	if len(parts) == 1 {
		v := parts[0]
		c.Via = v.via
		if v.seq {
			c.Arg, c.Literal, c.Truncated = joinArgs(v.items)
		} else {
			c.Arg, c.Literal, c.Truncated = v.text, v.exact, v.trunc
		}
	}
	return finishArg(c)
}

// joinArgs renders an argv as the command line it runs.
func joinArgs(items []value) (string, bool, bool) {
	var b strings.Builder
	exact, trunc := true, false
	for i, it := range items {
		if i > 0 {
			b.WriteByte(' ')
		}
		if it.exact {
			b.WriteString(shellQuote(it.text))
		} else {
			b.WriteString(it.text)
		}
		exact = exact && it.exact
		trunc = trunc || it.trunc
	}
	return b.String(), exact && len(items) > 0, trunc
}

// shellQuote quotes a word as a POSIX shell would need it.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_@%+=:,./-", c) >= 0) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// maxArg bounds a call's rendered argument.
const maxArg = 4096

// finishArg escapes the argument onto one line and bounds it.
func finishArg(c Call) Call {
	var b strings.Builder
	for i := 0; i < len(c.Arg); i++ {
		ch := c.Arg[i]
		switch {
		case ch == '\\':
			b.WriteString(`\\`)
		case ch == '\n':
			b.WriteString(`\n`)
		case ch == '\r':
			b.WriteString(`\r`)
		case ch == '\t':
			b.WriteString(`\t`)
		case ch < 0x20 || ch == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[ch>>4])
			b.WriteByte("0123456789abcdef"[ch&15])
		case ch >= 0x80:
			r, size := decodeRune(c.Arg[i:])
			if size == 1 && r == 0xFFFD {
				b.WriteString(`\x`)
				b.WriteByte("0123456789abcdef"[ch>>4])
				b.WriteByte("0123456789abcdef"[ch&15])
				continue
			}
			b.WriteString(c.Arg[i : i+size])
			i += size - 1
		default:
			b.WriteByte(ch)
		}
		if b.Len() > maxArg {
			break
		}
	}
	s := b.String()
	if len(s) > maxArg {
		s = s[:maxArg]
		c.Truncated = true
	}
	if c.Truncated {
		s += "…"
	}
	c.Arg = s
	return c
}
