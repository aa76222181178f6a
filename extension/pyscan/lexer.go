package pyscan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The lexer turns a stream of Python 2 or 3 source into tokens with memory
// bounded by the longest value it keeps (Options.MaxLiteral), whatever the
// size of the file, of a comment or of a literal: it reads through a fixed
// buffer and keeps only a prefix of each long name, number or string.

type tokKind uint8

const (
	tEOF tokKind = iota
	tNewline
	tIndent
	tDedent
	tName
	tNumber
	tString
	tOp
)

type token struct {
	kind tokKind
	prec int8   // a binary operator's precedence level (binLevels), 0 if none
	text string // a name, an operator, a number's text (prefix)
	line int
	str  *strLit
}

// strLit is one string literal token: its value, or a prefix of it.
type strLit struct {
	value     []byte
	truncated bool
	bytes     bool
	raw       bool
	fstr      bool     // an f-string (or t-string): value shows fields as {expr}
	fields    []string // sources of an f-string's replacement fields
	line      int
}

const (
	bufSize = 8 << 10
	// maxIndent is CPython's tokenizer limit (MAXINDENT, both 2.7 and 3.x).
	maxIndent = 100
	// maxBrackets is CPython's tokenizer limit on open brackets (MAXLEVEL).
	maxBrackets = 200
	// py2MaxBrackets: CPython 2.7's parser overflows its stack beyond 98
	// nested parentheses (fewer for nested calls; 3.6-3.8 likewise).
	py2MaxBrackets = 98
	// maxName bounds the stored text of a name or number token.
	maxName = 256
	// maxFields bounds the replacement fields kept of one f-string and
	// maxFieldSrc the source kept of each.
	maxFields   = 64
	maxFieldSrc = 4 << 10
	// maxFStringNesting bounds f-strings nested in replacement fields.
	maxFStringNesting = 150
)

type lexer struct {
	r        io.Reader
	buf      []byte
	pos, end int
	readErr  error
	eof      bool

	line           int
	brackets       []byte
	indents        []int
	altIndents     []int
	atBOL          bool
	lineHasTokens  bool
	pendingDedents int
	lastKind       tokKind
	doneEOF        bool

	maxLit int
	feats  *features

	// PEP 263: a coding declaration (or a UTF-8 BOM) on line 1 or 2
	cookie       bool
	cookieUTF8   bool
	line1Code    bool // line 1 held code, so line 2 cannot declare
	nonASCIILine int  // first line with a byte >= 0x80 (0: none)
	fstrDepth    int
	// unicodeLiterals: from __future__ import unicode_literals
	unicodeLiterals bool
	num             numBuf // scratch for number()
	names           map[string]string
	nameBuf         []byte
}

func newLexer(r io.Reader, maxLit int, feats *features) *lexer {
	size := bufSize
	if l, ok := r.(interface{ Len() int }); ok {
		// most modules and exec'd strings are far smaller than the buffer
		size = min(max(l.Len()+1, 512), bufSize)
	}
	lx := &lexer{r: r, buf: make([]byte, size), line: 1, atBOL: true,
		indents: []int{0}, altIndents: []int{0}, maxLit: maxLit, feats: feats, lastKind: tNewline}
	// a UTF-8 byte order mark declares the encoding
	if lx.peek(0) == 0xEF && lx.peek(1) == 0xBB && lx.peek(2) == 0xBF {
		lx.pos += 3
		lx.cookie, lx.cookieUTF8 = true, true
	}
	return lx
}

// errRead marks an error of the underlying reader, as opposed to a
// syntax error.
type readError struct{ err error }

func (e *readError) Error() string { return "read: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// fill makes at least n bytes available from pos unless the input ends
// first; it reports how many are.
func (lx *lexer) fill(n int) int {
	if n > len(lx.buf) {
		// the buffer was sized for a small input; a look further ahead
		// needs room for it
		lx.buf = append(lx.buf, make([]byte, n-len(lx.buf))...)
	}
	for lx.end-lx.pos < n && !lx.eof {
		if lx.pos > 0 {
			copy(lx.buf, lx.buf[lx.pos:lx.end])
			lx.end -= lx.pos
			lx.pos = 0
		}
		m, err := lx.r.Read(lx.buf[lx.end:])
		lx.end += m
		if err != nil {
			lx.eof = true
			if !errors.Is(err, io.EOF) {
				lx.readErr = err
				fail(&readError{err})
			}
		}
	}
	return lx.end - lx.pos
}

// peek returns the byte i ahead of the current one, or -1 at the end.
func (lx *lexer) peek(i int) int {
	if lx.pos+i >= lx.end && lx.fill(i+1) <= i {
		return -1
	}
	return int(lx.buf[lx.pos+i])
}

func (lx *lexer) errorf(msg string) { fail(&Error{Line: lx.line, Msg: msg}) }

// nonASCII notes a byte >= 0x80 outside a coding declaration's reach:
// Python 2 refuses the file (PEP 263), Python 3 reads it as UTF-8.
func (lx *lexer) nonASCII() {
	if lx.nonASCIILine == 0 {
		lx.nonASCIILine = lx.line
	}
}

// newline consumes a line end (\n, \r\n or \r: Python reads all three).
func (lx *lexer) newline() {
	if lx.peek(0) == '\r' && lx.peek(1) == '\n' {
		lx.pos += 2
	} else {
		lx.pos++
	}
	if lx.line == 1 && lx.lineHasTokens {
		lx.line1Code = true
	}
	lx.line++
}

func isNL(c int) bool { return c == '\n' || c == '\r' }

func isIdentStart(c int) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdent(c int) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func isDigit(c int) bool { return c >= '0' && c <= '9' }

// next returns the next token.
func (lx *lexer) next() token {
	t := lx.scan()
	lx.lastKind = t.kind
	return t
}

func (lx *lexer) scan() token {
	for {
		if lx.pendingDedents > 0 {
			lx.pendingDedents--
			return token{kind: tDedent, line: lx.line}
		}
		if lx.atBOL && len(lx.brackets) == 0 {
			if t, ok := lx.indentation(); ok {
				return t
			}
			if lx.atBOL {
				continue // a blank line was consumed
			}
		}
		// whitespace between tokens
		for {
			c := lx.peek(0)
			if c == ' ' || c == '\t' || c == '\f' {
				lx.pos++
				continue
			}
			break
		}
		c := lx.peek(0)
		switch {
		case c < 0:
			return lx.atEOF()
		case c == '#' || c == 0:
			lx.comment()
		case c == '\\':
			lx.pos++
			switch c2 := lx.peek(0); {
			case isNL(c2):
				lx.newline()
			case c2 < 0:
				// Python 2 and 3.6-3.7 accept a backslash at the end of the file
			default:
				lx.errorf("unexpected character after line continuation character")
			}
		case isNL(c):
			lx.newline()
			if len(lx.brackets) > 0 {
				continue
			}
			lx.atBOL = true
			if lx.lineHasTokens {
				lx.lineHasTokens = false
				return token{kind: tNewline, line: lx.line - 1}
			}
		case isIdentStart(c):
			lx.lineHasTokens = true
			return lx.name()
		case isDigit(c) || c == '.' && isDigit(lx.peek(1)):
			lx.lineHasTokens = true
			return lx.number()
		case c == '\'' || c == '"':
			lx.lineHasTokens = true
			return lx.stringToken("")
		default:
			lx.lineHasTokens = true
			return lx.operator()
		}
	}
}

// indentation measures a line's indentation at its start. A blank or
// comment-only line is consumed (atBOL stays true); otherwise it returns an
// INDENT or DEDENT token when the level changes.
func (lx *lexer) indentation() (token, bool) {
	col, alt := 0, 0
	for {
		switch lx.peek(0) {
		case ' ':
			col++
			alt++
		case '\t':
			col = (col/8 + 1) * 8
			alt++
		case '\f':
			col, alt = 0, 0
		default:
			goto measured
		}
		lx.pos++
	}
measured:
	switch c := lx.peek(0); {
	case c == '#' || c == 0:
		lx.comment()
		if lx.peek(0) >= 0 {
			lx.newline()
		}
		return token{}, false
	case isNL(c):
		lx.newline()
		return token{}, false
	case c < 0:
		lx.atBOL = false
		return token{}, false
	case c == '\\' && isNL(lx.peek(1)):
		// a continuation line joined to an empty line: the line's
		// indentation is taken from here (as CPython does)
	}
	lx.atBOL = false
	top := len(lx.indents) - 1
	switch {
	case col == lx.indents[top]:
		if alt != lx.altIndents[top] {
			lx.inconsistentTabs()
		}
	case col > lx.indents[top]:
		if len(lx.indents) >= maxIndent {
			lx.errorf("too many levels of indentation")
		}
		if alt <= lx.altIndents[top] {
			lx.inconsistentTabs()
		}
		lx.indents = append(lx.indents, col)
		lx.altIndents = append(lx.altIndents, alt)
		return token{kind: tIndent, line: lx.line}, true
	default:
		n := 0
		for len(lx.indents) > 1 && col < lx.indents[len(lx.indents)-1] {
			lx.indents = lx.indents[:len(lx.indents)-1]
			lx.altIndents = lx.altIndents[:len(lx.altIndents)-1]
			n++
		}
		if col != lx.indents[len(lx.indents)-1] {
			lx.errorf("unindent does not match any outer indentation level")
		}
		if alt != lx.altIndents[len(lx.altIndents)-1] {
			lx.inconsistentTabs()
		}
		lx.pendingDedents = n - 1
		return token{kind: tDedent, line: lx.line}, true
	}
	return token{}, false
}

// nulByte: Python 3 refuses a null byte anywhere in the source; Python 2
// ignores the rest of its line (outside a string literal).
func (lx *lexer) nulByte() {
	lx.feats.py2(lx.line, "a null byte")
}

func (lx *lexer) inconsistentTabs() {
	lx.feats.py2(lx.line, "inconsistent use of tabs and spaces in indentation (TabError)")
}

func (lx *lexer) atEOF() token {
	if len(lx.brackets) > 0 {
		lx.errorf("unexpected EOF: '" + string(lx.brackets[len(lx.brackets)-1]) + "' was never closed")
	}
	if lx.lineHasTokens {
		lx.lineHasTokens = false
		return token{kind: tNewline, line: lx.line}
	}
	if len(lx.indents) > 1 {
		lx.indents = lx.indents[:len(lx.indents)-1]
		lx.altIndents = lx.altIndents[:len(lx.altIndents)-1]
		return token{kind: tDedent, line: lx.line}
	}
	return token{kind: tEOF, line: lx.line}
}

// comment skips a comment up to (not including) its line end, checking a
// coding declaration on lines 1 and 2.
func (lx *lexer) comment() {
	declLine := lx.line == 1 || lx.line == 2 && !lx.line1Code
	var head []byte
	for {
		if lx.pos >= lx.end && lx.fill(1) == 0 {
			break
		}
		// the comment's part in the buffer, found with the vectorized
		// IndexByte: a padded comment is read at memory speed
		chunk := lx.buf[lx.pos:lx.end]
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			i = len(chunk)
		}
		if j := bytes.IndexByte(chunk[:i], '\r'); j >= 0 {
			i = j
		}
		if bytes.IndexByte(chunk[:i], 0) >= 0 {
			lx.nulByte()
		}
		if lx.nonASCIILine == 0 && hasHigh(chunk[:i]) {
			lx.nonASCII()
		}
		if declLine && len(head) < 512 {
			head = append(head, chunk[:min(i, 512-len(head))]...)
		}
		lx.pos += i
		if i < len(chunk) {
			break
		}
	}
	if declLine && !lx.cookie {
		if enc, ok := codingDecl(string(head)); ok {
			lx.cookie = true
			lx.cookieUTF8 = isUTF8Name(enc)
		}
	}
}

// hasHigh reports a byte >= 0x80, eight bytes at a time.
func hasHigh(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

func isUTF8Name(enc string) bool {
	e := strings.ToLower(strings.ReplaceAll(enc, "_", "-"))
	return e == "utf-8" || e == "utf8" || strings.HasPrefix(e, "utf-8-")
}

// codingDecl matches PEP 263's regular expression on a comment
// ("#.*?coding[:=][ \t]*([-\w.]+)").
func codingDecl(comment string) (string, bool) {
	for i := 0; i+7 <= len(comment); i++ {
		if comment[i:i+6] != "coding" || (comment[i+6] != ':' && comment[i+6] != '=') {
			continue
		}
		j := i + 7
		for j < len(comment) && (comment[j] == ' ' || comment[j] == '\t') {
			j++
		}
		k := j
		for k < len(comment) && (isIdent(int(comment[k])) && comment[k] < 0x80 || comment[k] == '-' || comment[k] == '.') {
			k++
		}
		if k > j {
			return comment[j:k], true
		}
	}
	return "", false
}

// name reads an identifier, or a string literal's prefix and the literal.
func (lx *lexer) name() token {
	b := lx.nameBuf[:0]
	defer func() { lx.nameBuf = b[:0] }()
	truncated := false
	for {
		c := lx.peek(0)
		if !isIdent(c) {
			break
		}
		if c >= 0x80 {
			lx.nonASCII()
			lx.feats.py3(lx.line, "a non-ASCII identifier")
		}
		if len(b) < maxName {
			b = append(b, byte(c))
		} else {
			truncated = true
		}
		lx.pos++
	}
	if c := lx.peek(0); (c == '\'' || c == '"') && !truncated && len(b) <= 2 {
		if isStringPrefix(string(b)) {
			return lx.stringToken(string(b))
		}
	}
	var text string
	if truncated {
		text = string(b) + "…"
	} else {
		text = lx.intern(b)
	}
	return token{kind: tName, text: text, line: lx.line}
}

// maxInterned bounds the names a lexer interns.
const maxInterned = 4096

// intern returns one string per distinct name, so that the names a module
// repeats (self, os, dnf) are allocated once.
func (lx *lexer) intern(b []byte) string {
	if s, ok := lx.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(lx.names) < maxInterned {
		if lx.names == nil {
			lx.names = map[string]string{}
		}
		lx.names[s] = s
	}
	return s
}

// isStringPrefix accepts the prefixes of Python 2 and 3 (and 3.14's
// template strings), any case.
func isStringPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "u", "b", "br", "rb", "f", "fr", "rf", "ur", "t", "tr", "rt":
		return true
	}
	return false
}

// number reads a numeric literal. Python 2's octal (0777) and long (10L)
// forms and Python 3's underscores are dialect features.
// digitOK reports a digit of a literal in base ('d', 'x', 'o', 'b').
func digitOK(base byte, c int) bool {
	switch base {
	case 'x':
		return isHex(c)
	case 'o':
		return c >= '0' && c <= '7'
	case 'b':
		return c == '0' || c == '1'
	}
	return isDigit(c)
}

// numBuf collects a number's text, keeping at most maxName bytes.
type numBuf struct {
	b          []byte
	underscore bool
}

func (lx *lexer) put(nb *numBuf, c int) {
	if len(nb.b) < maxName {
		nb.b = append(nb.b, byte(c))
	}
	lx.pos++
}

// digits reads digits of base, with single underscores between them.
func (lx *lexer) digits(nb *numBuf, base byte) {
	for {
		c := lx.peek(0)
		if c == '_' && digitOK(base, lx.peek(1)) {
			nb.underscore = true
			lx.put(nb, c)
			continue
		}
		if !digitOK(base, c) {
			return
		}
		lx.put(nb, c)
	}
}

func (lx *lexer) number() token {
	line := lx.line
	nb := &lx.num
	nb.b, nb.underscore = nb.b[:0], false
	isFloat := false
	c0, c1 := lx.peek(0), lx.peek(1)
	switch {
	case c0 == '0' && strings.IndexByte("xXoObB", byte(c1)) >= 0 && c1 > 0:
		base := byte(c1) | 0x20
		lx.put(nb, c0)
		lx.put(nb, c1)
		if lx.peek(0) == '_' {
			nb.underscore = true
			lx.put(nb, '_')
		}
		if !digitOK(base, lx.peek(0)) {
			lx.errorf(map[byte]string{'x': "invalid hexadecimal literal", 'o': "invalid octal literal", 'b': "invalid binary literal"}[base])
		}
		lx.digits(nb, base)
	default:
		lx.digits(nb, 'd')
		if lx.peek(0) == '.' {
			isFloat = true
			lx.put(nb, '.')
			lx.digits(nb, 'd')
		}
		if c := lx.peek(0); c == 'e' || c == 'E' {
			c1, c2 := lx.peek(1), lx.peek(2)
			if isDigit(c1) || (c1 == '+' || c1 == '-') && isDigit(c2) {
				isFloat = true
				lx.put(nb, c)
				if !isDigit(c1) {
					lx.put(nb, c1)
				}
				lx.digits(nb, 'd')
			}
		}
		if c := lx.peek(0); c == 'j' || c == 'J' {
			isFloat = true
			lx.put(nb, c)
		}
		if !isFloat && len(nb.b) > 1 && nb.b[0] == '0' {
			text := string(nb.b)
			if strings.Trim(text, "0_") != "" {
				// a leading zero: Python 2's octal, an error in Python 3
				if strings.ContainsAny(text, "89") {
					lx.errorf("invalid octal literal " + text)
				}
				lx.feats.py2(line, "an octal literal without 0o ("+text+")")
			}
		}
	}
	if c := lx.peek(0); (c == 'l' || c == 'L') && !isFloat {
		lx.put(nb, c)
		lx.feats.py2(line, "a long integer literal ("+string(nb.b)+")")
	}
	if nb.underscore {
		lx.feats.py3(line, "underscores in a number literal")
	}
	return token{kind: tNumber, text: internNum(nb.b), line: line}
}

// smallNums are the texts of the numbers 0-99, so that a long display of
// small numbers allocates nothing per item.
var smallNums = func() (t [100]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return
}()

func internNum(b []byte) string {
	switch {
	case len(b) == 1 && isDigit(int(b[0])):
		return smallNums[b[0]-'0']
	case len(b) == 2 && b[0] != '0' && isDigit(int(b[0])) && isDigit(int(b[1])):
		return smallNums[(b[0]-'0')*10+b[1]-'0']
	}
	return string(b)
}

// ops1 are the one-character operators, as strings that need no
// allocation.
var ops1 [128]string

func init() {
	for _, c := range "+-*/%&|^~<>()[]{},:.;@=`" {
		ops1[c] = string(c)
	}
}

// multiOp returns the two- or three-character operator that starts look.
func multiOp(look [3]byte, n int) string {
	if n >= 3 {
		switch string(look[:3]) {
		case "**=":
			return "**="
		case "//=":
			return "//="
		case ">>=":
			return ">>="
		case "<<=":
			return "<<="
		case "...":
			return "..."
		}
	}
	if n < 2 {
		return ""
	}
	switch string(look[:2]) {
	case "**":
		return "**"
	case "//":
		return "//"
	case ">>":
		return ">>"
	case "<<":
		return "<<"
	case "<=":
		return "<="
	case ">=":
		return ">="
	case "==":
		return "=="
	case "!=":
		return "!="
	case "<>":
		return "<>"
	case "->":
		return "->"
	case "+=":
		return "+="
	case "-=":
		return "-="
	case "*=":
		return "*="
	case "/=":
		return "/="
	case "%=":
		return "%="
	case "&=":
		return "&="
	case "|=":
		return "|="
	case "^=":
		return "^="
	case "@=":
		return "@="
	case ":=":
		return ":="
	}
	return ""
}

func (lx *lexer) operator() token {
	line := lx.line
	var look [3]byte
	n := 0
	for n < 3 {
		c := lx.peek(n)
		if c < 0 {
			break
		}
		look[n] = byte(c)
		n++
	}
	op := multiOp(look, n)
	if op == "" && look[0] < 128 {
		op = ops1[look[0]]
	}
	if op != "" {
		lx.pos += len(op)
		switch op {
		case "(", "[", "{":
			if len(lx.brackets) >= maxBrackets {
				lx.errorf("too many nested parentheses")
			}
			lx.brackets = append(lx.brackets, op[0])
			if len(lx.brackets) > py2MaxBrackets {
				lx.feats.py3(line, "brackets nested deeper than Python 2's parser allows")
			}
		case ")", "]", "}":
			if len(lx.brackets) == 0 {
				lx.errorf("unmatched '" + op + "'")
			}
			open := lx.brackets[len(lx.brackets)-1]
			if open != map[string]byte{")": '(', "]": '[', "}": '{'}[op] {
				lx.errorf("closing parenthesis '" + op + "' does not match opening parenthesis '" + string(open) + "'")
			}
			lx.brackets = lx.brackets[:len(lx.brackets)-1]
		case "<>":
			lx.feats.py2(line, "the <> operator")
		case "`":
			lx.feats.py2(line, "backquotes (repr)")
		}
		return token{kind: tOp, text: op, line: line, prec: binPrec(op)}
	}
	c := look[0]
	if c >= 0x80 {
		r, _ := utf8.DecodeRune(look[:n])
		lx.errorf("invalid character " + string(r))
	}
	lx.errorf("invalid character '" + string(rune(c)) + "'")
	return token{}
}
