// Package pyscan reads what a package-manager plugin module declares
// without running it: its imports, the classes it defines at import time
// with their bases and literal class attributes, its top-level functions
// and string constants. It tokenizes Python 3 (strings of every prefix and
// quoting, comments, continuation lines, bracket nesting) and reads
// statements by indentation; it does not evaluate anything.
package pyscan

import (
	"fmt"
	"strings"
)

// Module is what a scan found.
type Module struct {
	// Imports maps a local name to the dotted module or object it binds.
	Imports map[string]string
	// Constants are module-level NAME = "literal" assignments.
	Constants map[string]string
	Classes   []Class
	// Functions are module-level function definitions.
	Functions []Func
}

// Class is a class statement that runs at import (not inside a function).
type Class struct {
	Name  string
	Line  int
	Bases []string // dotted, with import aliases resolved
	// Decorators are the dotted names of the class's decorators,
	// resolved like the bases (call arguments dropped).
	Decorators []string
	// Attrs are the class body's own NAME = value assignments.
	Attrs map[string]Attr
}

// Attr is a class attribute's value: a string literal (Literal true), or
// the expression's source text.
type Attr struct {
	Value   string
	Literal bool
	// Items are the strings of a tuple or list of string literals.
	Items []string
}

// Func is a def statement.
type Func struct {
	Name string
	Line int
}

// Error is a scan failure: source Python itself would not compile.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Scan reads Python source.
func Scan(src []byte) (*Module, error) {
	lines, err := logicalLines(string(src))
	if err != nil {
		return nil, err
	}
	m := &Module{Imports: map[string]string{}, Constants: map[string]string{}}
	type block struct {
		indent int
		kind   string // "def", "class", "other"
		class  int    // index in m.Classes for a class block
		body   int    // indentation of the block's body, -1 until known
	}
	var stack []block
	var decorators []string
	for _, ln := range lines {
		for len(stack) > 0 && ln.indent <= stack[len(stack)-1].indent {
			stack = stack[:len(stack)-1]
		}
		inDef := false
		for _, b := range stack {
			inDef = inDef || b.kind == "def"
		}
		var owner *block
		if len(stack) > 0 {
			owner = &stack[len(stack)-1]
			if owner.body < 0 {
				owner.body = ln.indent
			}
		}
		toks := ln.toks
		first := toks[0]
		if first.text == "@" {
			var d strings.Builder
			for _, t := range toks[1:] {
				if t.text == "(" {
					break
				}
				d.WriteString(t.text)
			}
			decorators = append(decorators, resolve(d.String(), m.Imports))
			continue
		}
		pending := decorators
		decorators = nil
		switch {
		case first.kind == name && (first.text == "def" || (first.text == "async" && len(toks) > 1 && toks[1].text == "def")):
			if first.text == "async" {
				toks = toks[1:]
			}
			if len(stack) == 0 && len(toks) > 1 {
				m.Functions = append(m.Functions, Func{Name: toks[1].text, Line: ln.line})
			}
			if endsBlock(toks) {
				stack = append(stack, block{indent: ln.indent, kind: "def", body: -1})
			}
		case first.kind == name && first.text == "class" && len(toks) > 1:
			if inDef {
				if endsBlock(toks) {
					stack = append(stack, block{indent: ln.indent, kind: "def", body: -1})
				}
				continue
			}
			c := Class{Name: toks[1].text, Line: ln.line, Attrs: map[string]Attr{}, Decorators: pending}
			if len(toks) > 2 && toks[2].text == "(" {
				c.Bases = bases(toks[3:], m.Imports)
			}
			m.Classes = append(m.Classes, c)
			if endsBlock(toks) {
				stack = append(stack, block{indent: ln.indent, kind: "class", class: len(m.Classes) - 1, body: -1})
			}
		case len(stack) == 0 && first.kind == name && (first.text == "import" || first.text == "from"):
			readImport(toks, m.Imports)
		default:
			// assignments: module constants and class attributes
			if first.kind == name && len(toks) >= 3 && toks[1].text == "=" {
				val, lit := literal(toks[2:])
				switch {
				case len(stack) == 0 && lit:
					m.Constants[first.text] = val
				case owner != nil && owner.kind == "class" && ln.indent == owner.body:
					if !lit {
						if v, ok := m.Constants[strings.TrimSpace(val)]; ok {
							val, lit = v, true
						}
					}
					m.Classes[owner.class].Attrs[first.text] = Attr{Value: val, Literal: lit, Items: stringItems(toks[2:])}
				}
			}
			if endsBlock(toks) {
				stack = append(stack, block{indent: ln.indent, kind: "other", body: -1})
			}
		}
	}
	return m, nil
}

// endsBlock reports a compound statement header (its last token is ':'
// with nothing after it on the line).
func endsBlock(toks []token) bool {
	return toks[len(toks)-1].text == ":"
}

// bases reads the base class list up to the closing parenthesis; keyword
// arguments (metaclass=...) are not bases.
func bases(toks []token, imports map[string]string) []string {
	var out, cur []string
	kw := false
	depth := 0
	flush := func() {
		if len(cur) > 0 && !kw {
			out = append(out, resolve(strings.Join(cur, ""), imports))
		}
		cur, kw = nil, false
	}
	for _, t := range toks {
		switch {
		case t.text == "(" || t.text == "[" || t.text == "{":
			depth++
			cur = append(cur, t.text)
		case t.text == ")" || t.text == "]" || t.text == "}":
			if depth == 0 {
				flush()
				return out
			}
			depth--
			cur = append(cur, t.text)
		case t.text == "," && depth == 0:
			flush()
		case t.text == "=" && depth == 0:
			kw = true
		default:
			cur = append(cur, t.text)
		}
	}
	flush()
	return out
}

// resolve maps the first component of a dotted name through the imports.
func resolve(dotted string, imports map[string]string) string {
	head, rest, _ := strings.Cut(dotted, ".")
	if full, ok := imports[head]; ok {
		if rest != "" {
			return full + "." + rest
		}
		return full
	}
	return dotted
}

// readImport records `import a.b as c`, `import a.b` (binds a) and
// `from a import b as c`.
func readImport(toks []token, imports map[string]string) {
	if toks[0].text == "import" {
		for _, part := range splitTop(toks[1:]) {
			dotted, alias := dottedAs(part)
			if dotted == "" {
				continue
			}
			if alias != "" {
				imports[alias] = dotted
			} else {
				head, _, _ := strings.Cut(dotted, ".")
				imports[head] = head
			}
		}
		return
	}
	// from X import ...
	i := 1
	var from strings.Builder
	for ; i < len(toks) && toks[i].text != "import"; i++ {
		from.WriteString(toks[i].text)
	}
	if i >= len(toks) {
		return
	}
	for _, part := range splitTop(toks[i+1:]) {
		dotted, alias := dottedAs(part)
		if dotted == "" || dotted == "*" {
			continue
		}
		local := dotted
		if alias != "" {
			local = alias
		}
		imports[local] = from.String() + "." + dotted
	}
}

// splitTop splits tokens on top-level commas, dropping parentheses.
func splitTop(toks []token) [][]token {
	var out [][]token
	var cur []token
	for _, t := range toks {
		switch t.text {
		case "(", ")":
		case ",":
			out = append(out, cur)
			cur = nil
		default:
			cur = append(cur, t)
		}
	}
	return append(out, cur)
}

func dottedAs(toks []token) (dotted, alias string) {
	var b strings.Builder
	for i := 0; i < len(toks); i++ {
		if toks[i].text == "as" && i+1 < len(toks) {
			return b.String(), toks[i+1].text
		}
		b.WriteString(toks[i].text)
	}
	return b.String(), ""
}

// stringItems returns the strings of a tuple or list display made only of
// string literals: ('a', 'b'), ['a'], 'a', ...
func stringItems(toks []token) []string {
	if len(toks) >= 2 && (toks[0].text == "(" && toks[len(toks)-1].text == ")" || toks[0].text == "[" && toks[len(toks)-1].text == "]") {
		toks = toks[1 : len(toks)-1]
	}
	var out []string
	for _, part := range splitTop(toks) {
		if len(part) == 0 {
			continue
		}
		v, ok := literal(part)
		if !ok {
			return nil
		}
		out = append(out, v)
	}
	return out
}

// literal returns the value of an expression that is only string literals
// (adjacent literals concatenate); otherwise its source text.
func literal(toks []token) (string, bool) {
	for len(toks) >= 2 && toks[0].text == "(" && toks[len(toks)-1].text == ")" {
		toks = toks[1 : len(toks)-1]
	}
	var b strings.Builder
	allStrings := len(toks) > 0
	for _, t := range toks {
		if t.kind != str || t.fstring {
			allStrings = false
			break
		}
		b.WriteString(t.value)
	}
	if allStrings {
		return b.String(), true
	}
	var src []string
	for _, t := range toks {
		src = append(src, t.text)
	}
	return strings.Join(src, " "), false
}
