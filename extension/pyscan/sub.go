package pyscan

import "strings"

// Code found in literals is scanned too: the source of an f-string's
// replacement fields, and the code handed to exec, eval or compile. A
// syntax error there is not the module's (Python raises it when that code
// runs), so it only ends that inner scan.

// recoverInner ends an inner scan on its syntax error; other panics are
// bugs and go on.
func recoverInner(r any) {
	if r == nil {
		return
	}
	if _, ok := r.(bailout); !ok {
		panic(r)
	}
}

// subScan scans code run by exec at the place of the call: its calls are
// attributed to the call's line and function.
func (sc *scanner) subScan(code string, line int, c wctx) {
	savedFrames, savedFeats := len(sc.frames), sc.feats
	savedOverride := sc.lineOverride
	sc.lineOverride = line
	feats := &features{}
	sc.feats = feats // that code's dialect is not the module's
	defer func() {
		recoverInner(recover())
		sc.frames = sc.frames[:savedFrames]
		sc.lineOverride = savedOverride
		sc.feats = savedFeats
	}()
	lx := newLexer(strings.NewReader(code), sc.opts.MaxLiteral, feats)
	sc.frames = append(sc.frames, &frame{ns: c.ns, when: c.when, fn: c.fn})
	p := newParser(lx, sc, feats)
	p.notFuture()
	p.file()
}

// subExpr parses an f-string field's source as an expression; nil when it
// does not parse.
func (sc *scanner) subExpr(src string, line int) (n *node) {
	feats := &features{}
	saved := sc.feats
	sc.feats = feats
	defer func() {
		sc.feats = saved
		if r := recover(); r != nil {
			recoverInner(r)
			n = nil
		}
	}()
	lx := newLexer(strings.NewReader("("+src+"\n)"), sc.opts.MaxLiteral, feats)
	p := newParser(lx, sc, feats)
	p.resetBudget()
	return p.testListStar()
}
