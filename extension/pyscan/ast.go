package pyscan

import (
	"strconv"
	"strings"
)

// The parser builds a small tree for each statement's expressions, with a
// bounded number of nodes: past the bound it keeps parsing (to find syntax
// errors) but hands out one shared node that marks the cut.

type nodeKind uint8

const (
	nName nodeKind = iota
	nAttr
	nCall
	nStr
	nNum
	nConst // True, False, None
	nEllipsis
	nTuple
	nList
	nSet
	nDict
	nPair // a dict display's key: value
	nBinOp
	nUnary
	nBool
	nCompare
	nSubscript
	nSlice
	nIfExp
	nLambda
	nComp
	nFor // one for clause of a comprehension: target, iter, ifs...
	nStarred
	nDStar
	nKeyword
	nYield
	nAwait
	nNamed
	nRepr
	nTrunc
	nNone // an absent optional part (a slice bound)
)

type node struct {
	kind  nodeKind
	op    string // name, attribute, operator, keyword, constant, comprehension kind
	ops   []string
	str   *strLit
	kids  []*node
	line  int
	paren bool
	// callee caches calleeOf: a chain a.b().c().d() is resolved once per
	// node, not once per call along it
	callee     string
	calleeDone bool
	kbuf       [2]*node // room for the first kids, reused with the node
}

const (
	maxStmtNodes = 20000
	// maxKeptNodes bounds the copy of an expression kept beyond its
	// statement (a call's arguments, a constant's value).
	maxKeptNodes = 512
	// maxRender bounds the source text rendered for an expression.
	maxRender = 512
)

// truncNode stands for what a statement's node budget cut off.
var truncNode = &node{kind: nTrunc}

func (p *parser) mk(kind nodeKind, line int) *node {
	if p.budget <= 0 {
		if !p.cutStmt {
			p.cutStmt = true
			p.sc.limit("an expression too large to keep whole (over " + itoa(maxStmtNodes) + " parts in one statement)")
		}
		return truncNode
	}
	p.budget--
	n := p.nodes.alloc()
	n.kind, n.line = kind, line
	return n
}

// arena hands out a statement's nodes from reused chunks: a statement's
// nodes live until the next statement starts (what is kept longer is
// copied, see keep), so a module of any length allocates nodes once.
type arena struct {
	chunks [][]node
	ci, ni int
}

const arenaChunk = 256

func (a *arena) alloc() *node {
	if a.ci == len(a.chunks) {
		// a small first chunk: a parser of an f-string field needs few
		size := arenaChunk
		if a.ci == 0 {
			size = 16
		}
		a.chunks = append(a.chunks, make([]node, size))
	}
	n := &a.chunks[a.ci][a.ni]
	if a.ni++; a.ni == len(a.chunks[a.ci]) {
		a.ci, a.ni = a.ci+1, 0
	}
	*n = node{}
	n.kids = n.kbuf[:0]
	return n
}

func (a *arena) reset() { a.ci, a.ni = 0, 0 }

// add appends kid to parent; past the node budget only one cut marker is
// appended, so that a display of any length stays bounded.
func (p *parser) add(parent, kid *node) {
	if parent == truncNode || kid == nil {
		return
	}
	if kid == truncNode && len(parent.kids) > 0 && parent.kids[len(parent.kids)-1] == truncNode {
		return
	}
	parent.kids = append(parent.kids, kid)
}

// dotted returns a.b.c for a name or attribute chain, "" otherwise.
func dotted(n *node) string {
	switch {
	case n == nil:
		return ""
	case n.kind == nName:
		return n.op
	case n.kind == nAttr && len(n.kids) == 1:
		if d := dotted(n.kids[0]); d != "" {
			return d + "." + n.op
		}
	}
	return ""
}

// keep copies at most maxKeptNodes of n for use after its statement; it
// returns the copy and its size.
func keep(n *node) (*node, int) {
	budget := maxKeptNodes
	var cp func(*node) *node
	cp = func(n *node) *node {
		if n == nil || n == truncNode {
			return n
		}
		if budget <= 0 {
			return truncNode
		}
		budget--
		c := *n
		c.kids, c.kbuf = nil, [2]*node{}
		for _, k := range n.kids {
			c.kids = append(c.kids, cp(k))
		}
		return &c
	}
	k := cp(n)
	return k, maxKeptNodes - budget
}

// litBytes counts the literal bytes a kept tree holds.
func litBytes(n *node) int {
	if n == nil {
		return 0
	}
	t := 0
	if n.str != nil {
		t += len(n.str.value)
	}
	for _, k := range n.kids {
		t += litBytes(k)
	}
	return t
}

// render writes an expression back as (approximate) Python source,
// bounded to maxRender bytes.
func render(n *node) string {
	var b strings.Builder
	renderTo(&b, n)
	s := b.String()
	if len(s) > maxRender {
		s = s[:maxRender] + "…"
	}
	return s
}

func renderTo(b *strings.Builder, n *node) {
	if b.Len() > maxRender || n == nil {
		return
	}
	list := func(kids []*node, sep string) {
		for i, k := range kids {
			if i > 0 {
				b.WriteString(sep)
			}
			renderTo(b, k)
		}
	}
	switch n.kind {
	case nName, nConst:
		b.WriteString(n.op)
	case nEllipsis:
		b.WriteString("...")
	case nNum:
		b.WriteString(n.op)
	case nStr:
		b.WriteString(quoteLiteral(n.str))
	case nAttr:
		renderTo(b, n.kids[0])
		b.WriteString("." + n.op)
	case nCall:
		applied(b, n, '(', ')')
	case nKeyword, nStarred, nDStar, nAwait:
		b.WriteString(map[nodeKind]string{nKeyword: n.op + "=", nStarred: "*", nDStar: "**", nAwait: "await "}[n.kind])
		list(n.kids, "")
	case nTuple:
		if n.paren || len(n.kids) == 0 {
			b.WriteByte('(')
		}
		list(n.kids, ", ")
		if len(n.kids) == 1 {
			b.WriteByte(',')
		}
		if n.paren || len(n.kids) == 0 {
			b.WriteByte(')')
		}
	case nList:
		b.WriteByte('[')
		list(n.kids, ", ")
		b.WriteByte(']')
	case nSet, nDict:
		b.WriteByte('{')
		list(n.kids, ", ")
		b.WriteByte('}')
	case nPair:
		renderTo(b, n.kids[0])
		b.WriteString(": ")
		if len(n.kids) > 1 {
			renderTo(b, n.kids[1])
		}
	case nBinOp:
		renderTo(b, n.kids[0])
		b.WriteString(" " + n.op + " ")
		if len(n.kids) > 1 {
			renderTo(b, n.kids[1])
		}
	case nUnary:
		b.WriteString(n.op)
		if n.op == "not" || n.op == "await" {
			b.WriteByte(' ')
		}
		list(n.kids, "")
	case nBool:
		list(n.kids, " "+n.op+" ")
	case nCompare:
		for i, k := range n.kids {
			if i > 0 && i-1 < len(n.ops) {
				b.WriteString(" " + n.ops[i-1] + " ")
			}
			renderTo(b, k)
		}
	case nSubscript:
		applied(b, n, '[', ']')
	case nSlice:
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(':')
			}
			if k.kind != nNone {
				renderTo(b, k)
			}
		}
	case nIfExp:
		if len(n.kids) == 3 {
			renderTo(b, n.kids[0])
			b.WriteString(" if ")
			renderTo(b, n.kids[1])
			b.WriteString(" else ")
			renderTo(b, n.kids[2])
		}
	case nLambda:
		b.WriteString("lambda: ")
		if len(n.kids) > 0 {
			renderTo(b, n.kids[0])
		}
	case nComp:
		brackets := map[string]string{"list": "[]", "set": "{}", "dict": "{}", "gen": "()"}[n.op]
		if brackets == "" {
			brackets = "()"
		}
		b.WriteByte(brackets[0])
		list(n.kids, " ")
		b.WriteByte(brackets[1])
	case nFor:
		b.WriteString("for ")
		if len(n.kids) > 1 {
			renderTo(b, n.kids[0])
			b.WriteString(" in ")
			renderTo(b, n.kids[1])
			for _, k := range n.kids[2:] {
				b.WriteString(" if ")
				renderTo(b, k)
			}
		}
	case nYield:
		b.WriteString(n.op)
		if len(n.kids) > 0 {
			b.WriteByte(' ')
			list(n.kids, "")
		}
	case nNamed:
		list(n.kids, " := ")
	case nRepr:
		b.WriteByte('`')
		list(n.kids, "")
		b.WriteByte('`')
	case nTrunc:
		b.WriteString("…")
	}
}

// applied renders a call or subscript: f(a, b), x[i, j].
func applied(b *strings.Builder, n *node, open, close byte) {
	renderTo(b, n.kids[0])
	b.WriteByte(open)
	for i, k := range n.kids[1:] {
		if i > 0 {
			b.WriteString(", ")
		}
		renderTo(b, k)
	}
	b.WriteByte(close)
}

func itoa(i int) string { return strconv.Itoa(i) }
