package pyscan

import (
	"strings"
)

type kind int

const (
	name kind = iota
	number
	str
	op
)

type token struct {
	kind    kind
	text    string // source text
	value   string // a string literal's value
	fstring bool
}

// logicalLine is one Python statement line: its indentation (tabs to the
// next multiple of 8, as Python counts them), first physical line, tokens.
type logicalLine struct {
	indent int
	line   int
	toks   []token
}

// MaxNesting bounds bracket nesting (Python's own parser stops at 200).
const MaxNesting = 200

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// logicalLines tokenizes src into statements.
func logicalLines(src string) ([]logicalLine, error) {
	var out []logicalLine
	var cur []token
	depth := 0
	lineNo := 1
	atLineStart := true
	indent, startLine := 0, 1
	i := 0
	endLine := func() {
		if len(cur) > 0 {
			out = append(out, logicalLine{indent: indent, line: startLine, toks: cur})
		}
		cur = nil
		atLineStart = true
	}
	for i < len(src) {
		c := src[i]
		if atLineStart && depth == 0 {
			// measure indentation
			col := 0
			j := i
			for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\f') {
				switch src[j] {
				case '\t':
					col = (col/8 + 1) * 8
				case ' ':
					col++
				default:
					col = 0
				}
				j++
			}
			i = j
			indent, startLine = col, lineNo
			atLineStart = false
			continue
		}
		switch {
		case c == '\n':
			lineNo++
			i++
			if depth == 0 {
				endLine()
			}
		case c == ' ' || c == '\t' || c == '\f' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\\' && i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r'):
			// explicit line joining
			i++
			if src[i] == '\r' {
				i++
			}
			if i < len(src) && src[i] == '\n' {
				i++
			}
			lineNo++
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			word := src[i:j]
			if j < len(src) && (src[j] == '\'' || src[j] == '"') && isStringPrefix(word) {
				t, next, lines, err := readString(src, j, word, lineNo)
				if err != nil {
					return nil, err
				}
				cur = append(cur, t)
				i = next
				lineNo += lines
				continue
			}
			cur = append(cur, token{kind: name, text: word})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (isIdent(src[j]) || src[j] == '.') {
				j++
			}
			cur = append(cur, token{kind: number, text: src[i:j]})
			i = j
		case c == '\'' || c == '"':
			t, next, lines, err := readString(src, i, "", lineNo)
			if err != nil {
				return nil, err
			}
			cur = append(cur, t)
			i = next
			lineNo += lines
		default:
			switch c {
			case '(', '[', '{':
				depth++
				if depth > MaxNesting {
					return nil, &Error{lineNo, "too many nested brackets"}
				}
			case ')', ']', '}':
				if depth == 0 {
					return nil, &Error{lineNo, "unmatched '" + string(c) + "'"}
				}
				depth--
			}
			text := string(c)
			// two-character operators that matter here: '==', '->', ':=', ...
			if i+1 < len(src) && strings.ContainsRune("=!<>:-*/+%&|^", rune(c)) && src[i+1] == '=' {
				text = src[i : i+2]
			}
			if c == '-' && i+1 < len(src) && src[i+1] == '>' {
				text = "->"
			}
			cur = append(cur, token{kind: op, text: text})
			i += len(text)
		}
	}
	if depth != 0 {
		return nil, &Error{lineNo, "unexpected end of file inside brackets"}
	}
	endLine()
	return out, nil
}

func isStringPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}

// readString reads a string literal whose quote starts at src[q]; prefix
// is its letter prefix. It returns the token, the index after it and how
// many newlines it spans.
func readString(src string, q int, prefix string, lineNo int) (token, int, int, error) {
	quote := src[q]
	triple := q+2 < len(src) && src[q+1] == quote && src[q+2] == quote
	lp := strings.ToLower(prefix)
	raw := strings.Contains(lp, "r")
	start := q + 1
	if triple {
		start = q + 3
	}
	var val strings.Builder
	lines := 0
	i := start
	for {
		if i >= len(src) {
			return token{}, 0, 0, &Error{lineNo, "unterminated string literal"}
		}
		c := src[i]
		if c == '\\' && i+1 < len(src) {
			if src[i+1] == '\n' {
				lines++
				if raw {
					val.WriteString("\\\n")
				}
				i += 2
				continue
			}
			if raw {
				val.WriteByte(c)
				val.WriteByte(src[i+1])
			} else {
				val.WriteString(unescape(src[i+1]))
			}
			i += 2
			continue
		}
		if c == '\n' {
			if !triple {
				return token{}, 0, 0, &Error{lineNo + lines, "unterminated string literal"}
			}
			lines++
		}
		if c == quote && (!triple || (i+2 < len(src) && src[i+1] == quote && src[i+2] == quote)) {
			end := i + 1
			if triple {
				end = i + 3
			}
			return token{kind: str, text: prefix + src[q:end], value: val.String(), fstring: strings.Contains(lp, "f")}, end, lines, nil
		}
		val.WriteByte(c)
		i++
	}
}

func unescape(c byte) string {
	switch c {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	case 'r':
		return "\r"
	case '\\', '\'', '"':
		return string(c)
	case '0':
		return "\x00"
	}
	return "\\" + string(c)
}
