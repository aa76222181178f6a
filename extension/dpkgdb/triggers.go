package dpkgdb

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// maxTrigLine is dpkg's buffer for one line of a triggers control file
// (MAXTRIGDIRECTIVE in lib/dpkg/triglib.c): fgets_checked refuses a line
// that does not fit in it with its newline.
const maxTrigLine = 256

// Directive is one directive of a package's triggers control file
// (deb-triggers(5)).
type Directive struct {
	Line int
	// Kind is interest, interest-await, interest-noawait, activate,
	// activate-await or activate-noawait.
	Kind string
	Name string // the trigger: a name, or an absolute path for a file trigger
}

// TriggersError is what makes dpkg stop on a triggers file
// (trig_parse_ci): it refuses the package that carries it.
type TriggersError struct {
	Line int
	Msg  string
}

func (e *TriggersError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

var directives = map[string]bool{
	"interest": true, "interest-await": true, "interest-noawait": true,
	"activate": true, "activate-await": true, "activate-noawait": true,
}

// blank is what dpkg 1.21 skips around directives and names: a space or
// a tab only (a carriage return or form feed is part of the word, as dpkg
// itself shows; TestTriggersOracle asks it).
func blank(c byte) bool { return c == ' ' || c == '\t' }

// ParseTriggers reads a triggers control file as dpkg's trig_parse_ci
// does: blank lines and lines whose first non-blank is '#' are skipped;
// every other line is a directive and a trigger name separated by blanks.
// The directives before the first error are returned with it; err is a
// read error.
func ParseTriggers(r io.Reader) ([]Directive, *TriggersError, error) {
	br := bufio.NewReaderSize(r, maxTrigLine)
	var out []Directive
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == io.EOF && len(line) == 0 {
			return out, nil, nil
		}
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return out, nil, err
		}
		// fgets_checked: the line must fit the buffer with its newline, end
		// in one, and hold no NUL (the C string would end there)
		if len(line) >= maxTrigLine || line[len(line)-1] != '\n' || bytes.IndexByte(line, 0) >= 0 {
			if line[0] == 0 {
				return out, &TriggersError{n, "fgets gave an empty string"}, nil
			}
			return out, &TriggersError{n, "too-long line or missing newline"}, nil
		}
		l := line[:len(line)-1]
		i := 0
		for i < len(l) && blank(l[i]) {
			i++
		}
		if i < len(l) && l[i] == '#' {
			continue
		}
		e := len(l)
		for e > i && blank(l[e-1]) {
			e--
		}
		if e == i {
			continue
		}
		cmd := l[i:e]
		sp := 0
		for sp < len(cmd) && !blank(cmd[sp]) {
			sp++
		}
		if sp == len(cmd) {
			return out, &TriggersError{n, "unknown directive syntax"}, nil
		}
		name := cmd[sp+1:]
		for len(name) > 0 && blank(name[0]) {
			name = name[1:]
		}
		kind := string(cmd[:sp])
		if !directives[kind] {
			return out, &TriggersError{n, fmt.Sprintf("unknown directive '%s'", kind)}, nil
		}
		if msg := illegalTrigger(name); msg != "" {
			return out, &TriggersError{n, fmt.Sprintf("illegal trigger syntax in trigger name '%s': %s", name, msg)}, nil
		}
		out = append(out, Directive{Line: n, Kind: kind, Name: string(name)})
	}
}

// illegalTrigger is dpkg's trig_name_is_illegal.
func illegalTrigger(name []byte) string {
	if len(name) == 0 {
		return "empty trigger names are not permitted"
	}
	for _, c := range name {
		if c <= ' ' || c >= 0177 {
			return "trigger name contains invalid character"
		}
	}
	return ""
}

// DirectiveLines renders the directives one per line, as the condition of a
// triggers row.
func DirectiveLines(ds []Directive) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Kind + " " + d.Name)
	}
	return b.String()
}
