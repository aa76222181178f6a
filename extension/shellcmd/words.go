package shellcmd

import (
	"strings"
)

// wordBuilder collects a word's value and what makes it dynamic.
type wordBuilder struct {
	lit strings.Builder
	w   Word
}

func (b *wordBuilder) dyn(what string) {
	if b.w.Dynamic == "" {
		if len(what) > 60 {
			what = what[:60] + "…"
		}
		b.w.Dynamic = what
	}
}

// dynWord marks the word dynamic by what, followed by the word from
// start; the text is only built for the first mark (a word of many globs
// must not cost a scan per glob).
func (b *wordBuilder) dynWord(what, s string, start int) {
	if b.w.Dynamic == "" {
		b.dyn(what + " " + wordAt(s, start))
	}
}

func (b *wordBuilder) subst(s ...*Subst) { b.w.Subst = append(b.w.Subst, s...) }

// scanWord reads one word at p.pos: quotes, escapes, expansions and
// substitutions, up to an unquoted metacharacter.
func (p *parser) scanWord() Word {
	start := p.pos
	s := p.src
	var b wordBuilder
	// where the next "]" and "}" of the word are, found once (-1: not
	// looked for yet, len(s): none before the word ends)
	closeB, closeC, comma, dots := -1, -1, -1, -1
	for p.pos < len(s) {
		c := s[p.pos]
		if p.d == Bash && (c == '<' || c == '>') && p.pos+1 < len(s) && s[p.pos+1] == '(' {
			p.cmdSubst(&b, string(c)+"(", p.pos+2, p.pos)
			continue
		}
		if c == '(' && p.d == Bash && isArrayAssign(s[start:p.pos]) {
			p.arrayValue(&b)
			continue
		}
		if isMeta(c) {
			break
		}
		switch c {
		case '\\':
			switch {
			case p.pos+1 >= len(s):
				// a trailing backslash stands for itself
				b.lit.WriteByte('\\')
				p.pos++
			case s[p.pos+1] == '\n':
				p.pos += 2
			default:
				b.lit.WriteByte(s[p.pos+1])
				b.w.Quoted = true
				p.pos += 2
			}
		case '\'':
			end := strings.IndexByte(s[p.pos+1:], '\'')
			if end < 0 {
				p.failAt(p.pos, "unterminated single quote")
			}
			b.lit.WriteString(s[p.pos+1 : p.pos+1+end])
			b.w.Quoted = true
			p.pos += end + 2
		case '"':
			b.w.Quoted = true
			p.pos++
			p.scanDouble(&b, false)
		case '`':
			p.backquote(&b, false)
		case '$':
			p.dollar(&b, false)
		case '*', '?':
			b.dynWord("pathname pattern", s, start)
			b.lit.WriteByte(c)
			p.pos++
		case '[':
			if closeB < p.pos {
				closeB = nextInWord(s, p.pos+1, ']')
			}
			if closeB < len(s) {
				b.dynWord("pathname pattern", s, start)
			}
			b.lit.WriteByte(c)
			p.pos++
		case '{':
			if p.d == Bash && b.w.Dynamic == "" {
				if closeC < p.pos {
					closeC = nextInWord(s, p.pos+1, '}')
				}
				if comma < p.pos {
					comma = nextInWord(s, p.pos+1, ',')
				}
				if dots < p.pos {
					dots = nextDots(s, p.pos+1)
				}
				// {a,b} and {1..3} expand; {a} does not
				if closeC < len(s) && (comma < closeC || dots < closeC) {
					b.dynWord("brace expansion", s, start)
				}
			}
			b.lit.WriteByte(c)
			p.pos++
		case '~':
			if p.pos == start {
				b.dyn("~ (the home directory)")
			}
			b.lit.WriteByte(c)
			p.pos++
		default:
			b.lit.WriteByte(c)
			p.pos++
		}
	}
	b.w.Raw = s[start:p.pos]
	b.w.Lit = b.lit.String()
	return b.w
}

// wordAt is the rest of the word starting at i, for messages.
func wordAt(s string, i int) string {
	j := i
	for j < len(s) && !isMeta(s[j]) {
		j++
	}
	return s[i:j]
}

// nextInWord is the index of the first c at or after i before the word
// ends, or len(s): a "[" with a "]" after it starts a bracket expression
// of a pattern.
func nextInWord(s string, i int, c byte) int {
	for ; i < len(s) && !isMeta(s[i]); i++ {
		if s[i] == c {
			return i
		}
	}
	return len(s)
}

// nextDots is the index of the first ".." at or after i before the word
// ends, or len(s).
func nextDots(s string, i int) int {
	for ; i+1 < len(s) && !isMeta(s[i]); i++ {
		if s[i] == '.' && s[i+1] == '.' {
			return i
		}
	}
	return len(s)
}

func isArrayAssign(prefix string) bool {
	name, ok := assignName(prefix)
	return ok && prefix == name+"="
}

// arrayValue reads bash's NAME=( words… ) value.
func (p *parser) arrayValue(b *wordBuilder) {
	p.enter()
	defer p.leave()
	start := p.pos
	p.pos++
	for {
		p.skipBlanks()
		for p.pos < len(p.src) && p.src[p.pos] == '\n' {
			p.pos++
			p.skipBlanks()
		}
		if p.pos >= len(p.src) {
			p.failAt(start, "unterminated array assignment")
		}
		if p.src[p.pos] == ')' {
			p.pos++
			break
		}
		w := p.scanWord()
		if w.Raw == "" {
			p.failAt(p.pos, "unexpected \""+string(p.src[p.pos])+"\" in array assignment")
		}
		b.subst(w.Subst...)
	}
	b.lit.WriteString(p.src[start:p.pos])
}

// scanDouble reads the inside of "…" after the opening quote, up to and
// including the closing one; with heredoc set it reads to the end of the
// source instead (here-document bodies, arithmetic), where `"` is plain.
func (p *parser) scanDouble(b *wordBuilder, heredoc bool) {
	p.enter()
	defer p.leave()
	s := p.src
	start := p.pos
	for {
		if p.pos >= len(s) {
			if heredoc {
				return
			}
			p.failAt(start, "unterminated double quote")
		}
		c := s[p.pos]
		switch c {
		case '"':
			p.pos++
			if !heredoc {
				return
			}
			b.lit.WriteByte(c)
		case '\\':
			if p.pos+1 < len(s) {
				n := s[p.pos+1]
				if n == '\n' {
					p.pos += 2
					continue
				}
				if n == '$' || n == '`' || n == '\\' || (n == '"' && !heredoc) {
					b.lit.WriteByte(n)
					p.pos += 2
					continue
				}
			}
			b.lit.WriteByte('\\')
			p.pos++
		case '$':
			p.dollar(b, true)
		case '`':
			p.backquote(b, !heredoc)
		default:
			b.lit.WriteByte(c)
			p.pos++
		}
	}
}

// dollar reads an expansion at p.pos ("$").
func (p *parser) dollar(b *wordBuilder, inDouble bool) {
	s := p.src
	i := p.pos
	if i+1 >= len(s) {
		b.lit.WriteByte('$')
		p.pos++
		return
	}
	switch n := s[i+1]; {
	case n == '(' && i+2 < len(s) && s[i+2] == '(' && matchArith(s, i+3) >= 0:
		end := matchArith(s, i+3)
		w := p.expandText(s[i+3:end], i+3, true)
		b.subst(w.Subst...)
		b.dyn(s[i : end+2])
		b.lit.WriteString(s[i : end+2])
		p.pos = end + 2
	case n == '(':
		p.cmdSubst(b, "$(", i+2, i)
	case n == '{':
		p.braceParam(b, inDouble)
	case n == '\'' && p.d == Bash && !inDouble:
		p.ansiC(b)
	case n == '"' && p.d == Bash && !inDouble:
		b.w.Quoted = true
		p.pos += 2
		p.scanDouble(b, false)
	case n == '_' || isAlpha(n):
		j := i + 1
		for j < len(s) && (s[j] == '_' || isAlpha(s[j]) || isDigit(s[j])) {
			j++
		}
		b.dyn(s[i:j])
		b.lit.WriteString(s[i:j])
		p.pos = j
	case isDigit(n) || strings.IndexByte("@*#?-$!", n) >= 0:
		b.dyn(s[i : i+2])
		b.lit.WriteString(s[i : i+2])
		p.pos = i + 2
	default:
		b.lit.WriteByte('$')
		p.pos++
	}
}

// cmdSubst parses the program of a command or process substitution whose
// text starts at from (after the opening parenthesis) up to its ")".
func (p *parser) cmdSubst(b *wordBuilder, kind string, from, start int) {
	c := p.child(p.src, from)
	prog := &Program{Dialect: p.d}
	prog.List = c.list(func(t *token) bool { return isOp(t, ")") })
	if t := c.next(); !isOp(t, ")") {
		c.fail(t, "expected \")\" closing "+kind+"…), found "+describe(t))
	}
	p.pos = c.pos
	b.subst(&Subst{Kind: kind, Prog: prog})
	b.dyn(p.src[start:p.pos])
	b.lit.WriteString(p.src[start:p.pos])
}

// backquote reads `…`: inside, a backslash quotes $, ` and \ (and " in a
// double-quoted word); the result is parsed as a program.
func (p *parser) backquote(b *wordBuilder, inDouble bool) {
	s := p.src
	start := p.pos
	var inner strings.Builder
	end := p.upTo(p.pos+1, start, '`', "backquote", func(i int) int {
		if n := s[i+1]; n == '$' || n == '`' || n == '\\' || (inDouble && n == '"') {
			inner.WriteByte(n)
			return i + 2
		}
		inner.WriteByte('\\')
		return i + 1
	}, inner.WriteByte)
	p.pos = end + 1
	prog := &Program{Dialect: p.d}
	p.nested(inner.String(), start, func(c *parser) {
		prog.List = c.list(func(*token) bool { return false })
	})
	b.subst(&Subst{Kind: "`", Prog: prog})
	b.dyn(s[start:p.pos])
	b.lit.WriteString(s[start:p.pos])
}

// upTo walks p.src from i to the first end byte no backslash escapes,
// handing each escape to esc (which returns the index after what it
// used) and each other byte to lit. A missing end is a syntax error
// reported at start.
func (p *parser) upTo(i, start int, end byte, what string, esc func(i int) int, lit func(c byte) error) int {
	for {
		if i >= len(p.src) {
			p.failAt(start, "unterminated "+what)
		}
		switch c := p.src[i]; {
		case c == end:
			return i
		case c == '\\' && i+1 < len(p.src):
			i = esc(i)
		default:
			lit(c)
			i++
		}
	}
}

// braceParam reads ${…}; the words inside may hold substitutions.
func (p *parser) braceParam(b *wordBuilder, inDouble bool) {
	p.enter()
	defer p.leave()
	s := p.src
	start := p.pos
	p.pos += 2
	for {
		if p.pos >= len(s) {
			p.failAt(start, "missing } in ${")
		}
		switch s[p.pos] {
		case '}':
			p.pos++
			b.dyn(s[start:p.pos])
			b.lit.WriteString(s[start:p.pos])
			return
		case '\\':
			p.pos += 2
		case '\'':
			if inDouble {
				p.pos++
				continue
			}
			end := strings.IndexByte(s[p.pos+1:], '\'')
			if end < 0 {
				p.failAt(p.pos, "unterminated single quote")
			}
			p.pos += end + 2
		case '"':
			p.pos++
			var inner wordBuilder
			p.scanDouble(&inner, false)
			b.subst(inner.w.Subst...)
		case '$':
			var inner wordBuilder
			p.dollar(&inner, inDouble)
			b.subst(inner.w.Subst...)
		case '`':
			var inner wordBuilder
			p.backquote(&inner, inDouble)
			b.subst(inner.w.Subst...)
		default:
			p.pos++
		}
	}
}

// ansiC reads bash's $'…', decoding its escapes.
func (p *parser) ansiC(b *wordBuilder) {
	s := p.src
	end := p.upTo(p.pos+2, p.pos, '\'', "$'", func(i int) int {
		e := s[i+1]
		i += 2
		switch e {
		case 'c':
			if i < len(s) {
				b.lit.WriteByte(s[i] & 0x1f)
				i++
			}
		case 'x', 'u', 'U':
			max := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			v, n := 0, 0
			for n < max && i < len(s) && hexVal(s[i]) >= 0 {
				v = v*16 + hexVal(s[i])
				i++
				n++
			}
			switch {
			case n == 0:
				b.lit.WriteByte('\\')
				b.lit.WriteByte(e)
			case e == 'x':
				b.lit.WriteByte(byte(v))
			default:
				b.lit.WriteRune(rune(v))
			}
		default:
			if c, ok := ansiEscapes[e]; ok {
				b.lit.WriteByte(c)
				break
			}
			if '0' <= e && e <= '7' {
				v := int(e - '0')
				for n := 1; n < 3 && i < len(s) && '0' <= s[i] && s[i] <= '7'; n++ {
					v = v*8 + int(s[i]-'0')
					i++
				}
				b.lit.WriteByte(byte(v))
				break
			}
			b.lit.WriteByte('\\')
			b.lit.WriteByte(e)
		}
		return i
	}, b.lit.WriteByte)
	b.w.Quoted = true
	p.pos = end + 1
}

// ansiEscapes are $'…”s one-letter escapes.
var ansiEscapes = map[byte]byte{'a': '\a', 'b': '\b', 'e': 0x1b, 'E': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r',
	't': '\t', 'v': '\v', '\\': '\\', '\'': '\'', '"': '"', '?': '?'}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// expandText reads text as the inside of a here-document or arithmetic
// expansion: only $, ` and \ are special; at is where it starts in p.src.
func (p *parser) expandText(text string, at int, heredoc bool) Word {
	var b wordBuilder
	p.nested(text, at, func(c *parser) { c.scanDouble(&b, heredoc) })
	b.w.Raw = text
	b.w.Lit = b.lit.String()
	return b.w
}

// nested runs f on a parser over src, text taken from p.src at position
// at; an error is reported at its line in p.src.
func (p *parser) nested(src string, at int, f func(c *parser)) {
	c := p.child(src, 0)
	defer func() {
		if r := recover(); r != nil {
			if s, ok := r.(stop); ok {
				e := *s.err
				e.Line += p.lineAt(at) - 1
				panic(stop{&e})
			}
			panic(r)
		}
	}()
	f(c)
	if t := c.peek(); t.kind != tEOF {
		c.fail(t, "unexpected "+describe(t))
	}
}
