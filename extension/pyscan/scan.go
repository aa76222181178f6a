package pyscan

import (
	"strings"
)

// The scanner follows import: a stack of frames says, for the statement
// being read, whether it runs at import (and on which condition) or in the
// body of which function, and in which namespace its names are bound.

// Bounds on what a scan keeps; each reached bound is listed in
// Module.Limits.
const (
	maxCalls         = 1024
	maxClasses       = 1024
	maxFuncs         = 4096
	maxGlobalNames   = 4096
	maxBindings      = 64 // per module-level name
	maxAllBindings   = 32768
	maxValueBytes    = 8 << 20
	cutValue         = 64
	maxBases         = 64   // bases or decorators kept of one class
	maxDeferred      = 4096 // definitions kept of function bodies
	maxEdges         = 16384
	maxLocalNames    = 1024 // per function namespace
	maxAttrs         = 256  // per class
	maxRetained      = 8 << 20
	maxRetainedNodes = 200000
	maxCond          = 512
	maxExecNesting   = 3
	maxSubScan       = 4 << 20
	maxFieldNesting  = 8
)

type nsKind uint8

const (
	nsModule nsKind = iota
	nsClass
	nsDef
)

// namespace is where a frame's names are bound.
type namespace struct {
	kind     nsKind
	parent   *namespace
	qual     string
	alias    map[string]string // name -> dotted module, object or instance ("socket.socket()")
	names    map[string]*nameInfo
	overflow bool
	global   map[string]bool
	class    *Class
	stars    []string // modules imported with *
}

type nameInfo struct {
	count int
	value *node // the value of the only assignment, when kept
	param bool
}

type frame struct {
	ns     *namespace
	when   When
	fn     string // the function whose body this is ("" at import)
	loop   bool
	onExit func()
}

type scanner struct {
	opts     Options
	mod      *Module
	frames   []*frame
	modNS    *namespace
	pending  []*pendingCall
	retained int
	// retainedNodes counts the nodes kept beyond their statement
	retainedNodes int
	valueBytes    int // bytes of the values listed in the Module
	bindings      int

	// what function bodies define, and which functions the import calls
	deferred        []deferred
	deferredClasses int
	calledAtImport  map[string]importCall
	callEdges       map[string]map[string]bool
	edges           int
	limits          map[string]bool
	feats           *features

	execDepth    int
	fieldDepth   int
	lineOverride int
	evalDepth    int // evaluations under way (eval, decide, constOf)
	steps        int // what the outermost one may still do
	subScanned   int // bytes of exec'd code scanned
}

func newScanner(o Options, feats *features) *scanner {
	mod := &Module{Globals: map[string][]Binding{}, Imports: map[string]string{}}
	ns := &namespace{kind: nsModule, alias: map[string]string{}, names: map[string]*nameInfo{}}
	sc := &scanner{opts: o, mod: mod, modNS: ns, limits: map[string]bool{}, feats: feats}
	sc.frames = []*frame{{ns: ns}}
	return sc
}

func (sc *scanner) limit(what string) {
	if !sc.limits[what] {
		sc.limits[what] = true
		sc.mod.Limits = append(sc.mod.Limits, what)
	}
}

func (sc *scanner) top() *frame { return sc.frames[len(sc.frames)-1] }

func (sc *scanner) line(n int) int {
	if sc.lineOverride != 0 {
		return sc.lineOverride
	}
	return n
}

// combine narrows w by a branch that runs as r on cond.
func combine(w When, r Run, cond string) When {
	switch {
	case w.Run == Never:
		return w
	case r == Never:
		return When{Run: Never, Cond: cond}
	case r == Certain:
		return w
	case w.Run == Possible:
		return When{Run: Possible, Cond: clip(w.Cond + " and " + cond)}
	}
	return When{Run: Possible, Cond: clip(cond)}
}

func clip(s string) string {
	if len(s) > maxCond {
		return s[:maxCond] + "…"
	}
	return s
}

// enterBlock pushes the frame of a compound statement's body; loop marks
// a loop's body (break and continue apply there and in nested blocks).
func (sc *scanner) enterBlock(w When, loop bool) {
	f := sc.top()
	sc.frames = append(sc.frames, &frame{ns: f.ns, when: w, fn: f.fn, loop: loop || f.loop})
}

func (sc *scanner) exit() {
	f := sc.top()
	sc.frames = sc.frames[:len(sc.frames)-1]
	if f.onExit != nil {
		f.onExit()
	}
}

func (sc *scanner) sameWhen() When { return sc.top().when }

func (sc *scanner) inLoop() bool { return sc.top().loop }

// inFunction reports a def body (the nearest namespace is a function's).
func (sc *scanner) inFunction() bool { return sc.top().ns.kind == nsDef }

// nested reports an enclosing def (for nonlocal).
func (sc *scanner) nested() bool {
	for ns := sc.top().ns; ns != nil; ns = ns.parent {
		if ns.kind == nsDef {
			return true
		}
	}
	return false
}

func (sc *scanner) atModuleTop() bool { return len(sc.frames) == 1 }

// annotationsRun: a variable annotation is evaluated at module and class
// level (Python 3 without `from __future__ import annotations`).
func (sc *scanner) annotationsRun() bool { return sc.top().ns.kind != nsDef }

// ---- names ----

// lookupAlias resolves a name through the imports and aliases visible
// from ns (a function does not see its class's namespace).
func (sc *scanner) lookupAlias(ns *namespace, name string) (string, bool) {
	for cur := ns; cur != nil; cur = cur.parent {
		if cur.kind == nsClass && cur != ns {
			continue
		}
		if d, ok := cur.alias[name]; ok {
			return d, d != ""
		}
		if cur.kind == nsDef && cur.global[name] {
			cur = sc.modNS
			if d, ok := cur.alias[name]; ok {
				return d, d != ""
			}
			return "", false
		}
	}
	return "", false
}

// constValue returns the value node of a name bound exactly once (to a
// kept value) in the namespace that resolves it, and that namespace.
func (sc *scanner) constValue(ns *namespace, name string) (*node, *namespace) {
	for cur := ns; cur != nil; cur = cur.parent {
		if cur.kind == nsClass && cur != ns {
			continue
		}
		if cur.kind == nsDef && cur.global[name] {
			cur = sc.modNS
		}
		if info, ok := cur.names[name]; ok {
			if info.count == 1 && info.value != nil {
				return info.value, cur
			}
			return nil, nil
		}
		if cur.overflow {
			return nil, nil
		}
	}
	return nil, nil
}

// retain keeps a copy of n if the scan's retained-bytes budget allows.
func (sc *scanner) retain(n *node) *node {
	if n == nil || n == truncNode {
		return nil
	}
	if sc.retainedNodes >= maxRetainedNodes {
		sc.limit("more than " + itoa(maxRetainedNodes) + " expression parts kept: later values are not rendered")
		return nil
	}
	k, count := keep(n)
	b := litBytes(k)
	if sc.retained+b > maxRetained {
		sc.limit("more than 8 MiB of literal values kept: later values are not rendered")
		return nil
	}
	sc.retained += b
	sc.retainedNodes += count
	return k
}

// bindName binds name in the current namespace.
func (sc *scanner) bindName(name string, kind BindKind, value *node, line int) {
	f := sc.top()
	ns := f.ns
	if ns.kind == nsDef && ns.global[name] {
		ns = sc.modNS
		if f.fn != "" {
			// runs when the function does: counted at the end, if the
			// import calls that function
			sc.noteName(ns, name, kind, value)
			if len(sc.deferred) < maxDeferred {
				sc.deferred = append(sc.deferred, deferred{fn: topFunc(f.fn), name: name,
					bind: Binding{Line: sc.line(line), Kind: kind, Value: sc.valueOf(kind, value, f.ns), When: f.when}})
			}
			return
		}
	}
	sc.noteName(ns, name, kind, value)
	if kind != BindImport {
		delete(ns.alias, name)
	}
	switch ns.kind {
	case nsModule:
		bs := sc.mod.Globals[name]
		if bs == nil && len(sc.mod.Globals) >= maxGlobalNames {
			sc.limit("more than " + itoa(maxGlobalNames) + " module-level names: the rest are not listed")
			return
		}
		if len(bs) >= maxBindings {
			sc.limit("more than " + itoa(maxBindings) + " bindings of one name: the rest are not listed")
			return
		}
		if sc.bindings >= maxAllBindings {
			sc.limit("more than " + itoa(maxAllBindings) + " module-level bindings: the rest are not listed")
			return
		}
		sc.bindings++
		sc.mod.Globals[name] = append(bs, Binding{Line: sc.line(line), Kind: kind, Value: sc.valueOf(kind, value, ns), When: f.when})
	case nsClass:
		c := ns.class
		if c == nil {
			return
		}
		if _, ok := c.Attrs[name]; !ok && len(c.Attrs) >= maxAttrs {
			sc.limit("more than " + itoa(maxAttrs) + " attributes in one class: the rest are not listed")
			return
		}
		if kind == BindAssign || kind == BindOther || kind == BindImport {
			// relative to the class statement: certain when its body
			// always binds the name
			w := f.when
			if w == c.When {
				w = When{}
			}
			c.Attrs[name] = Attr{Value: sc.valueOf(kind, value, ns), Line: sc.line(line), When: w}
		}
		if kind == BindDel {
			delete(c.Attrs, name)
		}
	}
}

// noteName counts a binding for constant substitution.
func (sc *scanner) noteName(ns *namespace, name string, kind BindKind, value *node) {
	info, ok := ns.names[name]
	if !ok {
		limit := maxLocalNames
		if ns.kind == nsModule {
			limit = maxGlobalNames
		}
		if len(ns.names) >= limit {
			ns.overflow = true
			return
		}
		info = &nameInfo{}
		ns.names[name] = info
	}
	info.count++
	if info.count == 1 && kind == BindAssign && value != nil && staticValue(value) {
		info.value = sc.retain(value)
	} else {
		info.value = nil
	}
}

// staticValue reports an expression whose value can be known without
// running anything but literals, names and decoders.
func staticValue(n *node) bool {
	switch n.kind {
	case nStr, nNum, nConst, nName, nAttr, nTuple, nList, nBinOp, nCall, nSubscript, nUnary, nSlice, nNone, nKeyword:
		for _, k := range n.kids {
			if !staticValue(k) {
				return false
			}
		}
		return true
	}
	return false
}

// valueOf describes a bound value for the Module.
func (sc *scanner) valueOf(kind BindKind, n *node, ns *namespace) Value {
	if kind == BindImport && n != nil && n.str != nil {
		return Value{Text: string(n.str.value)}
	}
	if n == nil {
		return Value{}
	}
	v := sc.eval(n, ns, 0)
	out := Value{Text: v.text, Literal: v.exact, String: v.str, Truncated: v.trunc}
	if !v.exact {
		out.Text = render(n)
	}
	if v.seq {
		out.Text = render(n)
		items := []string{}
		for _, it := range v.items {
			if !it.exact || !it.str {
				items = nil
				break
			}
			items = append(items, it.text)
		}
		out.Items = items
		out.Literal = v.exact
	} else if v.exact && v.str {
		out.Items = []string{v.text}
	}
	return sc.budgetValue(out)
}

// budgetValue bounds the bytes the module's values keep in all: past
// maxValueBytes, a value keeps a short prefix and says it is truncated.
func (sc *scanner) budgetValue(v Value) Value {
	size := len(v.Text)
	for _, it := range v.Items {
		size += len(it)
	}
	if sc.valueBytes+size <= maxValueBytes {
		sc.valueBytes += size
		return v
	}
	sc.limit("more than " + itoa(maxValueBytes>>20) + " MiB of literal values listed: later values are cut to " + itoa(cutValue) + " bytes")
	if len(v.Text) > cutValue {
		v.Text, v.Truncated = v.Text[:cutValue], true
	}
	if len(v.Items) > 0 {
		v.Items, v.Truncated = nil, true
	}
	sc.valueBytes += len(v.Text)
	return v
}

// bindTargets binds the names of an assignment target; value is the
// value of a plain name target (or of each element of a display assigned
// from a display of the same length).
func (sc *scanner) bindTargets(target, value *node, kind BindKind, line int) {
	if target == nil || target == truncNode {
		return
	}
	switch target.kind {
	case nName:
		sc.bindName(target.op, kind, value, line)
		if value != nil && kind == BindAssign {
			sc.aliasFromValue(target.op, value)
		}
	case nTuple, nList:
		var items []*node
		if value != nil && (value.kind == nTuple || value.kind == nList) && len(value.kids) == len(target.kids) {
			items = value.kids
		}
		for i, t := range target.kids {
			var v *node
			if items != nil {
				v = items[i]
			}
			k := kind
			if v == nil && k == BindAssign {
				k = BindOther
			}
			sc.bindTargets(t, v, k, line)
		}
	case nStarred:
		if len(target.kids) > 0 {
			sc.bindTargets(target.kids[0], nil, BindOther, line)
		}
	default:
		sc.walk(target) // attribute and subscript targets evaluate their parts
		// globals()['name'] = value at import binds a module name
		if f := sc.top(); f.fn == "" && target.kind == nSubscript && len(target.kids) == 2 && target.kids[0].kind == nCall &&
			len(target.kids[0].kids) == 1 && sc.calleeOf(target.kids[0].kids[0], f.ns) == "globals" {
			if k := sc.eval(target.kids[1], f.ns, 0); k.exact && k.str && k.text != "" {
				sc.bindName(k.text, kind, value, line)
			}
		}
	}
}

// aliasFromValue makes `run = os.system` and `s = socket.socket(...)`
// resolvable: the name then stands for the object or the call's result.
func (sc *scanner) aliasFromValue(name string, value *node) {
	ns := sc.top().ns
	switch value.kind {
	case nName, nAttr:
		if d := sc.calleeOf(value, ns); d != "" && strings.Contains(d, ".") || d != "" && d != name && isBuiltinCallee(d) {
			sc.setAlias(ns, name, d)
		}
	case nCall:
		if d := sc.calleeOf(value, ns); d != "" {
			sc.setAlias(ns, name, d)
		}
	}
}

// ---- statements ----

func (sc *scanner) assign(targets []*node, value *node, line int) {
	sc.walk(value)
	for _, t := range targets {
		sc.bindTargets(t, value, BindAssign, line)
	}
}

func (sc *scanner) augAssign(target, value *node, line int) {
	sc.walk(value)
	if target.kind == nName {
		sc.bindName(target.op, BindOther, nil, line)
		return
	}
	sc.walk(target)
}

func (sc *scanner) exprStmt(n *node) {
	sc.walk(n)
	// a walrus at statement level binds too
	sc.bindNamed(n)
}

func (sc *scanner) bindNamed(n *node) {
	if n == nil || n == truncNode || n.kind == nLambda || n.kind == nComp {
		return
	}
	if n.kind == nNamed && len(n.kids) == 2 && n.kids[0].kind == nName {
		sc.bindName(n.kids[0].op, BindAssign, n.kids[1], n.line)
	}
	for _, k := range n.kids {
		sc.bindNamed(k)
	}
}

func (sc *scanner) del(targets *node) {
	var names []*node
	var collect func(*node)
	collect = func(n *node) {
		switch n.kind {
		case nName:
			names = append(names, n)
		case nTuple, nList:
			for _, k := range n.kids {
				collect(k)
			}
		default:
			sc.walk(n)
		}
	}
	collect(targets)
	for _, n := range names {
		sc.bindName(n.op, BindDel, nil, n.line)
	}
}

func (sc *scanner) global(name string, line int) {
	ns := sc.top().ns
	if ns.kind != nsDef {
		return
	}
	if info, ok := ns.names[name]; ok && info.param {
		fail(&Error{Line: line, Msg: "name '" + name + "' is parameter and global"})
	} else if ok && info.count > 0 {
		// Python 3 refuses a global declaration after an assignment
		sc.feats.py2(line, "a name assigned before its global declaration")
	}
	if ns.global == nil {
		ns.global = map[string]bool{}
	}
	if len(ns.global) < maxLocalNames {
		ns.global[name] = true
	}
}

func (sc *scanner) importName(dotted, alias string, line int) {
	ns := sc.top().ns
	local, target := alias, dotted
	if alias == "" {
		local, _, _ = strings.Cut(dotted, ".")
		target = local
	}
	sc.setAlias(ns, local, target)
	sc.bindName(local, BindImport, strNode(target, line), line)
	sc.noteImport(ns, local, target)
}

// setAlias records what a name stands for, within bounds.
func (sc *scanner) setAlias(ns *namespace, name, target string) {
	if _, ok := ns.alias[name]; !ok && len(ns.alias) >= maxLocalNames {
		sc.limit("more than " + itoa(maxLocalNames) + " imports or aliases in one namespace: the rest are not resolved")
		return
	}
	ns.alias[name] = target
}

func (sc *scanner) noteImport(ns *namespace, local, target string) {
	if ns.kind != nsModule || sc.top().fn != "" {
		return
	}
	if _, ok := sc.mod.Imports[local]; ok || len(sc.mod.Imports) < maxGlobalNames {
		sc.mod.Imports[local] = target
	}
}

func (sc *scanner) importFrom(module, name, alias string, line int) {
	ns := sc.top().ns
	local := name
	if alias != "" {
		local = alias
	}
	target := module + "." + name
	if strings.HasSuffix(module, ".") {
		target = module + name
	}
	sc.setAlias(ns, local, target)
	sc.bindName(local, BindImport, strNode(target, line), line)
	sc.noteImport(ns, local, target)
}

func (sc *scanner) importStar(module string, line int) {
	ns := sc.top().ns
	if ns.kind == nsDef {
		sc.feats.py2(line, "import * inside a function")
	}
	if len(ns.stars) < 64 {
		ns.stars = append(ns.stars, module)
	}
}

func strNode(s string, line int) *node {
	return &node{kind: nStr, line: line, str: &strLit{value: []byte(s)}}
}

// newIf starts an if/elif/else chain.
func (sc *scanner) newIf() *ifChain { return &ifChain{sc: sc, reach: sc.top().when} }

type ifChain struct {
	sc    *scanner
	reach When // when the next test is evaluated
	done  bool // an earlier branch is certainly taken
	prev  []string
}

// branch returns when the body of `if test` (or `elif test`) runs, after
// walking the test where it is evaluated.
func (c *ifChain) branch(test *node) When {
	sc := c.sc
	sc.walkIn(test, sc.ctxWith(c.reach))
	sc.bindNamed(test)
	cond := "if " + render(test)
	if len(c.prev) > 0 {
		cond = "not (" + strings.Join(c.prev, " or ") + ") and " + render(test)
	}
	if c.done {
		return When{Run: Never, Cond: "an earlier branch is always taken"}
	}
	var w When
	switch sc.decide(test, sc.top().ns) {
	case yes:
		w = c.reach
		c.done = true
		c.reach = When{Run: Never, Cond: "an earlier branch is always taken"}
	case no:
		w = combine(c.reach, Never, cond+" is false at import")
	default:
		w = combine(c.reach, Possible, cond)
		c.reach = combine(c.reach, Possible, "not "+render(test))
		if len(c.prev) < 8 {
			c.prev = append(c.prev, render(test))
		}
	}
	return w
}

func (c *ifChain) orElse() When {
	if c.done {
		return When{Run: Never, Cond: "an earlier branch is always taken"}
	}
	return c.reach
}

// whileLoop: the body runs while test holds; the else clause when the
// loop ends without break.
func (sc *scanner) whileLoop(test *node) (body, orElse When) {
	sc.walk(test)
	w := sc.top().when
	switch sc.decide(test, sc.top().ns) {
	case no:
		return combine(w, Never, "while "+render(test)+" is false at import"), w
	case yes:
		return w, combine(w, Never, "while "+render(test)+" only ends by break")
	}
	return combine(w, Possible, "while "+render(test)), combine(w, Possible, "while "+render(test)+" ends without break")
}

// forLoop: the body runs once per item (at least once for a non-empty
// literal, never for an empty one).
func (sc *scanner) forLoop(target, iter *node, line int) (body, orElse When) {
	sc.walk(iter)
	w := sc.top().when
	cond := "for " + render(target) + " in " + render(iter)
	switch n := literalLen(iter); {
	case n == 0:
		body, orElse = combine(w, Never, cond+": the sequence is empty"), w
	case n > 0:
		body, orElse = w, combine(w, Possible, cond+" ends without break")
	default:
		body, orElse = combine(w, Possible, cond), combine(w, Possible, cond+" ends without break")
	}
	sc.bindTargetsWhen(target, body, line)
	return body, orElse
}

func (sc *scanner) bindTargetsWhen(target *node, w When, line int) {
	sc.enterBlock(w, sc.inLoop())
	sc.bindTargets(target, nil, BindOther, line)
	sc.exit()
}

// literalLen is the length of a literal sequence, -1 when not one.
func literalLen(n *node) int {
	switch n.kind {
	case nTuple, nList, nSet, nDict:
		for _, k := range n.kids {
			if k.kind == nStarred || k.kind == nDStar || k == truncNode {
				return -1
			}
		}
		return len(n.kids)
	case nStr:
		if n.str.fstr {
			return -1
		}
		return len(n.str.value)
	}
	return -1
}

// handler: an except clause runs only if its try body raises.
func (sc *scanner) handler(typ, target *node, line int) When {
	cond := "except"
	if typ != nil {
		cond = "except " + render(typ)
	}
	w := combine(sc.top().when, Possible, cond)
	sc.walkIn(typ, sc.ctxWith(w))
	if target != nil {
		sc.bindTargetsWhen(target, w, line)
	}
	return w
}

func (sc *scanner) withItems(items [][2]*node, line int) When {
	for _, it := range items {
		sc.walk(it[0])
		if it[1] != nil {
			sc.bindTargets(it[1], nil, BindOther, line)
		}
	}
	return sc.top().when
}

func (sc *scanner) caseClause(pattern, guard *node, line int) When {
	cond := "case " + render(pattern)
	if guard != nil {
		cond += " if " + render(guard)
	}
	w := combine(sc.top().when, Possible, cond)
	sc.walkIn(guard, sc.ctxWith(w))
	return w
}

// decorate walks decorators: each is called with the function or class.
func (sc *scanner) decorate(decorators []*node) {
	c := sc.ctxWith(sc.top().when)
	for _, d := range decorators {
		sc.walkIn(d, c)
		if d.kind == nName {
			sc.noteCallName(d.op, c, d.line)
		}
	}
}

// qualName is the qualified name of a def or class in the current frame.
func (sc *scanner) qualName(name string) string {
	ns := sc.top().ns
	switch ns.kind {
	case nsModule:
		return name
	case nsDef:
		return ns.qual + ".<locals>." + name
	}
	return ns.qual + "." + name
}

func (sc *scanner) defStart(name string, decorators, defaults, annots []*node, params []string, line int, async bool) {
	f := sc.top()
	sc.decorate(decorators)
	for _, d := range defaults {
		sc.walk(d)
	}
	for _, a := range annots {
		sc.walk(a)
	}
	qual := sc.qualName(name)
	if f.fn == "" && f.ns.kind != nsDef {
		if len(sc.mod.Functions) < maxFuncs {
			fn := Func{Name: name, Qual: qual, Line: sc.line(line), When: f.when}
			if f.ns.kind == nsClass && f.ns.class != nil {
				fn.Class = f.ns.class.Qual
			}
			sc.mod.Functions = append(sc.mod.Functions, fn)
		} else {
			sc.limit("more than " + itoa(maxFuncs) + " functions: the rest are not listed")
		}
	}
	sc.bindName(name, BindDef, nil, line)
	ns := &namespace{kind: nsDef, parent: f.ns, qual: qual, alias: map[string]string{}, names: map[string]*nameInfo{}}
	for _, p := range params {
		ns.names[p] = &nameInfo{count: 2, param: true} // a parameter is never a constant
	}
	sc.frames = append(sc.frames, &frame{ns: ns, fn: qual, when: f.when})
}

func (sc *scanner) classStart(name string, args, decorators []*node, line int) {
	f := sc.top()
	sc.decorate(decorators)
	for _, a := range args {
		sc.walk(a)
	}
	qual := sc.qualName(name)
	var c *Class
	if len(sc.mod.Classes)+sc.deferredClasses < maxClasses {
		c = &Class{Name: name, Qual: qual, Line: sc.line(line), Attrs: map[string]Attr{}, When: f.when}
		for _, a := range args {
			if a.kind == nKeyword || a.kind == nDStar || a.kind == nStarred || len(c.Bases) >= maxBases {
				continue
			}
			if d := sc.calleeOf(a, f.ns); d != "" {
				c.Bases = append(c.Bases, d)
			} else {
				c.Bases = append(c.Bases, render(a))
			}
		}
		for _, d := range decorators {
			if len(c.Decorators) >= maxBases {
				break
			}
			if d.kind == nCall && len(d.kids) > 0 {
				d = d.kids[0]
			}
			if r := sc.calleeOf(d, f.ns); r != "" {
				c.Decorators = append(c.Decorators, r)
			} else {
				c.Decorators = append(c.Decorators, render(d))
			}
		}
	} else {
		sc.limit("more than " + itoa(maxClasses) + " classes: the rest are not listed")
	}
	ns := &namespace{kind: nsClass, parent: f.ns, qual: qual, alias: map[string]string{}, names: map[string]*nameInfo{}}
	idx := -1
	switch {
	case c != nil && f.fn == "":
		ns.class = c
		// listed in source order: an outer class before its nested ones
		sc.mod.Classes = append(sc.mod.Classes, *c)
		idx = len(sc.mod.Classes) - 1
	case c != nil:
		// defined when a function runs: counted at the end, if the import
		// calls that function
		ns.class = c
		sc.deferred = append(sc.deferred, deferred{fn: topFunc(f.fn), class: c})
		sc.deferredClasses++
	}
	fr := &frame{ns: ns, fn: f.fn, when: f.when}
	fr.onExit = func() {
		if idx >= 0 {
			sc.mod.Classes[idx] = *c
		}
		// the class name is bound after its body ran
		sc.bindName(name, BindClass, nil, line)
	}
	sc.frames = append(sc.frames, fr)
}
