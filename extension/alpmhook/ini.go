// Package alpmhook reads pacman's (libalpm's) hook files the way libalpm
// 6.0.2 does: src/common/ini.c parse_ini for the lines, lib/libalpm/hook.c
// _alpm_hook_parse_cb for the keys and _alpm_hook_validate for what a hook
// must have, and src/common/util-common.c wordsplit for Exec.
package alpmhook

import (
	"bufio"
	"bytes"
	"io"
)

// lineMax is parse_ini's buffer (char line[PATH_MAX]): fgets reads at most
// PATH_MAX-1 bytes at a time, so a longer line reaches the parser as
// several lines, each counted (ini.c: safe_fgets(line, PATH_MAX, fp)).
const lineMax = 4096 - 1

// Directive is one line parse_ini hands its callback: the start of a
// section (Key and Value unset), or a key with its value.
type Directive struct {
	Line    int
	Section string
	// InSection is false before the first section header.
	InSection bool
	// Start marks a section header line.
	Start bool
	Key   string
	Value string
	// HasValue is false for a line without '=' (libalpm gets NULL).
	HasValue bool
}

// ScanINI feeds each directive of r to cb, as parse_ini does, until cb
// returns false, stop returns true (checked every few thousand lines) or
// r ends. It returns how r ended: nil at its end, the read error, or
// errStopped.
func ScanINI(r io.Reader, stop func() bool, cb func(Directive) bool) error {
	// a buffer just over one fgets chunk: hook files are many and small
	br := bufio.NewReaderSize(r, 8<<10)
	var section string
	inSection := false
	for n := 1; ; n++ {
		if n%4096 == 0 && stop != nil && stop() {
			return ErrStopped
		}
		line, err := readChunk(br)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		d, ok := directive(line, n)
		if !ok {
			continue
		}
		if d.Start {
			section, inSection = d.Section, true
		}
		d.Section, d.InSection = section, inSection
		if !cb(d) {
			return nil
		}
	}
}

// readChunk is one fgets(buf, PATH_MAX): up to and including a newline,
// at most lineMax bytes. The chunk is valid until the next read.
func readChunk(br *bufio.Reader) ([]byte, error) {
	p, err := br.Peek(lineMax)
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		p = p[:i+1]
		err = nil
	}
	if len(p) > 0 {
		// Discard keeps what Peek returned in the buffer
		_, _ = br.Discard(len(p))
		return p, nil
	}
	return nil, err
}

// directive interprets one fgets chunk: C string semantics (a NUL ends
// it), strtrim, '#' comments, [section] headers, key = value split at the
// first '='.
func directive(chunk []byte, n int) (Directive, bool) {
	if i := bytes.IndexByte(chunk, 0); i >= 0 {
		chunk = chunk[:i]
	}
	line := trim(chunk)
	if len(line) == 0 || line[0] == '#' {
		return Directive{}, false
	}
	if line[0] == '[' && line[len(line)-1] == ']' {
		name := ""
		if len(line) >= 2 {
			name = string(line[1 : len(line)-1])
		}
		return Directive{Line: n, Start: true, Section: name}, true
	}
	key, value, has := bytes.Cut(line, []byte("="))
	return Directive{Line: n, Key: string(trim(key)), Value: string(trim(value)), HasValue: has}, true
}

// isSpace is C's isspace in the C and UTF-8 locales, byte by byte.
func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

func trim(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
