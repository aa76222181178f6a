package pyscan

// Expressions: the union of Python 2.7's and Python 3's grammars, by
// recursive descent. Constructs only one dialect accepts are recorded as
// that dialect's features; a construct neither accepts is an error.

// maxDepth bounds the parser's recursion: nesting counts here once per
// unary operator, lambda, conditional expression or bracket. CPython 3.9
// and 3.13 accept 5966 nested unary operators, 3.11 and 3.12 2989, 2.7
// 1480 (measured with each; none accepts 6000).
const (
	maxDepth    = 6000
	py2MaxDepth = 1480
)

// keywords cannot be names in either dialect (True and False can in
// Python 2; print and exec can in Python 3; nonlocal, async, await and
// the soft keywords are names in Python 2).
var keywords = map[string]bool{
	"and": true, "as": true, "assert": true, "break": true, "class": true, "continue": true,
	"def": true, "del": true, "elif": true, "else": true, "except": true, "finally": true,
	"for": true, "from": true, "global": true, "if": true, "import": true, "in": true,
	"is": true, "lambda": true, "not": true, "or": true, "pass": true, "raise": true,
	"return": true, "try": true, "while": true, "with": true, "yield": true,
	"None": true, "True": true, "False": true,
}

// continuesExpr are the keywords that can follow a complete expression.
var continuesExpr = map[string]bool{"if": true, "else": true, "and": true, "or": true, "in": true, "is": true, "for": true, "as": true, "async": true}

func (p *parser) enter() {
	p.depth++
	if p.depth > py2MaxDepth {
		p.feats.py3(p.tok.line, "expressions nested deeper than Python 2's parser allows")
	}
	if p.depth > maxDepth {
		p.syntax("too complex: nested deeper than Python's parser allows")
	}
}

func (p *parser) leave() { p.depth-- }

// The items of a comma-separated list.
type listItem uint8

const (
	itemTestStar      listItem = iota // test or star_expr
	itemNamedTestStar                 // namedexpr_test or star_expr
	itemTest                          // test
	itemExprStar                      // expr or star_expr (a for target)
	itemPattern                       // a match pattern
)

func (p *parser) item(kind listItem) *node {
	switch {
	case kind == itemPattern:
		return p.displayItem()
	case p.is("*") && kind != itemTest:
		return p.starExpr()
	case kind == itemNamedTestStar:
		return p.namedTest()
	case kind == itemExprStar:
		return p.expr()
	}
	return p.test()
}

// testListStar: test or star_expr, comma separated (a tuple when there is
// a comma).
func (p *parser) testListStar() *node { return p.commaList(itemTestStar) }

// namedTestListStar is a match statement's subject: named expressions or
// star expressions, comma separated.
func (p *parser) namedTestListStar() *node { return p.commaList(itemNamedTestStar) }

// testList is test (',' test)* [','].
func (p *parser) testList() *node { return p.commaList(itemTest) }

// exprList is the target list of a for clause: expr or star_expr.
func (p *parser) exprList() *node { return p.commaList(itemExprStar) }

func (p *parser) commaList(kind listItem) *node {
	line := p.tok.line
	first := p.item(kind)
	if !p.is(",") {
		return first
	}
	t := p.mk(nTuple, line)
	p.add(t, first)
	for p.is(",") {
		p.next()
		if !p.startsExpr() {
			break
		}
		p.add(t, p.item(kind))
	}
	return t
}

// startsExpr reports whether the current token can begin an expression.
func (p *parser) startsExpr() bool {
	t := p.tok
	switch t.kind {
	case tName:
		return !keywords[t.text] || t.text == "not" || t.text == "lambda" || t.text == "None" || t.text == "True" || t.text == "False" || t.text == "yield"
	case tNumber, tString:
		return true
	case tOp:
		switch t.text {
		case "(", "[", "{", "-", "+", "~", "`", "...", "*", "**":
			return true
		}
	}
	return false
}

func (p *parser) starExpr() *node {
	line := p.tok.line
	p.feats.py3(line, "a starred expression")
	p.next() // '*'
	p.enter()
	defer p.leave()
	n := p.mk(nStarred, line)
	p.add(n, p.expr())
	return n
}

// namedTest is test [':=' test].
func (p *parser) namedTest() *node {
	line := p.tok.line
	return p.walrus(p.test(), line)
}

// walrus reads `:= value` after t, when there is one.
func (p *parser) walrus(t *node, line int) *node {
	if !p.is(":=") {
		return t
	}
	if t.kind != nName || t.paren {
		p.syntax("cannot use assignment expressions with this expression")
	}
	p.feats.py3(line, "an assignment expression (:=)")
	p.next()
	n := p.mk(nNamed, line)
	p.add(n, t)
	p.add(n, p.test())
	return n
}

func (p *parser) test() *node {
	p.enter()
	defer p.leave()
	if p.isKw("lambda") {
		return p.lambda(false)
	}
	line := p.tok.line
	body := p.orTest()
	if p.isKw("if") && !p.noCond {
		p.next()
		n := p.mk(nIfExp, line)
		cond := p.orTest()
		if !p.isKw("else") {
			p.syntax("expected 'else' after 'if' expression")
		}
		p.next()
		p.add(n, body)
		p.add(n, cond)
		p.add(n, p.test())
		return n
	}
	return body
}

// lambda reads a lambda; old is Python 2's old_lambdef (in a list
// comprehension's iterable), whose body is not a conditional expression.
func (p *parser) lambda(old bool) *node {
	line := p.tok.line
	p.next()
	n := p.mk(nLambda, line)
	var defaults []*node
	savedNames := p.paramNames
	if !p.is(":") {
		defaults, _ = p.params(":", false)
	}
	p.paramNames = savedNames
	p.expect(":")
	saved := p.noCond
	p.noCond = old
	p.lambdaDepth++
	if old {
		p.add(n, p.oldTest())
	} else {
		p.add(n, p.test())
	}
	p.lambdaDepth--
	p.noCond = saved
	for _, d := range defaults {
		p.add(n, d)
	}
	return n
}

func (p *parser) orTest() *node { return p.boolOp("or", p.andTest) }

// oldTest is Python 2's old_test, a list comprehension's iterable: an
// or_test, or a lambda (which Python 3 refuses there).
func (p *parser) oldTest() *node {
	if p.isKw("lambda") {
		p.feats.py2(p.tok.line, "a lambda as a list comprehension's iterable")
		p.enter()
		defer p.leave()
		return p.lambda(true)
	}
	return p.orTest()
}

func (p *parser) andTest() *node { return p.boolOp("and", p.notTest) }

func (p *parser) boolOp(op string, sub func() *node) *node {
	line := p.tok.line
	first := sub()
	if !p.isKw(op) {
		return first
	}
	n := p.mk(nBool, line)
	n.op = op
	p.add(n, first)
	for p.isKw(op) {
		p.next()
		p.add(n, sub())
	}
	return n
}

func (p *parser) notTest() *node {
	if p.isKw("not") {
		line := p.tok.line
		p.next()
		p.enter()
		defer p.leave()
		n := p.mk(nUnary, line)
		n.op = "not"
		p.add(n, p.notTest())
		return n
	}
	return p.comparison()
}

func (p *parser) compOp() (string, bool) {
	t := p.tok
	switch {
	case t.kind == tOp:
		switch t.text {
		case "<", ">", "==", ">=", "<=", "!=", "<>":
			return t.text, true
		}
	case t.kind == tName && (t.text == "in" || t.text == "is"):
		return t.text, true
	case t.kind == tName && t.text == "not":
		if nt := p.peek(); nt.kind == tName && nt.text == "in" {
			return "not in", true
		}
	}
	return "", false
}

func (p *parser) comparison() *node {
	line := p.tok.line
	first := p.expr()
	op, ok := p.compOp()
	if !ok {
		return first
	}
	n := p.mk(nCompare, line)
	p.add(n, first)
	for ok {
		p.next()
		switch op {
		case "not in":
			p.next()
		case "is":
			if p.isKw("not") {
				p.next()
				op = "is not"
			}
		}
		// past the budget, ops and operands are dropped together
		if k := p.expr(); n != truncNode && k != truncNode {
			n.ops = append(n.ops, op)
			p.add(n, k)
		}
		op, ok = p.compOp()
	}
	return n
}

// expr is the bitwise-or level (also a for clause's target and a star
// expression's operand).
func (p *parser) expr() *node { return p.binary(1) }

// binPrec is a binary operator's precedence level, lowest first (0: not
// a binary operator of expr).
func binPrec(op string) int8 {
	switch op {
	case "|":
		return 1
	case "^":
		return 2
	case "&":
		return 3
	case "<<", ">>":
		return 4
	case "+", "-":
		return 5
	case "*", "@", "/", "%", "//":
		return 6
	}
	return 0
}

const binTop = 6

func (p *parser) binary(level int8) *node {
	if level > binTop {
		return p.factor()
	}
	line := p.tok.line
	left := p.binary(level + 1)
	for {
		if p.tok.kind != tOp || p.tok.prec != level {
			return left
		}
		op := p.tok.text
		if op == "@" {
			p.feats.py3(p.tok.line, "the @ operator")
		}
		p.next()
		n := p.mk(nBinOp, line)
		n.op = op
		p.add(n, left)
		p.add(n, p.binary(level+1))
		left = n
	}
}

func (p *parser) factor() *node {
	if p.tok.kind == tOp && (p.tok.text == "-" || p.tok.text == "+" || p.tok.text == "~") {
		line := p.tok.line
		op := p.tok.text
		p.next()
		p.enter()
		defer p.leave()
		n := p.mk(nUnary, line)
		n.op = op
		p.add(n, p.factor())
		return n
	}
	return p.power()
}

func (p *parser) power() *node {
	line := p.tok.line
	base := p.atomExpr()
	if p.is("**") {
		p.next()
		p.enter()
		defer p.leave()
		n := p.mk(nBinOp, line)
		n.op = "**"
		p.add(n, base)
		p.add(n, p.factor())
		return n
	}
	return base
}

// startsOnlyAtom reports whether t can begin an operand but cannot
// continue an expression: after `print`, `exec` or `await` it marks the
// statement (or the await expression) rather than a name.
func (p *parser) startsOnlyAtom(t token, second func() token) bool {
	switch t.kind {
	case tNumber, tString:
		return true
	case tName:
		if t.text == "not" {
			nt := second()
			return !(nt.kind == tName && nt.text == "in")
		}
		return !continuesExpr[t.text] && (!keywords[t.text] || t.text == "lambda" || t.text == "None" || t.text == "True" || t.text == "False")
	case tOp:
		return t.text == "{" || t.text == "`" || t.text == "~"
	}
	return false
}

func (p *parser) atomExpr() *node {
	line := p.tok.line
	if p.isKw("await") && p.injected == nil {
		nt := p.peek()
		if p.startsOnlyAtom(nt, func() token { return p.peekN(1) }) || nt.kind == tOp && (nt.text == "(" || nt.text == "[") {
			if p.startsOnlyAtom(nt, func() token { return p.peekN(1) }) {
				p.feats.py3(line, "an await expression")
			}
			p.next()
			p.enter()
			defer p.leave()
			n := p.mk(nAwait, line)
			p.add(n, p.atomExpr())
			return n
		}
	}
	n := p.atom()
	for {
		switch {
		case p.is("("):
			n = p.call(n)
		case p.is("["):
			n = p.subscript(n)
		case p.is("."):
			p.next()
			if p.tok.kind != tName || keywords[p.tok.text] && p.tok.text != "True" && p.tok.text != "False" {
				p.syntax("invalid syntax: expected a name after '.'")
			}
			switch p.tok.text {
			case "print", "exec", "nonlocal":
				p.nameUse(p.tok.text)
			case "True", "False":
				p.feats.py2(p.tok.line, "an attribute named "+p.tok.text)
			}
			a := p.mk(nAttr, p.tok.line)
			a.op = p.tok.text
			p.add(a, n)
			p.next()
			n = a
		default:
			return n
		}
	}
}

func (p *parser) atom() *node {
	if p.injected != nil {
		n := p.injected
		p.injected = nil
		return n
	}
	t := p.tok
	switch t.kind {
	case tName:
		switch {
		case t.text == "None" || t.text == "True" || t.text == "False":
			p.next()
			n := p.mk(nConst, t.line)
			n.op = t.text
			return n
		case keywords[t.text]:
			p.syntax("invalid syntax ('" + t.text + "')")
		case t.text == "nonlocal" || (t.text == "print" || t.text == "exec") && p.tokIndex != p.stmtTok:
			p.nameUse(t.text)
		}
		p.next()
		n := p.mk(nName, t.line)
		n.op = t.text
		return n
	case tNumber:
		p.next()
		n := p.mk(nNum, t.line)
		n.op = t.text
		return n
	case tString:
		return p.strings()
	case tOp:
		switch t.text {
		case "(":
			return p.parenAtom(false)
		case "[":
			return p.listDisplay()
		case "{":
			return p.braceDisplay()
		case "`":
			p.next()
			p.enter()
			defer p.leave()
			n := p.mk(nRepr, t.line)
			p.add(n, p.testList())
			p.expect("`")
			return n
		case "...":
			if !p.ellipsisOK {
				p.feats.py3(t.line, "an Ellipsis (...) outside a subscript")
			}
			p.ellipsisOK = false
			p.next()
			return p.mk(nEllipsis, t.line)
		}
	}
	p.syntax("invalid syntax")
	return nil
}

// strings concatenates adjacent string literals into one value.
func (p *parser) strings() *node {
	n := p.mk(nStr, p.tok.line)
	s := &strLit{line: p.tok.line}
	first := true
	for p.tok.kind == tString {
		t := p.tok.str
		if first {
			s.bytes = t.bytes
			first = false
		} else if s.bytes != t.bytes {
			p.feats.py2(p.tok.line, "bytes and str literals concatenated")
		}
		s.raw = s.raw || t.raw
		s.fstr = s.fstr || t.fstr
		s.truncated = s.truncated || t.truncated
		room := p.lx.maxLit - len(s.value)
		if p.litBudget < room {
			room = p.litBudget
			if len(t.value) > room {
				p.sc.limit("more than " + itoa(maxStmtLiteral>>20) + " MiB of literals in one statement: later ones are kept truncated")
			}
		}
		if room > 0 {
			v := t.value
			if len(v) > room {
				v, s.truncated = v[:room], true
			}
			s.value = append(s.value, v...)
			p.litBudget -= len(v)
		} else if len(t.value) > 0 {
			s.truncated = true
		}
		for _, f := range t.fields {
			if len(s.fields) < maxFields && p.litBudget > len(f) {
				s.fields = append(s.fields, f)
				p.litBudget -= len(f)
			}
		}
		p.next()
	}
	if n != truncNode {
		n.str = s
	}
	return n
}

// openBracket enters a bracketed construct (the current token is its
// opening bracket): nesting counts, and a conditional expression is allowed
// again inside a comprehension's condition. It returns what closeBracket
// restores.
func (p *parser) openBracket() (savedNoCond bool) {
	p.next()
	p.enter()
	savedNoCond, p.noCond = p.noCond, false
	return savedNoCond
}

// openTrailer starts a call or subscript of head at its opening bracket.
func (p *parser) openTrailer(kind nodeKind, head *node) (*node, bool) {
	n := p.mk(kind, p.tok.line)
	p.add(n, head)
	return n, p.openBracket()
}

func (p *parser) closeBracket(savedNoCond bool) {
	p.noCond = savedNoCond
	p.leave()
}

// parenAtom reads ( ... ): a parenthesized expression, a tuple, a
// generator expression or a yield. With asItems (a with statement), items
// may carry `as target` (Python 3.9's parenthesized context managers); the
// targets are returned through p.withTargets.
func (p *parser) parenAtom(asItems bool) *node {
	line := p.tok.line
	defer p.closeBracket(p.openBracket())
	if p.is(")") {
		p.next()
		n := p.mk(nTuple, line)
		n.paren = true
		return n
	}
	if p.isKw("yield") {
		n := p.yieldExpr()
		p.expect(")")
		return n
	}
	item := func() *node {
		var n *node
		if p.is("*") {
			n = p.starExpr()
		} else {
			n = p.namedTest()
		}
		if asItems && p.isKw("as") {
			p.next()
			target := p.expr()
			p.checkTarget(target, "assign")
			if len(p.withTargets) < maxTargets {
				p.withTargets = append(p.withTargets, [2]*node{n, target})
			}
			p.sawAs = true
		} else if p.inPattern > 0 {
			p.patternAs()
		}
		return n
	}
	first := item()
	if p.isKw("for") || p.isKw("async") {
		c := p.comprehension("gen", first, nil, line)
		p.expect(")")
		c.paren = true
		return c
	}
	if !p.is(",") {
		p.expect(")")
		first.paren = true
		return first
	}
	t := p.mk(nTuple, line)
	t.paren = true
	p.add(t, first)
	for p.is(",") {
		p.next()
		if p.is(")") {
			break
		}
		p.add(t, item())
	}
	p.expect(")")
	return t
}

func (p *parser) listDisplay() *node {
	line := p.tok.line
	defer p.closeBracket(p.openBracket())
	n := p.mk(nList, line)
	if p.is("]") {
		p.next()
		return n
	}
	first := p.displayItem()
	if p.isKw("for") || p.isKw("async") {
		c := p.comprehension("list", first, nil, line)
		p.expect("]")
		return c
	}
	p.add(n, first)
	for p.is(",") {
		p.next()
		if p.is("]") {
			break
		}
		p.add(n, p.displayItem())
	}
	p.expect("]")
	return n
}

func (p *parser) displayItem() *node {
	var n *node
	if p.is("*") {
		n = p.starExpr()
	} else {
		n = p.namedTest()
	}
	if p.inPattern > 0 {
		p.patternAs()
	}
	return n
}

// braceDisplay reads a dict or set display or comprehension.
func (p *parser) braceDisplay() *node {
	line := p.tok.line
	defer p.closeBracket(p.openBracket())
	if p.is("}") {
		p.next()
		return p.mk(nDict, line)
	}
	// the first item decides dict or set
	dictItem := func() *node {
		if p.is("**") {
			l := p.tok.line
			p.feats.py3(l, "a ** unpacking in a dict display")
			p.next()
			d := p.mk(nDStar, l)
			p.add(d, p.expr())
			return d
		}
		l := p.tok.line
		k := p.test()
		if p.inPattern > 0 {
			p.patternAs()
		}
		p.expect(":")
		return p.pairValue(k, l)
	}
	var first *node
	isDict := false
	if p.is("**") {
		first, isDict = dictItem(), true
	} else if p.is("*") {
		first = p.starExpr()
	} else {
		l := p.tok.line
		k := p.namedTest()
		if p.is(":") {
			isDict = true
			p.next()
			first = p.pairValue(k, l)
		} else {
			first = k
		}
	}
	if p.isKw("for") || p.isKw("async") {
		if first.kind == nDStar || first.kind == nStarred {
			p.syntax("invalid syntax: unpacking in a comprehension")
		}
		kind := "set"
		if isDict {
			kind = "dict"
		}
		c := p.comprehension(kind, first, nil, line)
		p.expect("}")
		return c
	}
	kind := nSet
	if isDict {
		kind = nDict
	}
	n := p.mk(kind, line)
	p.add(n, first)
	for p.is(",") {
		p.next()
		if p.is("}") {
			break
		}
		if isDict {
			p.add(n, dictItem())
		} else if p.is("*") {
			p.add(n, p.starExpr())
		} else if p.is("**") {
			p.syntax("invalid syntax: ** in a set display")
		} else {
			item := p.namedTest()
			if p.is(":") {
				p.syntax("invalid syntax: a dict item in a set display")
			}
			p.add(n, item)
		}
	}
	p.expect("}")
	return n
}

// pairValue reads a dict item's value after its key and colon.
func (p *parser) pairValue(key *node, line int) *node {
	pair := p.mk(nPair, line)
	p.add(pair, key)
	v := p.test()
	if p.inPattern > 0 {
		p.patternAs()
	}
	p.add(pair, v)
	return pair
}

// comprehension reads the for and if clauses after a display's element.
func (p *parser) comprehension(kind string, elt, _ *node, line int) *node {
	c := p.mk(nComp, line)
	c.op = kind
	p.add(c, elt)
	for p.isKw("for") || p.isKw("async") {
		if p.isKw("async") {
			p.feats.py3(p.tok.line, "an async comprehension")
			p.next()
			if !p.isKw("for") {
				p.syntax("invalid syntax: expected 'for' after 'async'")
			}
		}
		f := p.mk(nFor, p.tok.line)
		p.add(f, p.forTarget())
		saved := p.noCond
		p.noCond = true
		var iter *node
		if kind == "list" {
			iter = p.oldTest()
		} else {
			iter = p.orTest()
		}
		if kind == "list" && p.is(",") {
			// Python 2's [x for x in 1, 2]
			p.feats.py2(p.tok.line, "an unparenthesized tuple in a list comprehension")
			t := p.mk(nTuple, iter.line)
			p.add(t, iter)
			for p.is(",") {
				p.next()
				if !p.startsExpr() {
					break
				}
				p.add(t, p.oldTest())
			}
			iter = t
		}
		p.add(f, iter)
		for p.isKw("if") {
			p.next()
			p.add(f, p.test())
		}
		p.noCond = saved
		p.add(c, f)
	}
	return c
}

func (p *parser) yieldExpr() *node {
	line := p.tok.line
	if !p.sc.inFunction() && p.lambdaDepth == 0 {
		p.syntax("'yield' outside function")
	}
	p.next()
	n := p.mk(nYield, line)
	n.op = "yield"
	if p.isKw("from") {
		p.feats.py3(line, "yield from")
		p.next()
		n.op = "yield from"
		p.add(n, p.test())
		return n
	}
	if p.startsExpr() {
		p.add(n, p.testListStar())
	}
	return n
}

// call reads a call's argument list.
func (p *parser) call(fn *node) *node {
	n, saved := p.openTrailer(nCall, fn)
	defer p.closeBracket(saved)
	var seenKw, seenDStar, seenStar bool
	var kwNames map[string]bool
	count := 0
	for !p.is(")") {
		count++
		switch {
		case p.is("*"):
			if seenDStar {
				p.syntax("iterable argument unpacking follows keyword argument unpacking")
			}
			if seenStar {
				p.feats.py3(p.tok.line, "more than one * unpacking in a call")
			}
			seenStar = true
			p.add(n, p.unpacked(nStarred))
		case p.is("**"):
			if seenDStar {
				p.feats.py3(p.tok.line, "more than one ** unpacking in a call")
			}
			seenDStar = true
			p.add(n, p.unpacked(nDStar))
		default:
			l := p.tok.line
			arg := p.test()
			switch {
			case p.is("="):
				if arg.kind != nName || arg.paren {
					p.syntax("expression cannot contain assignment, perhaps you meant \"==\"?")
				}
				p.next()
				if kwNames == nil {
					kwNames = map[string]bool{}
				}
				if kwNames[arg.op] {
					p.syntax("keyword argument repeated: " + arg.op)
				}
				kwNames[arg.op] = true
				seenKw = true
				k := p.mk(nKeyword, l)
				k.op = arg.op
				p.add(k, p.test())
				p.add(n, k)
				if p.inPattern > 0 {
					p.patternAs()
				}
			case p.is(":="):
				p.add(n, p.walrus(arg, l))
			case p.isKw("for") || p.isKw("async"):
				c := p.comprehension("gen", arg, nil, l)
				if count > 1 || p.is(",") && !(p.peek().kind == tOp && p.peek().text == ")") {
					p.syntax("Generator expression must be parenthesized")
				}
				p.add(n, c)
			default:
				if p.inPattern > 0 {
					p.patternAs()
				}
				if seenDStar {
					p.syntax("positional argument follows keyword argument unpacking")
				}
				if seenKw {
					p.syntax("positional argument follows keyword argument")
				}
				p.add(n, arg)
			}
		}
		if !p.is(",") {
			break
		}
		p.next()
	}
	p.expect(")")
	return n
}

// unpacked reads a call's *args or **kwargs (the operator is current).
func (p *parser) unpacked(kind nodeKind) *node {
	u := p.mk(kind, p.tok.line)
	p.next()
	p.add(u, p.test())
	return u
}

func (p *parser) subscript(value *node) *node {
	n, saved := p.openTrailer(nSubscript, value)
	defer p.closeBracket(saved)
	for {
		p.add(n, p.sliceItem())
		if !p.is(",") {
			break
		}
		p.next()
		if p.is("]") {
			break
		}
	}
	p.expect("]")
	return n
}

func (p *parser) sliceItem() *node {
	line := p.tok.line
	// Python 2 takes ... only as a whole subscript item: x[...], x[..., 1]
	if p.is("...") {
		if nt := p.peek(); nt.kind == tOp && (nt.text == "]" || nt.text == ",") {
			p.ellipsisOK = true
		}
	}
	if p.is("*") {
		p.feats.py3(line, "a * unpacking in a subscript")
		return p.starExpr()
	}
	var lo *node
	if !p.is(":") {
		lo = p.namedTest()
		if !p.is(":") {
			return lo
		}
	}
	s := p.mk(nSlice, line)
	if lo == nil {
		lo = p.mk(nNone, line)
	}
	p.add(s, lo)
	p.next() // ':'
	part := func() {
		if p.is(":") || p.is("]") || p.is(",") {
			p.add(s, p.mk(nNone, line))
		} else {
			p.add(s, p.test())
		}
	}
	part()
	if p.is(":") {
		p.next()
		part()
	}
	return s
}

// params reads a def's or lambda's parameters up to close (not consumed).
// It returns the default values and annotations, which are evaluated
// where the def or lambda runs, and records the names as the function's
// locals.
func (p *parser) params(close string, annotations bool) (defaults, annots []*node) {
	seen := map[string]bool{}
	sawDefault, afterStar, sawDStar := false, false, false
	name := func() string {
		if p.tok.kind != tName || keywords[p.tok.text] {
			p.syntax("invalid syntax: expected a parameter name")
		}
		s := p.tok.text
		if seen[s] {
			p.syntax("duplicate argument '" + s + "' in function definition")
		}
		if len(seen) < maxLocalNames {
			seen[s] = true
			p.paramNames = append(p.paramNames, s)
		}
		p.next()
		return s
	}
	annot := func() {
		if annotations && p.is(":") {
			p.feats.py3(p.tok.line, "a function annotation")
			p.next()
			var a *node
			if p.is("*") {
				a = p.starExpr() // *args: *Ts (Python 3.11)
			} else {
				a = p.test()
			}
			if len(annots) < maxTargets {
				annots = append(annots, a)
			}
		}
	}
	for !p.is(close) {
		if sawDStar {
			p.syntax("invalid syntax: parameters after **kwargs")
		}
		switch {
		case p.is("/"):
			p.feats.py3(p.tok.line, "positional-only parameters (/)")
			p.next()
		case p.is("*"):
			if afterStar {
				p.syntax("* argument may appear only once")
			}
			p.next()
			afterStar = true
			if p.tok.kind == tName {
				name()
				annot()
			} else if !p.is(",") {
				p.syntax("invalid syntax after '*'")
			} else {
				p.feats.py3(p.tok.line, "keyword-only parameters")
			}
		case p.is("**"):
			p.next()
			name()
			annot()
			sawDStar = true
		case p.is("("):
			// Python 2's tuple parameters: def f(a, (b, c)=x)
			p.feats.py2(p.tok.line, "a tuple parameter")
			p.tupleParam(name)
			if p.is("=") {
				p.next()
				if d := p.test(); len(defaults) < maxTargets {
					defaults = append(defaults, d)
				}
				sawDefault = true
			} else if sawDefault {
				p.syntax("non-default argument follows default argument")
			}
		default:
			name()
			annot()
			if afterStar {
				p.feats.py3(p.tok.line, "keyword-only parameters")
			}
			if p.is("=") {
				p.next()
				if d := p.test(); len(defaults) < maxTargets {
					defaults = append(defaults, d)
				}
				sawDefault = true
			} else if sawDefault && !afterStar {
				p.syntax("non-default argument follows default argument")
			}
		}
		if !p.is(",") {
			break
		}
		p.next()
	}
	return defaults, annots
}

func (p *parser) tupleParam(name func() string) {
	p.next() // '('
	p.enter()
	defer p.leave()
	for !p.is(")") {
		if p.is("(") {
			p.tupleParam(name)
		} else {
			name()
		}
		if !p.is(",") {
			break
		}
		p.next()
	}
	p.expect(")")
}

// checkTarget validates an assignment ("assign"), deletion ("del") or
// augmented assignment ("aug") target.
func (p *parser) checkTarget(n *node, what string) {
	p.checkTargetStar(n, what, true)
}

func (p *parser) checkTargetStar(n *node, what string, top bool) {
	if n == truncNode || n == nil {
		return
	}
	switch n.kind {
	case nName:
		if n.op == "__debug__" {
			p.syntaxAt(n.line, "cannot assign to __debug__")
		}
	case nAttr, nSubscript:
	case nConst:
		if n.op == "None" || what == "aug" {
			p.syntaxAt(n.line, "cannot assign to "+n.op)
		}
		p.feats.py2(n.line, "assignment to "+n.op)
	case nTuple, nList:
		if what == "aug" {
			p.syntaxAt(n.line, "illegal expression for augmented assignment")
		}
		stars := 0
		for _, k := range n.kids {
			if k.kind == nStarred {
				stars++
				if what == "del" {
					p.syntaxAt(k.line, "cannot delete starred")
				}
				p.feats.py3(k.line, "a starred assignment target")
				if len(k.kids) > 0 {
					p.checkTargetStar(k.kids[0], what, false)
				}
				continue
			}
			p.checkTargetStar(k, what, false)
		}
		if stars > 1 {
			p.syntaxAt(n.line, "multiple starred expressions in assignment")
		}
	case nStarred:
		p.syntaxAt(n.line, "starred assignment target must be in a list or tuple")
	default:
		p.syntaxAt(n.line, "cannot "+map[string]string{"assign": "assign to", "del": "delete", "aug": "assign to"}[what]+" expression")
	}
}

// patternAs reads a capture (`as name`) after a match pattern item.
func (p *parser) patternAs() {
	if p.isKw("as") {
		p.next()
		if p.tok.kind != tName || keywords[p.tok.text] {
			p.syntax("invalid pattern target")
		}
		p.next()
	}
}
