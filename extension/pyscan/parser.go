package pyscan

import "strings"

// Statements. The parser reads one statement at a time and hands what it
// found to the scanner (scan.go), which knows whether that statement runs
// at import; compound statements push a frame around their bodies.

type parser struct {
	lx        *lexer
	sc        *scanner
	feats     *features
	nodes     arena
	tok       token
	ahead     []token
	depth     int
	budget    int
	litBudget int

	cutStmt     bool
	noCond      bool // parsing a comprehension's condition (no ternary)
	inPattern   int
	lambdaDepth int
	injected    *node // an atom already read, for the next atom()
	withTargets [][2]*node
	sawAs       bool
	paramNames  []string
	// compoundDone: a simple-looking statement was a compound one
	compoundDone bool
	tokIndex     int // tokens consumed, to know a statement's first token
	stmtTok      int
	finallyDepth int // finally blocks since the innermost loop body
	ellipsisOK   bool

	futureOK    bool // no statement yet but a docstring or __future__ imports
	docstringOK bool
	future      map[string]bool
}

func newParser(lx *lexer, sc *scanner, feats *features) *parser {
	p := &parser{lx: lx, sc: sc, feats: feats, futureOK: true, docstringOK: true, future: map[string]bool{}, stmtTok: -1}
	p.next()
	return p
}

func (p *parser) next() {
	p.tokIndex++
	if len(p.ahead) > 0 {
		p.tok = p.ahead[0]
		p.ahead = p.ahead[1:]
		return
	}
	p.tok = p.lx.next()
}

// peekN returns the token i+1 ahead of the current one.
func (p *parser) peekN(i int) token {
	for len(p.ahead) <= i {
		p.ahead = append(p.ahead, p.lx.next())
	}
	return p.ahead[i]
}

func (p *parser) peek() token { return p.peekN(0) }

func (p *parser) is(op string) bool { return p.tok.kind == tOp && p.tok.text == op }

func (p *parser) isKw(kw string) bool { return p.tok.kind == tName && p.tok.text == kw }

func (p *parser) expect(op string) {
	if !p.is(op) {
		p.syntax("invalid syntax: expected '" + op + "'")
	}
	p.next()
}

func (p *parser) syntax(msg string) { p.syntaxAt(p.tok.line, msg) }

func (p *parser) syntaxAt(line int, msg string) { fail(&Error{Line: line, Msg: msg}) }

// resetBudget starts a statement: the previous statement's nodes are
// done with (compound statements hand their header's nodes to the scanner
// before their bodies start).
func (p *parser) resetBudget() {
	p.budget = maxStmtNodes
	p.litBudget = maxStmtLiteral
	p.cutStmt = false
	p.nodes.reset()
}

// maxStmtLiteral bounds the literal bytes kept by one statement's nodes.
const maxStmtLiteral = 1 << 20

// file reads the whole module.
func (p *parser) file() {
	for p.tok.kind != tEOF {
		if p.tok.kind == tNewline {
			p.next()
			continue
		}
		p.stmt()
	}
}

func (p *parser) stmt() {
	p.resetBudget()
	t := p.tok
	switch {
	case t.kind == tIndent:
		p.syntax("unexpected indent")
	case t.kind == tDedent:
		p.syntax("unexpected unindent")
	case t.kind == tOp && t.text == "@":
		p.notFuture()
		p.decorated()
		return
	case t.kind == tName:
		compound := true
		switch t.text {
		case "if":
			p.notFuture()
			p.ifStmt()
		case "while":
			p.notFuture()
			p.whileStmt()
		case "for":
			p.notFuture()
			p.forStmt()
		case "try":
			p.notFuture()
			p.tryStmt()
		case "with":
			p.notFuture()
			p.withStmt()
		case "def":
			p.notFuture()
			p.funcDef(nil, false)
		case "class":
			p.notFuture()
			p.classDef(nil)
		case "async":
			nt := p.peek()
			if nt.kind != tName || (nt.text != "def" && nt.text != "for" && nt.text != "with") {
				compound = false
				break
			}
			p.notFuture()
			p.feats.py3(t.line, "async "+nt.text)
			p.next()
			switch nt.text {
			case "def":
				p.funcDef(nil, true)
			case "for":
				p.forStmt()
			default:
				p.withStmt()
			}
		case "match":
			compound = p.matchStmt()
		default:
			compound = false
		}
		if compound {
			return
		}
	}
	p.simpleStmts()
}

func (p *parser) notFuture() {
	p.futureOK = false
	p.docstringOK = false
}

func (p *parser) simpleStmts() {
	for {
		p.resetBudget()
		p.smallStmt()
		if p.compoundDone {
			// `match (x):` turned out to be a compound statement
			p.compoundDone = false
			return
		}
		if !p.is(";") {
			break
		}
		p.next()
		if p.tok.kind == tNewline {
			break
		}
	}
	if p.tok.kind != tNewline {
		p.syntax("invalid syntax")
	}
	p.next()
}

// suite reads a compound statement's body: statements on the same line
// or an indented block.
func (p *parser) suite() {
	if p.tok.kind != tNewline {
		p.simpleStmts()
		return
	}
	p.next()
	if p.tok.kind != tIndent {
		p.syntax("expected an indented block")
	}
	p.next()
	for p.tok.kind != tDedent {
		if p.tok.kind == tEOF {
			p.syntax("unexpected end of file in a block")
		}
		p.stmt()
	}
	p.next()
}

// block reads a suite that runs when w says, relative to import.
func (p *parser) block(w When, loop bool) {
	p.sc.enterBlock(w, loop)
	p.suite()
	p.sc.exit()
}

func (p *parser) name() string {
	if p.tok.kind != tName || keywords[p.tok.text] {
		p.syntax("invalid syntax: expected a name")
	}
	s := p.tok.text
	p.nameUse(s)
	p.next()
	return s
}

func (p *parser) smallStmt() {
	docOK := p.docstringOK
	p.docstringOK = false
	keepFuture := p.smallStmtKind(docOK)
	p.futureOK = p.futureOK && keepFuture
}

// smallStmtKind reads one simple statement; it reports a statement after
// which a __future__ import may still come (the docstring, another
// __future__ import).
func (p *parser) smallStmtKind(docOK bool) bool {
	t := p.tok
	line := t.line
	if t.kind != tName {
		return p.exprStmt(docOK)
	}
	switch t.text {
	case "pass":
		p.next()
	case "break", "continue":
		p.next()
		if !p.sc.inLoop() {
			p.syntaxAt(line, "'"+t.text+"' outside loop")
		}
		if t.text == "continue" && p.finallyDepth > 0 {
			p.feats.py3(line, "continue in a finally block")
		}
	case "return":
		p.next()
		if !p.sc.inFunction() {
			p.syntaxAt(line, "'return' outside function")
		}
		if p.tok.kind != tNewline && !p.is(";") {
			p.sc.walk(p.testListStar())
		}
	case "raise":
		p.next()
		if p.tok.kind == tNewline || p.is(";") {
			return false
		}
		p.sc.walk(p.test())
		switch {
		case p.isKw("from"):
			p.feats.py3(line, "raise ... from")
			p.next()
			p.sc.walk(p.test())
		case p.is(","):
			p.feats.py2(line, "raise E, V")
			p.walkCommaTests(2)
		}
	case "global":
		p.next()
		for {
			p.sc.global(p.name(), line)
			if !p.is(",") {
				break
			}
			p.next()
		}
	case "del":
		p.next()
		targets := p.exprList()
		p.checkTarget(targets, "del")
		p.sc.del(targets)
	case "assert":
		p.next()
		p.sc.walk(p.test())
		p.walkCommaTests(1)
	case "import":
		p.importName()
	case "from":
		return p.importFrom()
	case "nonlocal":
		if nt := p.peek(); nt.kind != tName || keywords[nt.text] {
			return p.exprStmt(docOK)
		}
		p.feats.py3(line, "nonlocal")
		p.next()
		if !p.sc.nested() {
			p.syntaxAt(line, "nonlocal declaration not allowed at module level")
		}
		for {
			p.name()
			if !p.is(",") {
				break
			}
			p.next()
		}
	case "print":
		if !p.startsOnlyAtom(p.peek(), func() token { return p.peekN(1) }) {
			return p.exprStmt(docOK)
		}
		if p.future["print_function"] {
			p.syntax("invalid syntax: print statement with print_function")
		}
		p.feats.py2(line, "a print statement")
		p.next()
		for {
			p.sc.walk(p.test())
			if !p.is(",") {
				break
			}
			p.next()
			if p.tok.kind == tNewline || p.is(";") {
				break
			}
		}
	case "exec":
		if !p.startsOnlyAtom(p.peek(), func() token { return p.peekN(1) }) {
			return p.exprStmt(docOK)
		}
		p.feats.py2(line, "an exec statement")
		p.next()
		code := p.expr()
		var ns []*node
		if p.isKw("in") {
			p.next()
			ns = append(ns, p.test())
			if p.is(",") {
				p.next()
				ns = append(ns, p.test())
			}
		}
		p.sc.execStmt(code, ns, line)
	case "type":
		if nt := p.peek(); nt.kind == tName && !keywords[nt.text] {
			if n2 := p.peekN(1); n2.kind == tOp && (n2.text == "=" || n2.text == "[") {
				p.feats.py3(line, "a type alias statement")
				p.next()
				name := p.name()
				if p.is("[") {
					p.typeParams()
				}
				p.expect("=")
				v := p.test()
				p.sc.walk(v)
				p.sc.bindName(name, BindAssign, v, line)
				return false
			}
		}
		return p.exprStmt(docOK)
	default:
		return p.exprStmt(docOK)
	}
	return false
}

// walkCommaTests reads up to n more comma-separated expressions.
func (p *parser) walkCommaTests(n int) {
	for ; n > 0 && p.is(","); n-- {
		p.next()
		p.sc.walk(p.test())
	}
}

// typeParams skips a PEP 695 type parameter list.
func (p *parser) typeParams() {
	p.feats.py3(p.tok.line, "type parameters")
	p.next()
	p.enter()
	defer p.leave()
	for !p.is("]") {
		switch {
		case p.is("*") || p.is("**"):
			p.next()
			p.name()
		default:
			p.name()
			if p.is(":") {
				p.next()
				p.test()
			}
		}
		if p.is("=") {
			p.next()
			p.test()
		}
		if !p.is(",") {
			break
		}
		p.next()
	}
	p.expect("]")
}

var augOps = map[string]bool{"+=": true, "-=": true, "*=": true, "/=": true, "//=": true, "%=": true,
	"**=": true, ">>=": true, "<<=": true, "&=": true, "|=": true, "^=": true, "@=": true}

// exprStmt reads an expression or assignment statement; it reports the
// module's docstring.
func (p *parser) exprStmt(docOK bool) bool {
	start := p.tok
	line := start.line
	p.stmtTok = p.tokIndex
	kw := p.printOrExec(start)
	lhs := p.yieldOrList()
	p.stmtTok = -1
	// Python 2 reads a line starting with print or exec as that statement
	py2Statement := func(assigned bool) {
		if kw != "" && (assigned || !py2StatementShape(lhs, kw)) {
			p.feats.py3(line, kw+" used as a name")
		}
	}
	switch {
	case p.is("="):
		py2Statement(true)
		targets := []*node{lhs}
		for p.is("=") {
			p.next()
			v := p.yieldOrList()
			if len(targets) < maxTargets {
				targets = append(targets, v)
			} else {
				p.sc.limit("more than " + itoa(maxTargets) + " targets in one assignment: the rest are not bound")
				targets[len(targets)-1] = v
			}
		}
		value := targets[len(targets)-1]
		targets = targets[:len(targets)-1]
		for _, t := range targets {
			p.checkTarget(t, "assign")
		}
		p.sc.assign(targets, value, line)
	case p.is(":"):
		if start.kind == tName && start.text == "match" && lhs.kind != nName && p.peek().kind == tNewline {
			p.matchBody(lhs)
			p.compoundDone = true
			return false
		}
		py2Statement(true)
		switch lhs.kind {
		case nName, nAttr, nSubscript:
		default:
			p.syntax("only single target (not tuple) can be annotated")
		}
		p.feats.py3(line, "a variable annotation")
		p.checkTarget(lhs, "assign")
		p.next()
		ann := p.test()
		if !p.future["annotations"] && p.sc.annotationsRun() {
			p.sc.walk(ann)
		}
		if p.is("=") {
			p.next()
			p.sc.assign([]*node{lhs}, p.yieldOrList(), line)
		}
	case p.tok.kind == tOp && augOps[p.tok.text]:
		py2Statement(true)
		if p.tok.text == "@=" {
			p.feats.py3(line, "the @= operator")
		}
		p.checkTarget(lhs, "aug")
		p.next()
		var v *node
		if p.isKw("yield") {
			v = p.yieldExpr()
		} else {
			v = p.testList()
		}
		p.sc.augAssign(lhs, v, line)
	default:
		if lhs.kind == nStarred {
			p.syntaxAt(line, "can't use starred expression here")
		}
		py2Statement(false)
		p.sc.exprStmt(lhs)
		return docOK && start.kind == tString && lhs.kind == nStr && !lhs.str.fstr
	}
	return false
}

// yieldOrList reads the right side of an assignment: a yield expression
// or a list of expressions.
func (p *parser) yieldOrList() *node {
	if p.isKw("yield") {
		return p.yieldExpr()
	}
	return p.testListStar()
}

// maxTargets bounds the targets kept of one chained assignment.
const maxTargets = 256

// printOrExec returns "print" or "exec" when the statement starts with a
// name Python 2 reads as that statement's keyword.
func (p *parser) printOrExec(t token) string {
	switch {
	case t.kind != tName:
	case t.text == "print" && !p.future["print_function"]:
		return "print"
	case t.text == "exec":
		return "exec"
	}
	return ""
}

// py2StatementShape reports whether an expression statement that starts
// with print or exec, as Python 3 parses it, is also a valid Python 2
// print or exec statement: Python 2 reads the rest of the line as the
// statement's expression, so what Python 3 applies to the bare name first
// decides: a call with plain arguments (print (x)..., exec(code) in ns), a
// list display (print [x]), a sign (print -1) or the chevron (print >>f).
func py2StatementShape(n *node, kw string) bool {
	bare := func(k *node) bool { return k.kind == nName && k.op == kw && !k.paren }
	if bare(n) {
		return kw == "print" // a bare exec is incomplete
	}
	// descend the leftmost operand to what is applied to the bare name
	for n != truncNode && len(n.kids) > 0 && !bare(n.kids[0]) {
		if n.paren && n.kind != nCall {
			return false
		}
		n = n.kids[0]
	}
	if n == truncNode || len(n.kids) == 0 || n.paren {
		return n == truncNode
	}
	switch n.kind {
	case nCall:
		for _, a := range n.kids[1:] {
			if a.kind == nKeyword || a.kind == nStarred || a.kind == nDStar {
				return false
			}
		}
		return kw == "print" || len(n.kids) > 1
	case nSubscript:
		for _, k := range n.kids[1:] {
			if k.kind == nSlice || k.kind == nStarred {
				return false
			}
		}
		return kw == "print"
	case nBinOp:
		return kw == "print" && (n.op == "-" || n.op == "+" || n.op == ">>")
	}
	return false
}

// nameUse notes names one dialect reserves.
func (p *parser) nameUse(s string) {
	switch s {
	case "nonlocal":
		p.feats.py2(p.tok.line, "nonlocal used as a name")
	case "print":
		if !p.future["print_function"] {
			p.feats.py3(p.tok.line, "print used as a name")
		}
	case "exec":
		p.feats.py3(p.tok.line, "exec used as a name")
	}
}

func (p *parser) dottedName() string {
	var b strings.Builder
	b.WriteString(p.name())
	for p.is(".") {
		p.next()
		b.WriteString(".")
		b.WriteString(p.name())
	}
	return b.String()
}

func (p *parser) importName() {
	line := p.tok.line
	p.next()
	for {
		d := p.dottedName()
		alias := ""
		if p.isKw("as") {
			p.next()
			alias = p.name()
		}
		p.sc.importName(d, alias, line)
		if !p.is(",") {
			break
		}
		p.next()
	}
}

// importFrom reads a from-import; it reports a __future__ import.
func (p *parser) importFrom() bool {
	line := p.tok.line
	p.next()
	var mod strings.Builder
	for p.is(".") || p.is("...") {
		mod.WriteString(p.tok.text)
		p.next()
	}
	if !p.isKw("import") {
		mod.WriteString(p.dottedName())
	}
	if !p.isKw("import") {
		p.syntax("invalid syntax: expected 'import'")
	}
	p.next()
	module := mod.String()
	future := module == "__future__"
	if future && (!p.futureOK || !p.sc.atModuleTop()) {
		p.syntaxAt(line, "from __future__ imports must occur at the beginning of the file")
	}
	if p.is("*") {
		if future {
			p.syntax("future feature * is not defined")
		}
		p.next()
		p.sc.importStar(module, line)
		return false
	}
	paren := p.is("(")
	if paren {
		p.next()
	}
	for {
		n := p.name()
		alias := ""
		if p.isKw("as") {
			p.next()
			alias = p.name()
		}
		if future {
			p.futureFeature(n, line)
		}
		p.sc.importFrom(module, n, alias, line)
		if !p.is(",") {
			break
		}
		p.next()
		if paren && p.is(")") {
			break
		}
		if !paren && (p.tok.kind == tNewline || p.is(";")) {
			p.syntax("trailing comma not allowed without surrounding parentheses")
		}
	}
	if paren {
		p.expect(")")
	}
	return future
}

// futureFeature checks a __future__ feature name against the features
// Python 2.7 and 3 define.
func (p *parser) futureFeature(name string, line int) {
	switch name {
	case "nested_scopes", "generators", "division", "absolute_import", "with_statement", "print_function", "unicode_literals":
	case "barry_as_FLUFL", "generator_stop", "annotations":
		p.feats.py3(line, "from __future__ import "+name)
	case "braces":
		p.syntaxAt(line, "not a chance")
	default:
		p.syntaxAt(line, "future feature "+name+" is not defined")
	}
	p.future[name] = true
	if name == "unicode_literals" {
		p.lx.unicodeLiterals = true
	}
}

func (p *parser) ifStmt() {
	chain := p.sc.newIf()
	p.next()
	test := p.namedTest()
	p.expect(":")
	p.block(chain.branch(test), false)
	for p.isKw("elif") {
		p.resetBudget()
		p.next()
		test := p.namedTest()
		p.expect(":")
		p.block(chain.branch(test), false)
	}
	if p.isKw("else") {
		p.next()
		p.expect(":")
		p.block(chain.orElse(), false)
	}
}

func (p *parser) whileStmt() {
	p.next()
	test := p.namedTest()
	p.expect(":")
	body, orElse := p.sc.whileLoop(test)
	p.loopBody(body)
	if p.isKw("else") {
		p.next()
		p.expect(":")
		p.block(orElse, false)
	}
}

// loopBody reads a loop's body, where break and continue apply.
func (p *parser) loopBody(w When) {
	saved := p.finallyDepth
	p.finallyDepth = 0
	p.block(w, true)
	p.finallyDepth = saved
}

// forTarget reads `for target in` (the for keyword is current).
func (p *parser) forTarget() *node {
	p.next()
	target := p.exprList()
	p.checkTarget(target, "assign")
	if !p.isKw("in") {
		p.syntax("invalid syntax: expected 'in'")
	}
	p.next()
	return target
}

func (p *parser) forStmt() {
	line := p.tok.line
	target := p.forTarget()
	iter := p.testListStar()
	p.expect(":")
	body, orElse := p.sc.forLoop(target, iter, line)
	p.loopBody(body)
	if p.isKw("else") {
		p.next()
		p.expect(":")
		p.block(orElse, false)
	}
}

func (p *parser) tryStmt() {
	line := p.tok.line
	p.next()
	p.expect(":")
	p.block(p.sc.sameWhen(), p.sc.inLoop())
	handlers, bare := 0, false
	for p.isKw("except") {
		p.resetBudget()
		hline := p.tok.line
		if bare {
			p.syntaxAt(hline, "default 'except:' must be last")
		}
		p.next()
		if p.is("*") {
			p.feats.py3(hline, "except*")
			p.next()
		}
		var typ, target *node
		if p.is(":") {
			bare = true
		} else {
			typ = p.test()
			switch {
			case p.isKw("as"):
				p.next()
				target = p.test()
				p.checkTarget(target, "assign")
			case p.is(","):
				p.feats.py2(hline, "except E, name")
				p.next()
				target = p.test()
				p.checkTarget(target, "assign")
			}
		}
		p.expect(":")
		p.block(p.sc.handler(typ, target, hline), p.sc.inLoop())
		handlers++
	}
	if p.isKw("else") {
		if handlers == 0 {
			p.syntax("invalid syntax: else without except")
		}
		p.next()
		p.expect(":")
		p.block(p.sc.sameWhen(), p.sc.inLoop())
	}
	if p.isKw("finally") {
		p.next()
		p.expect(":")
		p.finallyDepth++
		p.block(p.sc.sameWhen(), p.sc.inLoop())
		p.finallyDepth--
	} else if handlers == 0 {
		p.syntaxAt(line, "expected 'except' or 'finally' block")
	}
}

func (p *parser) withStmt() {
	line := p.tok.line
	p.next()
	var items [][2]*node
	if p.is("(") {
		// Python 3.9's parenthesized items, or an expression that starts
		// with a parenthesis
		p.withTargets, p.sawAs = nil, false
		atom := p.parenAtom(true)
		if p.sawAs {
			if !p.is(":") {
				p.syntax("invalid syntax after parenthesized with items")
			}
			p.feats.py3(line, "parenthesized context managers")
			items = p.withTargets
			if atom.kind == nTuple && atom.paren {
				// items without `as` are the tuple's other elements
				for _, k := range atom.kids {
					if !hasItem(items, k) {
						items = append(items, [2]*node{k, nil})
					}
				}
			}
		} else {
			p.injected = atom
			items = append(items, p.withItem())
			for p.is(",") {
				p.next()
				items = appendItem(items, p.withItem())
			}
		}
	} else {
		items = append(items, p.withItem())
		for p.is(",") {
			p.next()
			items = appendItem(items, p.withItem())
		}
	}
	p.expect(":")
	p.block(p.sc.withItems(items, line), p.sc.inLoop())
}

func appendItem(items [][2]*node, it [2]*node) [][2]*node {
	if len(items) < maxTargets {
		return append(items, it)
	}
	return items
}

func hasItem(items [][2]*node, n *node) bool {
	for _, it := range items {
		if it[0] == n {
			return true
		}
	}
	return false
}

func (p *parser) withItem() [2]*node {
	ctx := p.test()
	var target *node
	if p.isKw("as") {
		p.next()
		target = p.expr()
		p.checkTarget(target, "assign")
	}
	return [2]*node{ctx, target}
}

func (p *parser) decorated() {
	var decorators []*node
	for p.is("@") {
		line := p.tok.line
		p.next()
		d := p.namedTest()
		if !simpleDecorator(d) {
			p.feats.py3(line, "a decorator that is not a dotted name or call")
		}
		if len(decorators) < maxTargets {
			decorators = append(decorators, d)
		}
		if p.tok.kind != tNewline {
			p.syntax("invalid syntax after decorator")
		}
		p.next()
	}
	switch {
	case p.isKw("def"):
		p.funcDef(decorators, false)
	case p.isKw("class"):
		p.classDef(decorators)
	case p.isKw("async") && p.peek().kind == tName && p.peek().text == "def":
		p.feats.py3(p.tok.line, "async def")
		p.next()
		p.funcDef(decorators, true)
	default:
		p.syntax("invalid syntax: expected def or class after decorators")
	}
}

// simpleDecorator is Python 2's decorator grammar: a dotted name,
// optionally called.
func simpleDecorator(d *node) bool {
	if d.kind == nCall && len(d.kids) > 0 {
		d = d.kids[0]
	}
	return dotted(d) != ""
}

func (p *parser) funcDef(decorators []*node, async bool) {
	line := p.tok.line
	p.next()
	name := p.name()
	if p.is("[") {
		p.typeParams()
	}
	p.expect("(")
	p.paramNames = nil
	defaults, annots := p.params(")", true)
	params := p.paramNames
	p.paramNames = nil
	p.expect(")")
	if p.is("->") {
		p.feats.py3(p.tok.line, "a return annotation")
		p.next()
		annots = append(annots, p.test())
	}
	p.expect(":")
	if p.future["annotations"] {
		annots = nil
	}
	p.sc.defStart(name, decorators, defaults, annots, params, line, async)
	p.suite()
	p.sc.exit()
}

func (p *parser) classDef(decorators []*node) {
	line := p.tok.line
	p.next()
	name := p.name()
	if p.is("[") {
		p.typeParams()
	}
	var args []*node
	if p.is("(") {
		c := p.call(p.mk(nName, line))
		if c != truncNode {
			args = c.kids[1:]
		}
		for _, a := range args {
			if a.kind == nKeyword || a.kind == nDStar {
				p.feats.py3(line, "keyword arguments in a class definition")
			}
		}
	}
	p.expect(":")
	p.sc.classStart(name, args, decorators, line)
	p.suite()
	p.sc.exit()
}

// matchStmt reads a match statement when the line is one (match is a soft
// keyword); it reports whether it was.
func (p *parser) matchStmt() bool {
	nt := p.peek()
	switch {
	case nt.kind == tName && !continuesExpr[nt.text] && (!keywords[nt.text] || nt.text == "None" || nt.text == "True" || nt.text == "False" || nt.text == "not" && !(p.peekN(1).kind == tName && p.peekN(1).text == "in")):
	case nt.kind == tNumber || nt.kind == tString:
	case nt.kind == tOp && (nt.text == "{" || nt.text == "~" || nt.text == "..."):
	default:
		return false // an expression statement; exprStmt catches `match (x):`
	}
	p.notFuture()
	p.next()
	subject := p.namedTestListStar()
	if !p.is(":") {
		p.syntax("invalid syntax: expected ':' after match subject")
	}
	p.matchBody(subject)
	return true
}

func (p *parser) matchBody(subject *node) {
	p.feats.py3(p.tok.line, "a match statement")
	p.sc.walk(subject)
	p.expect(":")
	if p.tok.kind != tNewline {
		p.syntax("invalid syntax: expected a block of case clauses")
	}
	p.next()
	if p.tok.kind != tIndent {
		p.syntax("expected an indented block")
	}
	p.next()
	cases := 0
	for p.tok.kind != tDedent {
		if !p.isKw("case") {
			p.syntax("invalid syntax: expected 'case'")
		}
		p.resetBudget()
		line := p.tok.line
		p.next()
		p.inPattern++
		savedNoCond := p.noCond
		p.noCond = true // the guard's if is not a conditional expression
		pattern := p.commaList(itemPattern)
		p.noCond = savedNoCond
		p.inPattern--
		var guard *node
		if p.isKw("if") {
			p.next()
			guard = p.namedTest()
		}
		p.expect(":")
		p.block(p.sc.caseClause(pattern, guard, line), p.sc.inLoop())
		cases++
	}
	p.next()
	if cases == 0 {
		p.syntax("invalid syntax: match without case")
	}
}
