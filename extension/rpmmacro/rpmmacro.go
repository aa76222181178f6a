// Package rpmmacro reads rpm macro files the way rpm 4.18's loadMacroFile
// does (rpmio/macro.c): logical lines joined by rdcl, each line that starts
// with `%` handed to doDefine, which never expands the body. It says what
// each line defines, and why rpm rejects the lines it does not define.
package rpmmacro

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// BufSize is rpm's MACROBUFSIZ (BUFSIZ * 2 with glibc's BUFSIZ of 8192):
// the most a logical line holds; rpm reads a longer physical line in
// pieces, each a line of its own.
const BufSize = 16384

// Def is one line of a macro file that starts with `%`.
type Def struct {
	// Line is the physical line where the definition starts (1-based).
	Line int
	// EndLine is the last physical line rpm read for it (rpm's
	// __file_lineno).
	EndLine int
	Name    string
	// Opts are the getopt options of a parametric macro (`%name(opts)
	// body`); Parametric is set even when they are empty.
	Opts       string
	Parametric bool
	// Body is the value as rpm stores it: unexpanded, a free-field
	// body with its backslashes removed and the character after each
	// kept, a `{…}` body as written.
	Body string
	// Err is rpm's reason for defining nothing from the line ("" when
	// it defines Name).
	Err string
}

// Builtins are rpm 4.18's built-in macros (builtinmacros in macro.c); a
// macro file cannot redefine them, so `%define`, `%global` and
// `%undefine` lines in a macro file define (and undefine) nothing.
var Builtins = map[string]bool{
	"P": true, "S": true, "basename": true, "define": true, "dirname": true, "dnl": true,
	"dump": true, "echo": true, "error": true, "exists": true, "expand": true, "expr": true,
	"getconfdir": true, "getenv": true, "getncpus": true, "global": true, "load": true,
	"lua": true, "macrobody": true, "quote": true, "shrink": true, "suffix": true,
	"trace": true, "u2p": true, "shescape": true, "uncompress": true, "undefine": true,
	"url2path": true, "verbose": true, "warn": true,
}

// Reader reads the definitions of one macro file.
type Reader struct {
	br      *bufio.Reader
	line    int // physical lines read so far
	err     error
	scratch []byte
}

// NewReader reads from r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReaderSize(r, 32<<10)} }

// Err is the read error that ended the file, if any (io.EOF is not one).
func (r *Reader) Err() error { return r.err }

// Next returns the next line that starts with `%`, false at the end.
func (r *Reader) Next() (Def, bool) {
	for {
		start := r.line + 1
		text, n := r.logicalLine()
		if n == 0 {
			return Def{}, false
		}
		s := bytes.TrimLeft(text, " \t")
		if len(s) == 0 || s[0] != '%' {
			continue
		}
		d := define(string(s[1:]))
		d.Line, d.EndLine = start, r.line
		return d, true
	}
}

// All reads every definition of r.
func All(r io.Reader) ([]Def, error) {
	rd := NewReader(r)
	var out []Def
	for {
		d, ok := rd.Next()
		if !ok {
			return out, rd.Err()
		}
		out = append(out, d)
	}
}

// fgets is C's fgets: at most max bytes, up to and including '\n'; false
// at the end of the file with nothing read.
func (r *Reader) fgets(b []byte, max int) ([]byte, bool) {
	start := len(b)
	max += start
	for len(b) < max {
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				if err != io.EOF {
					r.err = err
				}
				break
			}
		}
		buf, _ := r.br.Peek(min(r.br.Buffered(), max-len(b)))
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			b = append(b, buf[:i+1]...)
			r.br.Discard(i + 1)
			break
		}
		b = append(b, buf...)
		r.br.Discard(len(buf))
	}
	if len(b) == start && max > start {
		return b, false
	}
	return b, true
}

func iseol(c byte) bool { return c == '\n' || c == '\r' }

// logicalLine is rdcl: physical lines joined while the line ends with a
// backslash or a %{, %( or %[ is open; a line that does not start with
// `%` (after blanks) is one line. It returns the text (as C sees it, up
// to the first NUL; valid until the next call) and how many physical
// reads it took.
func (r *Reader) logicalLine() ([]byte, int) {
	buf := r.scratch[:0]
	defer func() { r.scratch = buf[:0] }()
	size, nlines, p := BufSize, 0, 0
	first := true
	var n nesting
	for size > 0 {
		q := len(buf)
		var ok bool
		if buf, ok = r.fgets(buf, size-1); !ok {
			break
		}
		raw := buf[q:]
		nlines++
		r.line++
		nb := len(raw)
		for i, c := range raw {
			if c == 0 {
				nb = i
				break
			}
		}
		e := nb
		for e > 0 && iseol(raw[e-1]) {
			e--
		}
		if e >= len(raw) || raw[e] == 0 {
			// no end of line: the end of the file, a NUL, or a
			// piece of a line longer than the buffer
			buf = buf[:q+e]
			break
		}
		buf = buf[:q+e+1] // with the end-of-line byte, as C's buffer has it
		end := q + e
		if first {
			first = false
			for p < end && (buf[p] == ' ' || buf[p] == '\t') {
				p++
			}
			if p >= end || buf[p] != '%' {
				buf = buf[:end]
				break
			}
		}
		for p < end {
			p += step(&n, buf, p)
		}
		if (e == 0 || buf[end-1] != '\\') && !n.open() {
			buf = buf[:end]
			break
		}
		// keep one end-of-line byte, as '\n'
		buf[end] = '\n'
		size -= e + 1
	}
	return buf, nlines
}

// nesting is what rpm counts while it reads a line or a body: the %{, %(
// and %[ still open (a bare bracket counts only inside one of its kind).
type nesting struct{ bc, pc, xc int }

func (n *nesting) open() bool { return n.bc > 0 || n.pc > 0 || n.xc > 0 }

// step takes the unit of s at i: an escape or %-pair is two bytes (when
// there is a byte after it), anything else one.
func step[T string | []byte](n *nesting, s T, i int) int {
	count := func(c byte, lvl *int) {
		switch {
		case *lvl == 0:
		case c == '{' || c == '(' || c == '[':
			*lvl++
		default:
			*lvl--
		}
	}
	switch c := s[i]; c {
	case '\\':
		if i+1 < len(s) {
			return 2
		}
	case '%':
		if i+1 >= len(s) {
			return 1
		}
		switch s[i+1] {
		case '{':
			n.bc++
		case '(':
			n.pc++
		case '[':
			n.xc++
		case '%':
		default:
			return 1
		}
		return 2
	case '{', '}':
		count(c, &n.bc)
	case '(', ')':
		count(c, &n.pc)
	case '[', ']':
		count(c, &n.xc)
	}
	return 1
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// define is doDefine on a line after its `%`, as loadMacroFile calls it:
// the body is not expanded.
func define(s string) Def {
	var d Def
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	n := i
	for i < len(s) && (isAlnum(s[i]) || s[i] == '_') {
		i++
	}
	d.Name = s[n:i]
	if i < len(s) && s[i] == '(' {
		i++
		close := strings.IndexByte(s[i:], ')')
		if close < 0 {
			d.Err = "Macro %" + d.Name + " has unterminated opts"
			return d
		}
		d.Opts, d.Parametric = s[i:i+close], true
		i += close + 1
	}
	sbody := i
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	var body []byte
	if i < len(s) && s[i] == '{' {
		end := MatchBrace(s[i:])
		if end < 0 {
			d.Err = "Macro %" + d.Name + " has unterminated body"
			return d
		}
		body = []byte(s[i+1 : i+end-1])
	} else {
		var n nesting
		for i < len(s) && (n.bc > 0 || n.pc > 0 || !iseol(s[i])) {
			k := step(&n, s, i)
			if s[i] == '\\' && k == 2 {
				// the backslash goes, the character after it stays
				body = append(body, s[i+1])
			} else {
				body = append(body, s[i:i+k]...)
			}
			i += k
		}
		if n.open() {
			d.Err = "Macro %" + d.Name + " has unterminated body"
			return d
		}
		e := len(body)
		for e > 0 && (isBlank(body[e-1]) || iseol(body[e-1])) {
			e--
		}
		body = body[:e]
	}
	switch {
	case !validName(d.Name):
		d.Err = "Macro %" + d.Name + " has illegal name (%define)"
	case Builtins[d.Name]:
		d.Err = "Macro %" + d.Name + " is a built-in (%define)"
	case len(body) == 0:
		d.Err = "Macro %" + d.Name + " has empty body"
	}
	if d.Err != "" {
		return d
	}
	_ = sbody // rpm only warns when the body does not follow whitespace
	d.Body = string(body)
	return d
}

// validName: a letter, or '_' and at least two characters.
func validName(n string) bool {
	if n == "" {
		return false
	}
	c := n[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' && len(n) > 1
}

// MatchBrace is rpm's matchchar(s, '{', '}') for s starting at '{' (a
// `{…}` body, a `%{…}` reference): the index just past the matching '}'
// (a backslash escapes the byte after it), -1 when there is none.
func MatchBrace(s string) int { return MatchChar(s, '{', '}') }

// MatchChar is rpm's matchchar (rpmio/macro.c) for s starting at open:
// the index just past the close that balances it, counting nested pairs
// (a backslash escapes the byte after it), -1 when there is none. rpm
// finds the end of `%( … )` this way.
func MatchChar(s string, open, close byte) int {
	lvl := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case close:
			lvl--
			if lvl <= 0 {
				return i + 1
			}
		case open:
			lvl++
		}
	}
	return -1
}
