package pyscan

import (
	"strings"
	"unicode/utf8"
)

// stringToken reads a string literal whose prefix (letters, possibly
// empty) has been consumed; the lexer is at its opening quote.
func (lx *lexer) stringToken(prefix string) token {
	line := lx.line
	lp := strings.ToLower(prefix)
	s := &strLit{line: line,
		raw:   strings.Contains(lp, "r"),
		bytes: strings.Contains(lp, "b"),
		fstr:  strings.ContainsAny(lp, "ft"),
	}
	switch {
	case lp == "ur":
		lx.feats.py2(line, "a ur'' string prefix")
	case lp == "rb":
		lx.feats.py3(line, "an rb'' string prefix")
	case s.fstr:
		lx.feats.py3(line, "an f-string")
	}
	lx.stringBody(s, strings.Contains(lp, "u") || lx.unicodeLiterals && !s.bytes)
	return token{kind: tString, text: prefix, line: line, str: s}
}

// stopBytes are the bytes that end a run of ordinary bytes in a literal
// quoted with ' or " (then the same within an f-string, where braces stop
// too).
var stopBytes = func() (t [4][256]bool) {
	for i, quote := range []byte{'\'', '"', '\'', '"'} {
		for _, c := range []byte{quote, '\\', '\n', '\r', 0} {
			t[i][c] = true
		}
		for c := 0x80; c < 0x100; c++ {
			t[i][c] = true
		}
		if i >= 2 {
			t[i]['{'], t[i]['}'] = true, true
		}
	}
	return t
}()

func stopIndex(quote int, fstr bool) int {
	i := 0
	if quote == '"' {
		i = 1
	}
	if fstr {
		i += 2
	}
	return i
}

// utf8check follows the bytes >= 0x80 of a literal to find invalid UTF-8.
type utf8check struct {
	pend [utf8.UTFMax]byte
	n    int
	bad  bool
	seen bool // a source byte >= 0x80
}

func (u *utf8check) byte(b byte) {
	if b < 0x80 {
		if u.n > 0 {
			u.bad = true
			u.n = 0
		}
		return
	}
	u.seen = true
	u.pend[u.n] = b
	u.n++
	if utf8.FullRune(u.pend[:u.n]) {
		if r, size := utf8.DecodeRune(u.pend[:u.n]); r == utf8.RuneError && size <= 1 {
			u.bad = true
		}
		u.n = 0
	}
}

func (u *utf8check) end() bool { return u.bad || u.n > 0 }

func (lx *lexer) add(s *strLit, b ...byte) {
	room := lx.maxLit - len(s.value)
	if room <= 0 {
		if len(b) > 0 {
			s.truncated = true
		}
		return
	}
	if len(b) > room {
		b = b[:room]
		s.truncated = true
	}
	s.value = append(s.value, b...)
}

// stringBody reads from the opening quote to the closing one, keeping a
// bounded prefix of the value.
func (lx *lexer) stringBody(s *strLit, unicode bool) {
	q := lx.peek(0)
	lx.pos++
	triple := lx.peek(0) == q && lx.peek(1) == q
	if triple {
		lx.pos += 2
	}
	var u utf8check
	for {
		c := lx.peek(0)
		switch {
		case c < 0:
			if triple {
				lx.errorf("unterminated triple-quoted string literal")
			}
			lx.errorf("unterminated string literal")
		case c == q:
			if !triple {
				lx.pos++
				lx.endString(s, &u)
				return
			}
			if lx.peek(1) == q && lx.peek(2) == q {
				lx.pos += 3
				lx.endString(s, &u)
				return
			}
			lx.pos++
			lx.add(s, byte(c))
		case c == '\\':
			lx.escape(s, unicode, &u)
		case isNL(c):
			if !triple {
				lx.errorf("unterminated string literal")
			}
			lx.newline()
			lx.add(s, '\n')
		case c == 0:
			lx.errorf("source code cannot contain null bytes")
		case s.fstr && c == '{':
			if lx.peek(1) == '{' {
				lx.pos += 2
				lx.add(s, '{')
				continue
			}
			lx.field(s)
		case s.fstr && c == '}':
			if lx.peek(1) == '}' {
				lx.pos += 2
				lx.add(s, '}')
				continue
			}
			lx.errorf("f-string: single '}' is not allowed")
		case c >= 0x80:
			lx.nonASCII()
			u.byte(byte(c))
			lx.pos++
			lx.add(s, byte(c))
		default:
			// a run of ordinary bytes straight from the buffer
			chunk := lx.buf[lx.pos:lx.end]
			stop := &stopBytes[stopIndex(q, s.fstr)]
			i := 0
			for i < len(chunk) && !stop[chunk[i]] {
				i++
			}
			if u.n > 0 {
				u.byte(chunk[0])
			}
			lx.add(s, chunk[:i]...)
			lx.pos += i
		}
	}
}

func (lx *lexer) endString(s *strLit, u *utf8check) {
	if s.bytes && u.seen {
		lx.feats.py2(s.line, "a non-ASCII character in a bytes literal")
	}
	if u.end() && (!lx.cookie || lx.cookieUTF8) {
		lx.errorf("(unicode error) 'utf-8' codec can't decode a string literal")
	}
}

func isHex(c int) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// escape reads a backslash escape in a string literal.
func (lx *lexer) escape(s *strLit, unicode bool, u *utf8check) {
	lx.pos++ // the backslash
	c := lx.peek(0)
	if c < 0 {
		return // the loop reports the unterminated literal
	}
	if isNL(c) {
		lx.newline()
		if s.raw {
			lx.add(s, '\\', '\n')
		}
		return
	}
	if c == 0 {
		lx.errorf("source code cannot contain null bytes")
	}
	if s.fstr && (c == '{' || c == '}') {
		// a backslash does not escape an f-string's brace: \{x} is a
		// backslash and a replacement field
		lx.add(s, '\\')
		return
	}
	if s.raw {
		lx.pos++
		if c >= 0x80 {
			lx.nonASCII()
			u.byte(byte(c))
		}
		lx.add(s, '\\', byte(c))
		return
	}
	lx.pos++
	switch c {
	case '\\', '\'', '"':
		lx.add(s, byte(c))
	case 'a':
		lx.add(s, 7)
	case 'b':
		lx.add(s, 8)
	case 'f':
		lx.add(s, 12)
	case 'n':
		lx.add(s, '\n')
	case 'r':
		lx.add(s, '\r')
	case 't':
		lx.add(s, '\t')
	case 'v':
		lx.add(s, 11)
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := c - '0'
		for i := 0; i < 2 && lx.peek(0) >= '0' && lx.peek(0) <= '7'; i++ {
			v = v*8 + lx.peek(0) - '0'
			lx.pos++
		}
		lx.addRune(s, rune(v))
	case 'x':
		if !isHex(lx.peek(0)) || !isHex(lx.peek(1)) {
			lx.errorf("truncated \\xXX escape")
		}
		v := hexVal(lx.peek(0))<<4 | hexVal(lx.peek(1))
		lx.pos += 2
		lx.addRune(s, rune(v))
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if s.bytes {
			lx.add(s, '\\', byte(c))
			return
		}
		v := 0
		for i := 0; i < n; i++ {
			h := lx.peek(0)
			if !isHex(h) {
				if unicode {
					lx.errorf("truncated \\" + string(rune(c)) + " escape")
				}
				// a Python 2 byte string keeps it; Python 3 refuses
				lx.feats.py2(lx.line, "a truncated \\"+string(rune(c))+" escape in a str literal")
				lx.add(s, '\\', byte(c))
				return
			}
			v = v<<4 | hexVal(h)
			lx.pos++
		}
		lx.addRune(s, rune(v))
	case 'N':
		if s.bytes || lx.peek(0) != '{' {
			lx.add(s, '\\', 'N')
			return
		}
		// \N{NAME}: kept as written, braces included
		lx.add(s, '\\', 'N')
		for {
			d := lx.peek(0)
			if d < 0 || isNL(d) {
				lx.errorf("malformed \\N character escape")
			}
			lx.pos++
			lx.add(s, byte(d))
			if d == '}' {
				return
			}
		}
	default:
		if c >= 0x80 {
			lx.nonASCII()
			u.byte(byte(c))
		}
		lx.add(s, '\\', byte(c))
	}
}

func hexVal(c int) int {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// addRune adds a code point (a byte value in a bytes literal).
func (lx *lexer) addRune(s *strLit, r rune) {
	if s.bytes || r < 0x80 {
		lx.add(s, byte(r))
		return
	}
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	lx.add(s, b[:n]...)
}

// field reads an f-string replacement field from its '{' to its '}'. The
// expression's source is kept (bounded) to be scanned for calls; the value
// shows the field as {expr}. Nested strings and brackets follow PEP 701.
func (lx *lexer) field(s *strLit) {
	lx.fstrDepth++
	if lx.fstrDepth > maxFStringNesting {
		lx.errorf("f-string: expressions nested too deeply")
	}
	defer func() { lx.fstrDepth-- }()
	lx.pos++ // '{'
	var src []byte
	keep := func(b ...byte) {
		if len(src)+len(b) <= maxFieldSrc {
			src = append(src, b...)
		}
	}
	depth := 0
	inExpr := true
	for {
		c := lx.fieldPeek()
		switch {
		case c == '\'' || c == '"':
			// a nested literal; its prefix letters are already in src
			prefix := trailingPrefix(src)
			if inExpr {
				src = src[:len(src)-len(prefix)]
			}
			nested := lx.stringToken(prefix)
			if inExpr {
				keep([]byte(quoteLiteral(nested.str))...)
			}
		case isNL(c):
			lx.newline()
			keep(' ')
		case c == '(' || c == '[' || c == '{':
			depth++
			lx.pos++
			if inExpr {
				keep(byte(c))
			}
		case c == ')' || c == ']':
			depth--
			lx.pos++
			if inExpr {
				keep(byte(c))
			}
		case c == '}' && depth <= 0:
			lx.pos++
			lx.endField(s, src)
			return
		case c == '}':
			depth--
			lx.pos++
			if inExpr {
				keep(byte(c))
			}
		case c == '#' && inExpr:
			// a comment in a multi-line field (Python 3.12)
			for d := lx.peek(0); d >= 0 && !isNL(d); d = lx.peek(0) {
				lx.pos++
			}
		case c == '!' && depth <= 0 && lx.peek(1) != '=' && inExpr:
			inExpr = false // the conversion (!r, !s, !a)
			lx.pos++
		case c == ':' && depth <= 0:
			// the format spec, which may hold nested fields
			lx.pos++
			lx.formatSpec()
			lx.endField(s, src)
			return
		default:
			if c >= 0x80 {
				lx.nonASCII()
			}
			lx.pos++
			if inExpr {
				keep(byte(c))
			}
		}
	}
}

// fieldPeek returns the next byte of a replacement field: the input must
// not end there, and no null byte is allowed.
func (lx *lexer) fieldPeek() int {
	c := lx.peek(0)
	switch {
	case c < 0:
		lx.errorf("f-string: expecting '}'")
	case c == 0:
		lx.errorf("source code cannot contain null bytes")
	}
	return c
}

// formatSpec reads a replacement field's format spec and its closing '}'.
func (lx *lexer) formatSpec() {
	var scratch strLit
	for {
		switch c := lx.fieldPeek(); {
		case c == '{':
			lx.field(&scratch)
			scratch.value = nil
		case c == '}':
			lx.pos++
			return
		case isNL(c):
			lx.newline()
		default:
			lx.pos++
		}
	}
}

func (lx *lexer) endField(s *strLit, src []byte) {
	expr := strings.TrimSpace(string(src))
	// the self-documenting form {expr=}
	if strings.HasSuffix(expr, "=") && !strings.HasSuffix(expr, "==") && !strings.HasSuffix(expr, "!=") &&
		!strings.HasSuffix(expr, "<=") && !strings.HasSuffix(expr, ">=") {
		expr = strings.TrimSpace(strings.TrimSuffix(expr, "="))
	}
	if len(s.fields) < maxFields {
		s.fields = append(s.fields, expr)
	}
	lx.add(s, '{')
	lx.add(s, []byte(expr)...)
	lx.add(s, '}')
}

// trailingPrefix returns the string prefix letters at the end of src, if
// they form one and are not the end of a longer name.
func trailingPrefix(src []byte) string {
	i := len(src)
	for i > 0 && (src[i-1] >= 'a' && src[i-1] <= 'z' || src[i-1] >= 'A' && src[i-1] <= 'Z') {
		i--
	}
	p := string(src[i:])
	if p == "" || !isStringPrefix(p) || i > 0 && isIdent(int(src[i-1])) {
		return ""
	}
	return p
}

// quoteLiteral writes a literal's value back as Python source, for the
// kept source of an f-string field.
func quoteLiteral(s *strLit) string {
	var b strings.Builder
	if s.bytes {
		b.WriteByte('b')
	}
	if s.fstr {
		b.WriteByte('f')
	}
	b.WriteByte('\'')
	for _, c := range s.value {
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
