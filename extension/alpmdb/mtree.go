package alpmdb

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// libalpm keeps each installed package's .MTREE (written by makepkg with
// bsdtar --format=mtree) as DBPath/local/<name>-<version>/mtree and reads
// it back through libarchive with every decompression filter and the mtree
// format (lib/libalpm/be_local.c _cache_mtree_open). `pacman -Qkk`
// (src/pacman/check.c check_pkg_full) walks its entries and, for regular
// files, compares the file's MD5 and SHA-256 with the md5digest and
// sha256digest keywords. The reader below follows libarchive's
// (libarchive/archive_read_support_format_mtree.c read_mtree,
// process_global_set, process_add_entry, parse_file, parse_escapes).

// Bounds of the mtree reader: libarchive's own line limit (readline is
// called with 65536, a longer line fails the whole file), and pkgpersist's
// bounds on entries and on the decompressed size.
const (
	maxMtreeLine     = 65536
	maxMtreeEntries  = 1 << 22
	maxMtreeKeywords = 1 << 22 // over all entries, /set defaults included
	maxMtreeGlobals  = 64      // distinct /set keys (bsdtar writes at most eight)
	maxMtreeBytes    = 256 << 20
	// pacman's PATH_MAX: check_pkg_full skips a longer path ("path too
	// long")
	maxPath = 4096
)

// ErrLimit is a bound of the readers being hit.
var ErrLimit = errors.New("pacman database over pkgpersist's bounds")

// ErrMtree is an mtree file libarchive would not read (in full).
var ErrMtree = errors.New("mtree format error")

// MtreeEntry is what an mtree file says of one path.
type MtreeEntry struct {
	// Path is absolute as seen inside the root: "./usr/bin/x" is
	// "/usr/bin/x", escapes decoded.
	Path string
	// Type is the type keyword ("file", "dir", "link", ...); libarchive
	// takes an entry without one for a regular file.
	Type string
	// SHA256 and MD5 are the digests, lower-case hex, "" when the entry
	// has none.
	SHA256, MD5 string
	// Link is a symlink's target (the link keyword, escapes decoded as
	// libarchive decodes them: bsdtar writes "a b" as a\040b), "" when
	// the entry has none (a symlink's target is never empty).
	Link string
}

// String is the entry as tests print it: path, type, digests, and the
// link's target after "->" when it has one.
func (e MtreeEntry) String() string {
	s := "{" + e.Path + " " + e.Type + " " + e.SHA256 + " " + e.MD5
	if e.Link != "" {
		s += " -> " + e.Link
	}
	return s + "}"
}

// ReadMtree reads a package's mtree file, gzip-compressed (as makepkg
// writes it) or plain. It returns the entries pacman checks: all of them,
// or, when it meets what libarchive reports as a warning (pacman's
// alpm_pkg_mtree_next then stops, be_local.c _cache_mtree_next), those
// before it, with the error; on what libarchive reports as fatal, none.
func ReadMtree(r io.Reader) ([]MtreeEntry, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrMtree, err)
		}
		defer zr.Close()
		return ParseMtree(zr)
	}
	return ParseMtree(br)
}

// mtreeLine is one entry line: its name as written and its keywords in
// the order libarchive applies them (parse_line walks a list that
// add_option builds by prepending: the line's own keywords, last first,
// then the /set defaults not replaced by one of them, oldest first; a
// later keyword of the same key replaces an earlier one).
type mtreeLine struct {
	name string
	full bool
	kws  []string
}

// ParseMtree reads an uncompressed mtree specification (see ReadMtree).
func ParseMtree(r io.Reader) ([]MtreeEntry, error) {
	lines, err := readMtreeLines(io.LimitReader(r, maxMtreeBytes+1))
	if err != nil {
		// read_mtree reads the whole file before the first entry: an
		// error there leaves pacman nothing to check
		return nil, err
	}
	return mtreeEntries(lines)
}

// readMtreeLines splits the specification into entry lines, applying
// /set and /unset.
func readMtreeLines(r io.Reader) ([]mtreeLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4*maxMtreeLine)
	var global []string
	var out []mtreeLine
	var size, kws int64
	n := 0
	for {
		l, ok, err := logicalLine(sc, &n)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		if size += int64(len(l)) + 1; size > maxMtreeBytes {
			return nil, fmt.Errorf("%w: mtree over %d bytes", ErrLimit, maxMtreeBytes)
		}
		l = strings.TrimLeft(l, " \t")
		switch {
		case l == "" || l[0] == '#' || l[0] == '\r':
		case l[0] != '/':
			e := entryLine(l, global)
			if kws += int64(len(e.kws)); len(out) >= maxMtreeEntries || kws > maxMtreeKeywords {
				return nil, fmt.Errorf("%w: over %d mtree entries or %d keywords", ErrLimit, maxMtreeEntries, maxMtreeKeywords)
			}
			out = append(out, e)
		case strings.HasPrefix(l, "/set") && len(l) > 4 && (l[4] == ' ' || l[4] == '\t'):
			for _, kw := range fields(l[4:]) {
				if global = setKeyword(global, kw); len(global) > maxMtreeGlobals {
					return nil, fmt.Errorf("%w: line %d: over %d /set keywords", ErrLimit, n, maxMtreeGlobals)
				}
			}
		case strings.HasPrefix(l, "/unset") && len(l) > 6 && (l[6] == ' ' || l[6] == '\t'):
			if strings.Contains(l, "=") {
				return nil, fmt.Errorf("%w: line %d: /unset with '='", ErrMtree, n)
			}
			for _, k := range fields(l[6:]) {
				if k == "all" {
					global = nil
				} else {
					global = unsetKeyword(global, k)
				}
			}
		default:
			return nil, fmt.Errorf("%w: can't parse line %d", ErrMtree, n)
		}
	}
}

// logicalLine returns the next line with backslash-newline continuations
// joined (libarchive's readline), failing past libarchive's line limit.
func logicalLine(sc *bufio.Scanner, n *int) (string, bool, error) {
	var b strings.Builder
	for {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				if errors.Is(err, bufio.ErrTooLong) {
					return "", false, fmt.Errorf("%w: line %d: line too long", ErrMtree, *n+1)
				}
				return "", false, err
			}
			return b.String(), b.Len() > 0, nil
		}
		*n++
		l := sc.Text()
		cont := continues(l)
		if cont {
			l = l[:len(l)-1]
		}
		b.WriteString(l)
		if b.Len()+1 > maxMtreeLine {
			return "", false, fmt.Errorf("%w: line %d: line too long", ErrMtree, *n)
		}
		if !cont {
			return b.String(), true, nil
		}
	}
}

// continues reports whether a line ends in an unescaped backslash before
// its newline (readline: "\\" escapes a backslash; a '#' ends the scan).
func continues(l string) bool {
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '#':
			return false
		case '\\':
			if i+1 == len(l) {
				return true
			}
			if l[i+1] == '\\' {
				i++
			}
		}
	}
	return false
}

// fields splits on the blanks libarchive splits keywords on.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
}

// keyOf is a keyword's key: up to its '='.
func keyOf(kw string) string {
	k, _, _ := strings.Cut(kw, "=")
	return k
}

// setKeyword replaces kw's key in list, or adds it (remove_option then
// add_option).
func setKeyword(list []string, kw string) []string {
	return append(unsetKeyword(list, keyOf(kw)), kw)
}

func unsetKeyword(list []string, key string) []string {
	out := list[:0:0]
	for _, v := range list {
		if keyOf(v) != key {
			out = append(out, v)
		}
	}
	return out
}

// entryLine is an entry's name and keywords (process_add_entry).
func entryLine(l string, global []string) mtreeLine {
	f := fields(l)
	name, full := unescape(f[0])
	last := map[string]int{} // key: index in f of its last keyword
	for i := 1; i < len(f); i++ {
		last[keyOf(f[i])] = i
	}
	var kws []string
	for i := len(f) - 1; i >= 1; i-- {
		if last[keyOf(f[i])] == i {
			kws = append(kws, f[i])
		}
	}
	for _, g := range global {
		if _, own := last[keyOf(g)]; !own {
			kws = append(kws, g)
		}
	}
	return mtreeLine{name: name, full: full, kws: kws}
}

// unescape decodes mtree's backslash escapes (parse_escapes: \NNN octal
// with a first digit 0-3, \0 alone, \a \b \f \n \r \s \t \v); full is
// whether the name is a full path (it has a '/' or is ".").
func unescape(s string) (string, bool) {
	full := s == "."
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '/' {
			full = true
		}
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		next := s[i+1]
		switch {
		case next >= '0' && next <= '3' && i+3 < len(s) && octal(s[i+2]) && octal(s[i+3]):
			c = (next-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			i += 3
		case next == '0':
			c = 0
			i++
		case strings.IndexByte("abfnrstv", next) >= 0:
			c = "\a\b\f\n\r \t\v"[strings.IndexByte("abfnrstv", next)]
			i++
		}
		b.WriteByte(c)
	}
	return b.String(), full
}

func octal(c byte) bool { return c >= '0' && c <= '7' }

// mtreeEntries turns entry lines into entries in libarchive's order:
// lines of a full name merge into its first (later keywords win);
// relative names build on the current directory, which a "dir" entry
// enters and ".." leaves (read_header, parse_file).
func mtreeEntries(lines []mtreeLine) ([]MtreeEntry, error) {
	type fullEntry struct {
		first int
		kws   []string
	}
	merged := map[string]*fullEntry{}
	for i, l := range lines {
		if !l.full {
			continue
		}
		if e, ok := merged[l.name]; ok {
			e.kws = append(e.kws, l.kws...)
		} else {
			merged[l.name] = &fullEntry{first: i, kws: l.kws}
		}
	}
	var out []MtreeEntry
	// the current directory of relative names; below a path too long
	// for pacman, only how deep (nothing there is checked)
	var cwd []string
	cwdLen, tooDeep := 0, 0
	for i, l := range lines {
		kws := l.kws
		name := l.name
		switch {
		case l.full:
			if e := merged[l.name]; e.first != i {
				continue
			} else {
				kws = e.kws
			}
		case l.name == "..":
			if tooDeep > 0 {
				tooDeep--
			} else if len(cwd) > 0 {
				cwdLen -= len(cwd[len(cwd)-1]) + 1
				cwd = cwd[:len(cwd)-1]
			}
			continue
		case tooDeep > 0 || cwdLen+1+len(l.name) >= maxPath:
			name = ""
		default:
			name = strings.Join(append(cwd[:len(cwd):len(cwd)], l.name), "/")
		}
		e, err := entryOf(name, kws)
		if err != nil {
			return out, fmt.Errorf("%w: entry %q: %v", ErrMtree, l.name, err)
		}
		if !l.full && e.Type == "dir" {
			if name == "" {
				tooDeep++
			} else {
				cwd = append(cwd, l.name)
				cwdLen += len(l.name) + 1
			}
		}
		if name != "" && len(e.Path) < maxPath {
			out = append(out, e)
		}
	}
	return out, nil
}

// entryOf applies keywords in order (parse_keyword): the digests and the
// symlink target pacman compares and the type; an entry without a type is a regular file, with
// a warning that stops pacman.
func entryOf(name string, kws []string) (MtreeEntry, error) {
	e := MtreeEntry{Path: rootPath(name), Type: "file"}
	typed := false
	for _, kw := range kws {
		k, v, ok := strings.Cut(kw, "=")
		if !ok {
			switch k {
			case "nochange", "optional", "ignore", "":
				continue
			}
			return e, fmt.Errorf("malformed attribute %q", k)
		}
		switch k {
		case "sha256", "sha256digest":
			e.SHA256 = digestHex(v, 32)
		case "md5", "md5digest":
			e.MD5 = digestHex(v, 16)
		case "link":
			e.Link, _ = unescape(v)
		case "type":
			switch v {
			case "block", "char", "dir", "fifo", "file", "link", "socket":
				e.Type = v
			default:
				return e, fmt.Errorf("unrecognized file type %q", v)
			}
			typed = true
		}
	}
	if !typed {
		return e, errors.New("missing type keyword")
	}
	return e, nil
}

// digestHex is a digest value as lower-case hex when it is one of the
// algorithm's length, else "" (libarchive ignores a digest of the wrong
// length).
func digestHex(v string, size int) string {
	raw, err := hex.DecodeString(v)
	if err != nil || len(raw) != size {
		return ""
	}
	return hex.EncodeToString(raw)
}

// rootPath is an mtree name as an absolute path inside the root: pacman
// strips a leading "./" and puts the root before the rest
// (check_pkg_full).
func rootPath(name string) string {
	name = strings.TrimPrefix(name, "./")
	if name == "." {
		return "/"
	}
	return "/" + name
}
