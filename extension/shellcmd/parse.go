package shellcmd

import (
	"strconv"
	"strings"
)

// Bounds on untrusted input. The shell has none this low, so reaching one
// is reported (SyntaxError.Limit), never taken for the end of the string.
const (
	// MaxDepth bounds nesting: compound commands, substitutions, and
	// strings read again as code (`sh -c`, eval), together.
	MaxDepth = 64
	// maxWords bounds the words read for one top-level command string,
	// nested strings included.
	maxWords = 200000
)

// Parse reads src as `sh -c src` (dialect Sh) or `bash -c src` would.
func Parse(src string, d Dialect) *Program {
	return parseProgram(src, d, 0, &budget{words: maxWords})
}

type budget struct{ words int }

type tokKind int

const (
	tEOF tokKind = iota
	tNewline
	tOp
	tWord
	tIONum
)

type token struct {
	kind       tokKind
	op         string // operator or IO number text
	word       Word
	start, end int
}

type parser struct {
	src     string
	pos     int
	d       Dialect
	depth   int
	budget  *budget
	tok     *token
	lastEnd int         // end of the last token taken
	pending []*Redirect // here-documents whose bodies follow the next newline
	// incremental line counting: line of position linePos
	linePos, line int
}

// stop is a syntax error or a bound, unwinding the parse.
type stop struct{ err *SyntaxError }

func parseProgram(src string, d Dialect, depth int, b *budget) *Program {
	p := &parser{src: src, d: d, depth: depth, budget: b, line: 1}
	prog := &Program{Dialect: d, List: &List{}}
	func() {
		defer func() {
			if r := recover(); r != nil {
				s, ok := r.(stop)
				if !ok {
					panic(r)
				}
				prog.Err = s.err
			}
		}()
		p.top(prog.List)
	}()
	return prog
}

// top reads complete commands line by line, as dash does: a line is
// parsed whole before any of it runs, so a syntax error keeps the lines
// before it and drops its own.
func (p *parser) top(out *List) {
	var line []*AndOr
	for {
		t := p.peek()
		switch t.kind {
		case tEOF:
			out.Items = append(out.Items, line...)
			return
		case tNewline:
			p.next()
			out.Items = append(out.Items, line...)
			line = nil
			continue
		}
		line = append(line, p.andOr())
		t = p.peek()
		switch {
		case t.kind == tOp && (t.op == ";" || t.op == "&"):
			p.next()
		case t.kind == tNewline || t.kind == tEOF:
		default:
			p.fail(t, "unexpected "+describe(t))
		}
	}
}

func (p *parser) child(src string, pos int) *parser {
	if p.depth+1 > MaxDepth {
		p.limit(p.pos, "nested deeper than "+strconv.Itoa(MaxDepth)+" levels")
	}
	c := &parser{src: src, pos: pos, d: p.d, depth: p.depth + 1, budget: p.budget, line: 1}
	if src == p.src && p.linePos <= pos {
		// same text: go on counting lines from where p is
		c.linePos, c.line = p.linePos, p.line
	}
	return c
}

// lineAt is the 1-based line of pos, counted incrementally.
func (p *parser) lineAt(pos int) int {
	if pos < p.linePos {
		p.linePos, p.line = 0, 1
	}
	if pos > len(p.src) {
		pos = len(p.src)
	}
	p.line += strings.Count(p.src[p.linePos:pos], "\n")
	p.linePos = pos
	return p.line
}

func (p *parser) fail(t *token, msg string) {
	panic(stop{&SyntaxError{Line: p.lineAt(t.start), Msg: msg}})
}

func (p *parser) failAt(pos int, msg string) {
	panic(stop{&SyntaxError{Line: p.lineAt(pos), Msg: msg}})
}

func (p *parser) limit(pos int, msg string) {
	panic(stop{&SyntaxError{Line: p.lineAt(pos), Msg: msg, Limit: true}})
}

func (p *parser) enter() {
	p.depth++
	if p.depth > MaxDepth {
		p.limit(p.pos, "nested deeper than "+strconv.Itoa(MaxDepth)+" levels")
	}
}

func (p *parser) leave() { p.depth-- }

func describe(t *token) string {
	switch t.kind {
	case tEOF:
		return "end of string"
	case tNewline:
		return "newline"
	case tWord:
		return "word " + quoteForMsg(t.word.Raw)
	}
	return quoteForMsg(t.op)
}

func quoteForMsg(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + s + "\""
}

// ---- tokens ----

func (p *parser) peek() *token {
	if p.tok == nil {
		t := p.lex()
		p.tok = &t
	}
	return p.tok
}

func (p *parser) next() *token {
	t := p.peek()
	p.tok = nil
	p.lastEnd = t.end
	return t
}

func (p *parser) skipNewlines() {
	for p.peek().kind == tNewline {
		p.next()
	}
}

// isWord reports an unquoted word spelled w (a reserved word where the
// grammar allows one).
func isWord(t *token, w string) bool {
	return t.kind == tWord && !t.word.Quoted && t.word.Dynamic == "" && t.word.Raw == w
}

func isOp(t *token, ops ...string) bool {
	if t.kind != tOp {
		return false
	}
	for _, o := range ops {
		if t.op == o {
			return true
		}
	}
	return false
}

func (p *parser) expectWord(w string) {
	t := p.next()
	if !isWord(t, w) {
		p.fail(t, "expected \""+w+"\", found "+describe(t))
	}
}

func (p *parser) expectOp(op string) {
	t := p.next()
	if !isOp(t, op) {
		p.fail(t, "expected \""+op+"\", found "+describe(t))
	}
}

func (p *parser) skipBlanks() {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t':
			p.pos++
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n':
			p.pos += 2
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

var (
	shOps   = []string{"&&", "||", ";;", "<<-", "<<", ">>", "<&", ">&", "<>", ">|", "&", "|", ";", "(", ")", "<", ">"}
	bashOps = []string{"&>>", ";;&", "<<<", "<<-", "&>", "|&", ";&", "&&", "||", ";;", "<<", ">>", "<&", ">&", "<>", ">|", "&", "|", ";", "(", ")", "<", ">"}
)

func isMeta(c byte) bool {
	switch c {
	case ' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>':
		return true
	}
	return false
}

func (p *parser) lex() token {
	p.skipBlanks()
	start := p.pos
	if p.pos >= len(p.src) {
		return token{kind: tEOF, start: start, end: start}
	}
	c := p.src[p.pos]
	if c == '\n' {
		p.pos++
		p.readHeredocs()
		return token{kind: tNewline, start: start, end: start + 1}
	}
	if isMeta(c) {
		if p.d == Bash && (c == '<' || c == '>') && strings.HasPrefix(p.src[p.pos+1:], "(") {
			return p.wordToken(start)
		}
		ops := shOps
		if p.d == Bash {
			ops = bashOps
		}
		for _, o := range ops {
			if strings.HasPrefix(p.src[p.pos:], o) {
				p.pos += len(o)
				return token{kind: tOp, op: o, start: start, end: p.pos}
			}
		}
	}
	return p.wordToken(start)
}

func (p *parser) wordToken(start int) token {
	p.budget.words--
	if p.budget.words < 0 {
		p.limit(start, "more than "+strconv.Itoa(maxWords)+" words")
	}
	w := p.scanWord()
	if p.pos < len(p.src) && (p.src[p.pos] == '<' || p.src[p.pos] == '>') && allDigits(w.Raw) {
		return token{kind: tIONum, op: w.Raw, start: start, end: p.pos}
	}
	return token{kind: tWord, word: w, start: start, end: p.pos}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ---- grammar ----

// list reads and-or lists up to a token end accepts (not taken).
func (p *parser) list(end func(*token) bool) *List {
	l := &List{}
	for {
		p.skipNewlines()
		t := p.peek()
		if t.kind == tEOF || end(t) {
			return l
		}
		l.Items = append(l.Items, p.andOr())
		t = p.peek()
		switch {
		case isOp(t, ";", "&"):
			p.next()
		case t.kind == tNewline, t.kind == tEOF, end(t):
		default:
			p.fail(t, "unexpected "+describe(t))
		}
	}
}

// body is a list that must not be empty, ended by one of the words.
func (p *parser) body(what string, words ...string) *List {
	l := p.list(func(t *token) bool {
		for _, w := range words {
			if isWord(t, w) {
				return true
			}
		}
		return false
	})
	if len(l.Items) == 0 {
		p.fail(p.peek(), "empty "+what+" before "+describe(p.peek()))
	}
	return l
}

func (p *parser) andOr() *AndOr {
	ao := &AndOr{Pipes: []*Pipeline{p.pipeline()}}
	for isOp(p.peek(), "&&", "||") {
		p.next()
		p.skipNewlines()
		ao.Pipes = append(ao.Pipes, p.pipeline())
	}
	return ao
}

func (p *parser) pipeline() *Pipeline {
	pl := &Pipeline{}
	for isWord(p.peek(), "!") {
		p.next()
		pl.Bang = !pl.Bang
		switch t := p.peek(); {
		case p.d == Sh && isWord(t, "!"):
			// dash takes one "!" (bash takes more)
			p.fail(t, "unexpected \"!\"")
		case p.d == Bash && (t.kind == tNewline || t.kind == tEOF || isOp(t, ";", "&", ")", ";;")):
			// bash takes "!" with no command
			return pl
		}
	}
	pl.Cmds = append(pl.Cmds, p.command())
	for isOp(p.peek(), "|", "|&") {
		p.next()
		p.skipNewlines()
		pl.Cmds = append(pl.Cmds, p.command())
	}
	return pl
}

// reserved words that cannot start a command
var misplaced = map[string]bool{"then": true, "else": true, "elif": true, "fi": true, "do": true, "done": true, "esac": true, "}": true, "in": true, "!": true}

func (p *parser) command() Node {
	p.enter()
	defer p.leave()
	if p.atArith() {
		return p.arithCommand()
	}
	t := p.peek()
	switch t.kind {
	case tOp:
		if t.op == "(" {
			p.next()
			body := p.list(func(t *token) bool { return isOp(t, ")") })
			if len(body.Items) == 0 {
				p.fail(p.peek(), "empty subshell")
			}
			p.expectOp(")")
			return &Compound{Kind: "(", Subshell: true, Lists: []*List{body}, Redirs: p.redirects()}
		}
		if !isRedirOp(t.op) {
			p.fail(t, "unexpected "+describe(t))
		}
	case tWord:
		if !t.word.Quoted && t.word.Dynamic == "" {
			switch w := t.word.Raw; {
			case w == "{":
				p.next()
				b := p.body("{ } body", "}")
				p.expectWord("}")
				return &Compound{Kind: "{", Lists: []*List{b}, Redirs: p.redirects()}
			case w == "if":
				return p.ifCommand()
			case w == "while" || w == "until":
				p.next()
				cond := p.body(w+" condition", "do")
				p.expectWord("do")
				b := p.body("do body", "done")
				p.expectWord("done")
				return &Compound{Kind: w, Lists: []*List{cond, b}, Redirs: p.redirects()}
			case w == "for" || (p.d == Bash && w == "select"):
				return p.forCommand()
			case w == "case":
				return p.caseCommand()
			case p.d == Bash && w == "function":
				return p.functionKeyword()
			case p.d == Bash && w == "[[":
				return p.condCommand()
			case misplaced[w] || (p.d == Bash && w == "]]"):
				p.fail(t, "unexpected "+describe(t))
			}
		}
	case tNewline, tEOF:
		p.fail(t, "unexpected "+describe(t))
	}
	return p.simple()
}

// atArith reports bash's "((" at the start of a command; a "(" already
// peeked is put back.
func (p *parser) atArith() bool {
	if p.d != Bash {
		return false
	}
	if p.tok != nil {
		if isOp(p.tok, "(") && strings.HasPrefix(p.src[p.tok.start:], "((") {
			p.pos, p.tok = p.tok.start, nil
			return true
		}
		return false
	}
	p.skipBlanks()
	return strings.HasPrefix(p.src[p.pos:], "((")
}

func isRedirOp(op string) bool {
	switch op {
	case "<", ">", ">>", "<&", ">&", "<>", ">|", "<<", "<<-", "&>", "&>>", "<<<":
		return true
	}
	return false
}

// redirect reads one redirection; the IO number or operator is next. A
// here-document is queued: its body follows the next newline.
func (p *parser) redirect() *Redirect {
	r := &Redirect{}
	t := p.next()
	if t.kind == tIONum {
		r.Fd = t.op
		t = p.next()
	}
	if t.kind != tOp || !isRedirOp(t.op) {
		p.fail(t, "expected a redirection, found "+describe(t))
	}
	r.Op = t.op
	w := p.next()
	if w.kind != tWord {
		p.fail(w, "expected a word after "+r.Op+", found "+describe(w))
	}
	r.Target = w.word
	if r.Op == "<<" || r.Op == "<<-" {
		r.Body = &Word{}
		p.pending = append(p.pending, r)
	}
	return r
}

func (p *parser) atRedirect() bool {
	t := p.peek()
	return t.kind == tIONum || (t.kind == tOp && isRedirOp(t.op))
}

func (p *parser) redirects() []*Redirect {
	var rs []*Redirect
	for p.atRedirect() {
		rs = append(rs, p.redirect())
	}
	return rs
}

func (p *parser) simple() Node {
	s := &Simple{}
	start := p.peek().start
	s.Line = p.lineAt(start)
	for {
		t := p.peek()
		if p.atRedirect() {
			s.Redirs = append(s.Redirs, p.redirect())
			continue
		}
		if t.kind != tWord {
			break
		}
		p.next()
		if name, ok := assignName(t.word.Raw); ok && len(s.Words) == 0 {
			v := t.word
			v.Raw = t.word.Raw[len(name)+1:]
			v.Lit = strings.TrimPrefix(t.word.Lit, name+"=")
			if strings.HasSuffix(name, "+") {
				name = strings.TrimSuffix(name, "+")
			}
			s.Assigns = append(s.Assigns, Assign{Name: name, Value: v})
			continue
		}
		s.Words = append(s.Words, t.word)
		if len(s.Words) == 1 && len(s.Assigns) == 0 && len(s.Redirs) == 0 && isOp(p.peek(), "(") && !t.word.Quoted && t.word.Dynamic == "" {
			p.next()
			p.expectOp(")")
			p.skipNewlines()
			return &FuncDef{Name: t.word.Raw, Body: p.funcBody()}
		}
	}
	if len(s.Words) == 0 && len(s.Assigns) == 0 && len(s.Redirs) == 0 {
		p.fail(p.peek(), "unexpected "+describe(p.peek()))
	}
	s.Text = strings.TrimSpace(p.src[start:p.lastEnd])
	return s
}

// assignName returns NAME of a NAME=value (or bash NAME+=value) word.
func assignName(raw string) (string, bool) {
	i := 0
	for i < len(raw) && (raw[i] == '_' || isAlpha(raw[i]) || (i > 0 && isDigit(raw[i]))) {
		i++
	}
	if i == 0 || i >= len(raw) {
		return "", false
	}
	if raw[i] == '=' {
		return raw[:i], true
	}
	if raw[i] == '+' && i+1 < len(raw) && raw[i+1] == '=' {
		return raw[:i+1], true
	}
	return "", false
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (p *parser) ifCommand() Node {
	p.next()
	c := &Compound{Kind: "if"}
	c.Lists = append(c.Lists, p.body("if condition", "then"))
	p.expectWord("then")
	c.Lists = append(c.Lists, p.body("then body", "elif", "else", "fi"))
	for isWord(p.peek(), "elif") {
		p.next()
		c.Lists = append(c.Lists, p.body("elif condition", "then"))
		p.expectWord("then")
		c.Lists = append(c.Lists, p.body("then body", "elif", "else", "fi"))
	}
	if isWord(p.peek(), "else") {
		p.next()
		c.Lists = append(c.Lists, p.body("else body", "fi"))
	}
	p.expectWord("fi")
	c.Redirs = p.redirects()
	return c
}

func (p *parser) forCommand() Node {
	kw := p.next()
	c := &Compound{Kind: "for"}
	if kw.word.Raw == "for" && p.atArith() {
		c.Words = p.arithCommand().(*Compound).Words
		if isOp(p.peek(), ";") {
			p.next()
		}
		return p.doGroup(c)
	}
	name := p.next()
	if name.kind != tWord {
		p.fail(name, "expected a name after for, found "+describe(name))
	}
	p.skipNewlines()
	if isWord(p.peek(), "in") {
		p.next()
		for p.peek().kind == tWord {
			c.Words = append(c.Words, p.next().word)
		}
		t := p.next()
		if !isOp(t, ";") && t.kind != tNewline {
			p.fail(t, "expected \";\" or newline after the for list, found "+describe(t))
		}
	} else if isOp(p.peek(), ";") {
		p.next()
	}
	return p.doGroup(c)
}

func (p *parser) doGroup(c *Compound) Node {
	p.skipNewlines()
	if p.d == Bash && isWord(p.peek(), "{") {
		p.next()
		c.Lists = append(c.Lists, p.body("for body", "}"))
		p.expectWord("}")
	} else {
		p.expectWord("do")
		c.Lists = append(c.Lists, p.body("do body", "done"))
		p.expectWord("done")
	}
	c.Redirs = p.redirects()
	return c
}

func (p *parser) caseCommand() Node {
	p.next()
	c := &Compound{Kind: "case"}
	w := p.next()
	if w.kind != tWord {
		p.fail(w, "expected a word after case, found "+describe(w))
	}
	c.Words = append(c.Words, w.word)
	p.skipNewlines()
	p.expectWord("in")
	for {
		p.skipNewlines()
		if isWord(p.peek(), "esac") {
			break
		}
		if isOp(p.peek(), "(") {
			p.next()
		}
		for {
			pt := p.next()
			if pt.kind != tWord {
				p.fail(pt, "expected a pattern, found "+describe(pt))
			}
			c.Words = append(c.Words, pt.word)
			if !isOp(p.peek(), "|") {
				break
			}
			p.next()
		}
		p.expectOp(")")
		c.Lists = append(c.Lists, p.list(func(t *token) bool {
			return isOp(t, ";;", ";&", ";;&") || isWord(t, "esac")
		}))
		if isOp(p.peek(), ";;", ";&", ";;&") {
			p.next()
			continue
		}
		break
	}
	p.skipNewlines()
	p.expectWord("esac")
	c.Redirs = p.redirects()
	return c
}

func (p *parser) functionKeyword() Node {
	p.next()
	name := p.next()
	if name.kind != tWord {
		p.fail(name, "expected a function name, found "+describe(name))
	}
	if isOp(p.peek(), "(") {
		p.next()
		p.expectOp(")")
	}
	p.skipNewlines()
	return &FuncDef{Name: name.word.Raw, Body: p.funcBody()}
}

// funcBody is a function's body: any command for dash, a compound
// command for bash.
func (p *parser) funcBody() Node {
	t := p.peek()
	n := p.command()
	if _, ok := n.(*Compound); !ok && p.d == Bash {
		p.fail(t, "a function body must be a compound command, found "+describe(t))
	}
	return n
}

// condCommand is bash's [[ … ]]: operators inside are part of the
// expression, not of the command line.
func (p *parser) condCommand() Node {
	p.next()
	c := &Compound{Kind: "[["}
	for first := true; ; first = false {
		t := p.next()
		switch {
		case t.kind == tEOF:
			p.fail(t, "unexpected end of string in [[ ]]")
		case isWord(t, "]]") && !first:
			// a "]]" right after "[[" is an operand
			c.Redirs = p.redirects()
			return c
		case t.kind == tWord:
			c.Words = append(c.Words, t.word)
		case t.kind == tOp && !isOp(t, "&&", "||", "(", ")", "<", ">"):
			p.fail(t, "unexpected "+describe(t)+" in [[ ]]")
		}
	}
}

// arithCommand is bash's (( … )); pos is at "((".
func (p *parser) arithCommand() Node {
	start := p.pos
	end := matchArith(p.src, p.pos+2)
	if end < 0 {
		p.failAt(start, "unterminated (( ))")
	}
	w := p.expandText(p.src[start+2:end], start+2, true)
	p.pos = end + 2
	p.tok = nil
	p.lastEnd = p.pos
	return &Compound{Kind: "((", Words: []Word{w}, Redirs: p.redirects()}
}

// matchArith returns the index of the "))" closing an arithmetic
// expression whose text starts at i, or -1.
func matchArith(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'', '"':
			q := s[i]
			for i++; i < len(s) && s[i] != q; i++ {
				if s[i] == '\\' && q == '"' {
					i++
				}
			}
		case '(':
			depth++
		case ')':
			if depth == 0 {
				if i+1 < len(s) && s[i+1] == ')' {
					return i
				}
				return -1
			}
			depth--
		}
	}
	return -1
}

// readHeredocs reads the bodies of the here-documents queued on the line
// just ended.
func (p *parser) readHeredocs() {
	pend := p.pending
	p.pending = nil
	for _, r := range pend {
		delim := r.Target.Lit
		var body strings.Builder
		for p.pos < len(p.src) {
			end := strings.IndexByte(p.src[p.pos:], '\n')
			var line string
			next := len(p.src)
			if end >= 0 {
				line = p.src[p.pos : p.pos+end]
				next = p.pos + end + 1
			} else {
				line = p.src[p.pos:]
			}
			cmp := line
			if r.Op == "<<-" {
				cmp = strings.TrimLeft(line, "\t")
			}
			if cmp == delim {
				p.pos = next
				break
			}
			body.WriteString(line)
			body.WriteByte('\n')
			p.pos = next
		}
		if r.Target.Quoted {
			r.Body = &Word{Raw: body.String(), Lit: body.String(), Quoted: true}
		} else {
			w := p.expandText(body.String(), 0, true)
			r.Body = &w
		}
	}
}
