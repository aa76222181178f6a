// Package pyscan reads a Python module the way importing it would run it,
// without running it: which names, classes and functions it defines at
// import, which commands, code, modules and network endpoints it hands to
// the functions that run or fetch them, and whether each of these happens
// certainly, only possibly (and on which condition) or never at import.
//
// Python executes a module's top-level statements at import, and with them
// the bodies of try/except/else/finally, if/elif/else, with, for/while,
// match and class statements, nested to any depth; def (and lambda) bodies
// run only when called (a class or global a function defines counts,
// possibly, when module-level code calls that function by name). The
// scanner follows that rule, decides the
// conditions it can decide statically (literals, not/and/or, comparisons of
// literals, __name__ == '__main__', sys.version_info for a known Python
// major version, names bound once to a literal) and says what the others
// were.
//
// It reads the union of the Python 2.7 and Python 3 grammars (YUM 3 runs
// Python 2 plugins, DNF Python 3): a module neither dialect compiles is an
// *Error; one only one dialect compiles carries that dialect's first feature
// (Module.Py2Only, Module.Py3Only) so that the caller can tell which
// interpreter fails to import it. Input is streamed: memory is bounded
// whatever the size of the file, of a comment or of a literal (a literal's
// value is kept up to Options.MaxLiteral bytes and marked truncated), and
// what a bound cut off is listed in Module.Limits.
package pyscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Run says whether something happens at import.
type Run uint8

const (
	Certain  Run = iota // runs at import (unless an earlier statement raises)
	Possible            // runs at import only if Cond holds
	Never               // cannot run at import (Cond says why)
)

// When is when a statement runs, relative to the module's import.
type When struct {
	Run  Run
	Cond string // the condition it depends on, as Python source ("" when certain)
}

func (w When) String() string {
	switch w.Run {
	case Possible:
		return "possibly (" + w.Cond + ")"
	case Never:
		return "never (" + w.Cond + ")"
	}
	return "certainly"
}

// Options tune a scan.
type Options struct {
	// Major is the major version of the Python that imports the module (2
	// or 3), which decides sys.version_info conditions; 0 when unknown.
	Major int
	// MaxLiteral bounds the bytes kept of one literal's value (default
	// 64 KiB); a longer value is kept truncated.
	MaxLiteral int
}

// DefaultMaxLiteral is the bytes kept of a literal's value by default.
const DefaultMaxLiteral = 64 << 10

// BindKind is how a name is bound.
type BindKind uint8

const (
	BindAssign BindKind = iota // NAME = value (also annotated, walrus, type alias)
	BindDef                    // def NAME
	BindClass                  // class NAME
	BindImport                 // import / from-import
	BindOther                  // a for, with or except target, an augmented assignment
	BindDel                    // del NAME
)

// Value is what a name or attribute is bound to.
type Value struct {
	// Text is the literal's value when Literal, else the expression's
	// source (for an import: the dotted name imported).
	Text    string
	Literal bool
	// String is true for a str or bytes literal (false for a number, a
	// tuple, ...).
	String    bool
	Truncated bool
	// Items are the strings of a tuple or list display made only of
	// string literals.
	Items []string
}

// Binding is one statement that binds a module-level name.
type Binding struct {
	Line  int
	Kind  BindKind
	Value Value
	When  When
}

// Class is a class statement outside any def body.
type Class struct {
	Name string
	Qual string // qualified: Outer.Inner for a nested class
	Line int
	// Bases are dotted names with import aliases resolved; keyword
	// arguments (metaclass=...) are not bases.
	Bases []string
	// Decorators are the decorators' dotted names, resolved like the bases
	// (call arguments dropped).
	Decorators []string
	// Attrs are the class body's own assignments (the last of each name).
	Attrs map[string]Attr
	When  When
}

// Attr is a class attribute.
type Attr struct {
	Value
	Line int
	// When is relative to the class statement: certain when the class
	// body binds the name whenever it runs.
	When When
}

// Func is a def statement outside any def body (module level or a class
// body's method).
type Func struct {
	Name  string
	Qual  string // Class.method for a method
	Class string // the enclosing class's Qual, "" at module level
	Line  int
	When  When
}

// Call is a call of a function that runs a command or code, imports a
// module or opens a network connection.
type Call struct {
	Line int
	// Func is the qualified name of the function whose body makes the
	// call ("" when the call runs at import).
	Func string
	When When // at import (meaningful when Func is "")
	// Callee is the function called, dotted, with import aliases resolved
	// (os.system, subprocess.Popen, exec, socket.connect, ...).
	Callee string
	// Via are the decoders its argument went through, outermost first
	// (base64.b64decode, zlib.decompress, ...).
	Via []string
	// Kind is "command", "code", "import" or "network".
	Kind string
	// Arg is what is run or fetched: the command line (a list argument
	// shell-quoted and joined), the code, the module, the address or URL.
	// What is not a literal shows as {source}.
	Arg       string
	Literal   bool // Arg is entirely literal
	Truncated bool // Arg is a prefix (a literal or the rendering was cut)
}

// Where is the call's place: "import", "import?" (possibly at import),
// "never" (in code that cannot run at import) or "def:<function>".
func (c Call) Where() string {
	switch {
	case c.When.Run == Never:
		return "never"
	case c.Func != "":
		return "def:" + c.Func
	case c.When.Run == Possible:
		return "import?"
	}
	return "import"
}

// String is the call as one line: "<line> <where> <callee> <argument>",
// the callee written with its decoders as callee(decoder(...)), the
// argument with backslashes and control characters escaped as in a Python
// string literal.
func (c Call) String() string {
	callee := c.Callee
	if len(c.Via) > 0 {
		callee += "(" + strings.Join(c.Via, "(") + strings.Repeat(")", len(c.Via))
	}
	return fmt.Sprintf("%d %s %s %s", c.Line, c.Where(), callee, c.Arg)
}

// Feature is a construct only one Python dialect accepts.
type Feature struct {
	What string
	Line int
}

func (f *Feature) String() string { return fmt.Sprintf("%s (line %d)", f.What, f.Line) }

// Module is what a scan found.
type Module struct {
	// Globals are the module-level bindings, in source order per name.
	Globals map[string][]Binding
	// Imports maps a module-level name bound by an import to the dotted
	// module or object it binds (the last such import).
	Imports   map[string]string
	Classes   []Class
	Functions []Func
	Calls     []Call
	// Py2Only is the first construct only Python 2 compiles (Python 3
	// fails to import the module); Py3Only the first only Python 3
	// compiles.
	Py2Only, Py3Only *Feature
	// Limits are the bounds the scan reached: what they cut is not in the
	// result (never silently: each is listed here).
	Limits []string
}

// Constant returns the value of a module-level name bound only to a string
// literal, certainly, at import.
func (m *Module) Constant(name string) (string, bool) {
	bs := m.Globals[name]
	if len(bs) == 0 {
		return "", false
	}
	last := bs[len(bs)-1]
	for _, b := range bs {
		if b.When.Run != Certain {
			return "", false
		}
	}
	if last.Kind != BindAssign || !last.Value.Literal || !last.Value.String {
		return "", false
	}
	return last.Value.Text, true
}

// Error is a syntax error: source neither Python 2 nor Python 3 compiles.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// bailout carries an error out of the recursive descent.
type bailout struct{ err error }

func fail(err error) { panic(bailout{err}) }

// Scan reads a module with the default options.
func Scan(r io.Reader) (*Module, error) { return Options{}.Scan(r) }

// ScanBytes reads a module held in memory.
func ScanBytes(src []byte) (*Module, error) { return Scan(bytes.NewReader(src)) }

// Scan reads a module. A syntax error is an *Error; an error of r is
// returned wrapped.
func (o Options) Scan(r io.Reader) (m *Module, err error) {
	if o.MaxLiteral <= 0 {
		o.MaxLiteral = DefaultMaxLiteral
	}
	feats := &features{}
	sc := newScanner(o, feats)
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			m, err = nil, b.err
			var re *readError
			if errors.As(err, &re) {
				err = fmt.Errorf("read: %w", re.err)
			}
		}
	}()
	lx := newLexer(r, o.MaxLiteral, feats) // reads (for a BOM)
	p := newParser(lx, sc, feats)
	p.file()
	if lx.nonASCIILine != 0 && !lx.cookie {
		feats.py3(lx.nonASCIILine, "a non-ASCII byte without a coding declaration (PEP 263)")
	}
	if feats.p2 != nil && feats.p3 != nil {
		return nil, &Error{Line: max(feats.p2.Line, feats.p3.Line),
			Msg: "Python 2 syntax (" + feats.p2.String() + ") and Python 3 syntax (" + feats.p3.String() + ") in one module: neither compiles it"}
	}
	sc.finish()
	sc.mod.Py2Only, sc.mod.Py3Only = feats.p2, feats.p3
	return sc.mod, nil
}

// features records the first construct of each dialect.
type features struct {
	p2, p3 *Feature
}

func (f *features) py2(line int, what string) {
	if f.p2 == nil {
		f.p2 = &Feature{What: what, Line: line}
	}
}

func (f *features) py3(line int, what string) {
	if f.p3 == nil {
		f.p3 = &Feature{What: what, Line: line}
	}
}
