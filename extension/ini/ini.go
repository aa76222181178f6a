// Package ini reads INI files the way libdnf's IniParser and ConfigParser
// do (libdnf/utils/iniparser/iniparser.cpp, libdnf/conf/ConfigParser.cpp as
// shipped with DNF 4 on Debian 12): the parser DNF uses for dnf.conf and
// for its plugins' .conf files. A syntax error fails the whole file, as it
// fails DNF.
package ini

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/lines"
)

// File is a parsed INI file: sections in the order they first appear, keys
// in the order they were first set (a repeated key keeps its place and
// takes the later value, as in libdnf's ordered map).
type File struct {
	Sections []*Section
}

// Section is one [name] and its keys.
type Section struct {
	Name string
	Keys []Key
}

// Key is one key=value with the line that last set it.
type Key struct {
	Name  string
	Value string
	Line  int
}

// Error is a syntax error; libdnf refuses the whole file.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Section returns the named section, nil when absent. Names are
// case-sensitive, as in libdnf.
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Get returns a key's value and whether the key is present.
func (s *Section) Get(key string) (string, bool) {
	if s == nil {
		return "", false
	}
	for _, k := range s.Keys {
		if k.Name == key {
			return k.Value, true
		}
	}
	return "", false
}

// Line returns the line that set key, 0 when absent.
func (s *Section) Line(key string) int {
	if s == nil {
		return 0
	}
	for _, k := range s.Keys {
		if k.Name == key {
			return k.Line
		}
	}
	return 0
}

func (f *File) section(name string) *Section {
	if s := f.Section(name); s != nil {
		return s
	}
	s := &Section{Name: name}
	f.Sections = append(f.Sections, s)
	return s
}

func (s *Section) set(key, value string, line int) {
	for i := range s.Keys {
		if s.Keys[i].Name == key {
			s.Keys[i].Value, s.Keys[i].Line = value, line
			return
		}
	}
	s.Keys = append(s.Keys, Key{key, value, line})
}

const blanks = " \t\r"

// Parse reads data. On a syntax error it returns the error and nothing
// else: libdnf keeps no part of a file it cannot parse.
func Parse(data []byte) (*File, error) {
	return ParseReader(bytes.NewReader(data), nil)
}

// MaxValue bounds the memory one value with its continuation lines may
// take.
const MaxValue = lines.MaxLine

// ParseReader is Parse over a stream of any size. An error that is not a
// syntax error (*Error) means the file could not be read to the end: a
// read error, a line or value over the bound, or stop (polled every few
// thousand lines; nil for never) returning an error.
func ParseReader(r io.Reader, stop func() error) (*File, error) {
	f := &File{}
	lr := lines.New(r, stop)
	var section string
	var key, value string
	keyLine := 0
	pending := false
	flush := func() {
		if pending {
			f.section(section).set(key, trimValue(value), keyLine)
			pending = false
		}
	}
	for {
		line, ok := lr.Next()
		if !ok {
			if err := lr.Err(); err != nil {
				return nil, err
			}
			break
		}
		n := lr.Line()
		if n == 1 {
			line = strings.TrimPrefix(line, "\xef\xbb\xbf")
		}
		if len(value) > MaxValue {
			return nil, fmt.Errorf("not read to the end: a value longer than %d MiB at line %d", MaxValue>>20, keyLine)
		}
		// An empty line or a comment ends a value: no continuation
		// line may follow it.
		if line == "" || line[0] == '#' || line[0] == ';' {
			flush()
			continue
		}
		start := strings.IndexFunc(line, func(r rune) bool { return !strings.ContainsRune(blanks, r) })
		if start < 0 {
			// a line of blanks continues a value with an empty line
			if pending {
				value += "\n"
			}
			continue
		}
		// the last byte that is not blank (libdnf works on bytes, not runes)
		end := len(line) - 1
		for end >= 0 && strings.IndexByte(blanks, line[end]) >= 0 {
			end--
		}
		if pending && (start == 0 || line[start] == '[') {
			flush()
		}
		if line[start] == '[' {
			close := strings.IndexByte(line[start+1:], ']')
			if close < 0 {
				return nil, &Error{n, "missing ']'"}
			}
			close += start + 1
			if close == start+1 {
				return nil, &Error{n, "empty section name"}
			}
			// libdnf checks up to, not including, the last non-blank
			for j := close + 1; j < end; j++ {
				ch := line[j]
				if ch == '#' || ch == ';' {
					break
				}
				if ch != ' ' && ch != '\t' && ch != '\r' {
					return nil, &Error{n, "text after section"}
				}
			}
			section = line[start+1 : close]
			f.section(section)
			continue
		}
		if section == "" {
			return nil, &Error{n, "missing section header"}
		}
		if start > 0 {
			if !pending {
				return nil, &Error{n, "illegal continuation line"}
			}
			value += "\n" + line[start:end+1]
			continue
		}
		if line[start] == '=' {
			return nil, &Error{n, "missing key"}
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			return nil, &Error{n, "missing '='"}
		}
		key = strings.TrimRight(line[:eq], " \t")
		value = ""
		if rest := strings.TrimLeft(line[eq+1:], " \t"); rest != "" {
			vstart := len(line) - len(rest)
			if end+1 >= vstart {
				value = line[vstart : end+1]
			} else {
				// blanks, then only CRs: libdnf's substr length wraps
				// around and it keeps the rest of the line
				value = line[vstart:]
			}
		}
		keyLine = n
		pending = true
	}
	flush()
	return f, nil
}

// trimValue is libdnf's: trailing newlines go, then one pair of matching
// quotes around the whole value.
func trimValue(v string) string {
	// a value of nothing but newlines is kept whole (find_last_not_of
	// finds nothing, and libdnf then trims nothing)
	if t := strings.TrimRight(v, "\n"); t != "" {
		v = t
	}
	if len(v) > 1 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// Bool parses a boolean as libdnf's OptionBool does: 1/yes/true/on and
// 0/no/false/off, any case. ok is false for anything else, which DNF
// treats as an error.
func Bool(v string) (value, ok bool) {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		return true, true
	case "0", "no", "false", "off":
		return false, true
	}
	return false, false
}

// List splits a list value as libdnf's OptionStringList does: on commas,
// spaces and newlines (runs of spaces around a comma count once; two
// commas make an empty entry).
func List(v string) []string {
	v = strings.Trim(v, " \n")
	if v == "" {
		return nil
	}
	var out []string
	cur := strings.Builder{}
	i := 0
	for i < len(v) {
		c := v[i]
		if c == ' ' || c == '\n' || c == ',' {
			// one separator: blanks, at most one comma, blanks
			j := i
			for j < len(v) && (v[j] == ' ' || v[j] == '\n') {
				j++
			}
			if j < len(v) && v[j] == ',' {
				j++
				for j < len(v) && (v[j] == ' ' || v[j] == '\n') {
					j++
				}
			}
			out = append(out, cur.String())
			cur.Reset()
			i = j
			continue
		}
		cur.WriteByte(c)
		i++
	}
	return append(out, cur.String())
}
