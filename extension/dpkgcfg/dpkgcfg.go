// Package dpkgcfg reads dpkg's configuration files the way dpkg 1.21 does
// (lib/dpkg/options.c dpkg_options_load / dpkg_options_load_file,
// src/main/main.c cmdinfos): which files, in which order, each line's option
// and value, and the errors that stop dpkg for every action.
package dpkgcfg

import (
	"bufio"
	"bytes"
	"io"
	"sort"
	"strings"
)

// MaxLine is fgets' buffer in dpkg_options_load_file: a longer physical line
// is read as several lines.
const MaxLine = 1024

// Options dpkg's command line (and so its configuration files) accepts,
// with whether each takes a value: 0 none, 1 a value, 2 a value or a
// "-suffix" (force-xxx). From src/main/main.c cmdinfos.
var Options = map[string]int{
	"install": 0, "unpack": 0, "record-avail": 0, "configure": 0, "remove": 0, "purge": 0,
	"triggers-only": 0, "verify": 0, "listfiles": 0, "status": 0, "get-selections": 0,
	"set-selections": 0, "clear-selections": 0, "print-avail": 0, "update-avail": 0,
	"merge-avail": 0, "clear-avail": 0, "forget-old-unavail": 0, "audit": 0, "yet-to-unpack": 0,
	"list": 0, "search": 0, "assert": 0, "add-architecture": 0, "remove-architecture": 0,
	"print-architecture": 0, "print-foreign-architectures": 0, "predep-package": 0,
	"validate-pkgname": 0, "validate-trigname": 0, "validate-archname": 0, "validate-version": 0,
	"compare-versions": 0, "help": 0, "version": 0,
	"pre-invoke": 1, "post-invoke": 1, "path-exclude": 1, "path-include": 1, "verify-format": 1,
	"status-logger": 1, "status-fd": 1, "log": 1,
	"pending": 0, "recursive": 0, "no-act": 0, "dry-run": 0, "simulate": 0, "no-pager": 0,
	"no-debsig": 0, "selected-only": 0, "triggers": 0, "no-triggers": 0, "no-also-select": 0,
	"skip-same-version": 0, "auto-deconfigure": 0, "robot": 0,
	"root": 1, "abort-after": 1, "admindir": 1, "instdir": 1, "ignore-depends": 1,
	"force": 2, "refuse": 2, "no-force": 2, "debug": 1,
	"build": 0, "contents": 0, "control": 0, "info": 0, "field": 0, "extract": 0, "vextract": 0,
	"ctrl-tarfile": 0, "fsys-tarfile": 0,
}

// Commands are the options whose value dpkg runs with sh -c.
var Commands = []string{"pre-invoke", "post-invoke", "status-logger"}

// IsCommand reports an option whose value dpkg runs.
func IsCommand(opt string) bool {
	for _, c := range Commands {
		if c == opt {
			return true
		}
	}
	return false
}

// Line is one option a file sets.
type Line struct {
	Line   int // fgets call number: a physical line over MaxLine bytes counts more than once
	Option string
	Value  string
	// HasValue is false for an option given without a value.
	HasValue bool
}

// Error is a configuration error: dpkg stops, for every action.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return "line " + itoa(e.Line) + ": " + e.Msg }

// Parse reads one file's options in order. It stops at the first error,
// as dpkg does, returning what came before it.
func Parse(data []byte) ([]Line, *Error) {
	lines, err, _ := ParseReader(bytes.NewReader(data), nil)
	return lines, err
}

// ParseReader is Parse over a stream of any size: it holds one fgets
// buffer at a time. stop is polled every few thousand lines (nil for
// never); when it returns an error, reading stops and it is returned as
// well. A read error is returned the same way: dpkg would stop on it too.
func ParseReader(r io.Reader, stop func() error) ([]Line, *Error, error) {
	br := bufio.NewReaderSize(r, 4<<10)
	var out []Line
	var buf []byte
	n := 0
	for {
		if n%4096 == 4095 && stop != nil {
			if err := stop(); err != nil {
				return out, nil, err
			}
		}
		// fgets: up to MaxLine-1 bytes, or through the newline
		buf = buf[:0]
		for len(buf) < MaxLine-1 {
			p, err := br.Peek(min(MaxLine-1-len(buf), max(br.Buffered(), 1)))
			if len(p) == 0 {
				if err != nil && err != io.EOF {
					return out, nil, err
				}
				break
			}
			if i := bytes.IndexByte(p, '\n'); i >= 0 {
				buf = append(buf, p[:i+1]...)
				br.Discard(i + 1)
				break
			}
			buf = append(buf, p...)
			br.Discard(len(p))
		}
		if len(buf) == 0 {
			return out, nil, nil
		}
		raw := buf
		n++
		// C string functions stop at a NUL
		if z := indexByte(raw, 0); z >= 0 {
			raw = raw[:z]
		}
		if len(raw) == 0 || raw[0] == '#' || raw[0] == '\n' {
			continue
		}
		line := strings.TrimRight(string(raw), " \t\n\v\f\r")
		i := 0
		for i < len(line) && (isAlnum(line[i]) || line[i] == '-') {
			i++
		}
		name := line[:i]
		l := Line{Line: n, Option: name}
		if i < len(line) {
			v := line[i+1:] // the separator byte, whatever it is, is dropped
			v = strings.TrimPrefix(v, "=")
			v = strings.TrimLeft(v, " \t\n\v\f\r")
			// str_strip_quotes: an outer pair that matches; a lone quote
			// is its own pair
			if v != "" && (v[0] == '"' || v[0] == '\'') {
				if v[len(v)-1] != v[0] {
					return out, &Error{n, "unbalanced quotes in '" + line + "'"}, nil
				}
				if len(v) == 1 {
					v = ""
				} else {
					v = v[1 : len(v)-1]
				}
			}
			l.Value, l.HasValue = v, true
		}
		takes, known := Options[name]
		if !known {
			// force-xxx, refuse-xxx, no-force-xxx without a value
			for opt, t := range Options {
				if t == 2 && !l.HasValue && strings.HasPrefix(name, opt+"-") {
					takes, known = 2, true
					l.Option, l.Value, l.HasValue = opt, name[len(opt)+1:], true
					break
				}
			}
		}
		switch {
		case !known:
			return out, &Error{n, "unknown option '" + name + "'"}, nil
		case takes > 0 && !l.HasValue:
			return out, &Error{n, "'" + name + "' needs a value"}, nil
		case takes == 0 && l.HasValue:
			return out, &Error{n, "'" + name + "' does not take a value"}, nil
		}
		out = append(out, l)
	}
}

// ValidName is dpkg's valid_config_filename: only [A-Za-z0-9_-], and not
// starting with '.'.
func ValidName(name string) bool {
	if name == "" || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// SortNames orders dpkg.cfg.d entries as alphasort does in the C locale
// (byte order); under another locale dpkg's order follows strcoll.
func SortNames(names []string) { sort.Strings(names) }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
