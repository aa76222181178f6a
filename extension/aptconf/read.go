package aptconf

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	iofs "io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// FS is the file system as apt sees it: names are absolute, or relative to
// apt's working directory, which is taken to be "/".
type FS interface {
	// Open opens a regular file for reading, whatever its size. It must
	// not block on a FIFO or read a device; it says why instead. When the
	// file can say so, it gives the digests of what was read (see
	// fsroot.File).
	Open(name string) (io.ReadCloser, error)
	// ReadDir lists the names in a directory (any order).
	ReadDir(name string) ([]string, error)
	// Kind says what name is after following symlinks: "file", "dir",
	// another kind ("fifo", "device", ...), or "" when it cannot be stat'ed.
	Kind(name string) string
}

type digester interface {
	Digests() (fsroot.Digests, bool)
}

// describer is an open file that can say what it is (fsroot.File): its
// facts come with the open, without another lookup of its name.
type describer interface {
	Facts() fsroot.Facts
}

// typedLister is an FS that lists a directory with the types of its
// entries as the kernel reports them (fsroot.Root). apt, reading a
// directory, stats only the entries that are not regular files.
type typedLister interface {
	ReadDirEntries(name string) ([]iofs.DirEntry, error)
}

// MaxIncludeDepth is apt's limit on nested #include directives.
const MaxIncludeDepth = 10

// File is a configuration file apt met while reading, in the order it met
// them: read, ignored, or failed.
type File struct {
	Path string
	// IncludedFrom is the #include that named it; nil for the parts
	// directory, the main file and APT_CONFIG.
	IncludedFrom *Origin
	// Ignored says why apt skips the file without reading it ("" if read).
	Ignored string
	// Err is the error that stopped apt reading this file; apt then
	// refuses to run.
	Err *Error
	// Unread says why this reader did not read to the end a file apt
	// does read (a bound on its work, or the caller's deadline): the
	// entries after that point are unknown, and apt's verdict with them.
	Unread string
	// Digests of the file when it was read to the end (nil otherwise).
	Digests *fsroot.Digests
	// Facts of the file as it was opened, when the FS says (nil
	// otherwise); their SHA256 is that of Digests.
	Facts *fsroot.Facts
}

// Error is a problem apt reports for a file.
type Error struct {
	Origin
	Msg string
	// limit marks a file this reader gave up on for its cost, not one
	// apt rejects.
	limit bool
}

// MaxWork bounds what reading the configuration may cost (see Config.work):
// far above any real configuration, low enough to answer in about a second.
const MaxWork = 200 << 20

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// Reader reads files into Conf, as apt's ReadConfigFile and ReadConfigDir.
type Reader struct {
	Conf  *Config
	FS    FS
	Files []*File
	// Interrupted is checked between files; when it returns an error the
	// reader stops and reports it.
	Interrupted func() error
	// NoIncludes makes #include a no-op, for reading a file on its own.
	NoIncludes bool
	stopped    error
	// spare are buffers of files read to the end, for the next file: a
	// directory of thousands of small files would take one each.
	spare []*bufio.Reader
}

// Stopped is the error that interrupted reading, if any.
func (r *Reader) Stopped() error { return r.stopped }

func (r *Reader) interrupted() bool {
	if r.stopped != nil {
		return true
	}
	if r.Interrupted != nil {
		r.stopped = r.Interrupted()
	}
	return r.stopped != nil
}

// ReadFile reads one configuration file; false means apt would fail.
func (r *Reader) ReadFile(name string, depth int, from *Origin) bool {
	f := &File{Path: absolute(name), IncludedFrom: from}
	r.Files = append(r.Files, f)
	if r.interrupted() {
		f.Err = &Error{Origin: Origin{f.Path, 0}, Msg: "not read: " + r.stopped.Error()}
		return false
	}
	st, err := r.FS.Open(f.Path)
	if err != nil {
		f.Err = &Error{Origin: Origin{f.Path, 0}, Msg: "unable to read: " + err.Error()}
		return false
	}
	defer st.Close()
	if d, ok := st.(describer); ok {
		facts := d.Facts()
		f.Facts = &facts
	}
	if r.NoIncludes {
		depth = -1
	}
	lr := &lineReader{br: r.buffer(st)}
	defer r.release(lr.br)
	e := parse(r, f.Path, lr, depth)
	if e == nil && lr.err != nil {
		// apt fails on a read error like on a syntax error
		e = &Error{Origin: Origin{f.Path, 0}, Msg: "unable to read: " + lr.err.Error()}
	}
	if d, ok := st.(digester); ok && e == nil {
		if sums, whole := d.Digests(); whole {
			f.Digests = &sums
		}
	}
	if f.Facts != nil {
		f.Facts.SHA256 = ""
		if f.Digests != nil {
			f.Facts.SHA256 = f.Digests.SHA256
		}
	}
	if e != nil {
		if e.limit {
			f.Unread = e.Msg
			return true
		}
		f.Err = e
		return false
	}
	return true
}

// buffer returns a reader of st, with a spare buffer when there is one.
func (r *Reader) buffer(st io.Reader) *bufio.Reader {
	if n := len(r.spare); n > 0 {
		br := r.spare[n-1]
		r.spare = r.spare[:n-1]
		br.Reset(st)
		return br
	}
	return bufio.NewReaderSize(st, 8<<10)
}

// release keeps br for the next file.
func (r *Reader) release(br *bufio.Reader) {
	br.Reset(nil)
	r.spare = append(r.spare, br)
}

// ReadDir reads the files of a directory apt accepts, in apt's order, and
// records the ones it skips with the reason.
func (r *Reader) ReadDir(dir string, depth int, from *Origin) bool {
	accepted, ok := r.listDir(dir, from)
	for _, p := range accepted {
		ok = r.ReadFile(p, depth, from) && ok
	}
	return ok
}

// listDir is apt's GetListOfFilesInDir(dir, "conf", true, true).
func (r *Reader) listDir(dir string, from *Origin) ([]string, bool) {
	dir = absolute(dir)
	if r.FS.Kind(dir) != "dir" {
		f := &File{Path: dir, IncludedFrom: from, Err: &Error{Origin: Origin{dir, 0}, Msg: "not a directory: apt cannot list its files"}}
		r.Files = append(r.Files, f)
		return nil, false
	}
	names, regular, err := r.readDir(dir)
	if err != nil && len(names) == 0 {
		f := &File{Path: dir, IncludedFrom: from, Err: &Error{Origin: Origin{dir, 0}, Msg: "unable to read directory: " + err.Error()}}
		r.Files = append(r.Files, f)
		return nil, false
	}
	if err != nil {
		// a partial listing (a size limit): what was listed is read
		r.Files = append(r.Files, &File{Path: dir, IncludedFrom: from, Unread: "directory only partly listed: " + err.Error()})
	}
	silent := r.silentPatterns()
	var accepted []string
	var ignored []*File
	for _, n := range names {
		p := absolute(combine(dir, n))
		why, quiet := fileRule(n, func() string {
			if regular[n] {
				return "file"
			}
			return r.FS.Kind(p)
		})
		if why == "" {
			accepted = append(accepted, p)
			continue
		}
		if why == skipDir {
			continue
		}
		if !quiet {
			for _, re := range silent {
				if re.MatchString(n) {
					why += " (silently: matches Dir::Ignore-Files-Silently " + re.String()[4:] + ")"
					break
				}
			}
		}
		ignored = append(ignored, &File{Path: p, IncludedFrom: from, Ignored: why})
	}
	sort.Strings(accepted)
	sort.Slice(ignored, func(i, j int) bool { return ignored[i].Path < ignored[j].Path })
	r.Files = append(r.Files, ignored...)
	return accepted, true
}

const skipDir = "directory"

// readDir lists dir, with the names the kernel reports as regular files
// when the FS can say.
func (r *Reader) readDir(dir string) (names []string, regular map[string]bool, err error) {
	tl, ok := r.FS.(typedLister)
	if !ok {
		names, err = r.FS.ReadDir(dir)
		return names, nil, err
	}
	ents, err := tl.ReadDirEntries(dir)
	names = make([]string, len(ents))
	regular = make(map[string]bool, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
		if e.Type().IsRegular() {
			regular[e.Name()] = true
		}
	}
	return names, regular, err
}

// fileRule says why apt skips a directory entry ("" when it reads it), and
// whether apt skips it without a notice whatever Dir::Ignore-Files-Silently
// says. kind is asked only when needed.
func fileRule(name string, kind func() string) (why string, quiet bool) {
	if strings.HasPrefix(name, ".") {
		return "ignored by apt: hidden file (name starts with '.')", true
	}
	switch k := kind(); k {
	case "file":
	case "dir":
		return skipDir, true
	case "":
		return "ignored by apt: cannot be stat'ed (dangling symlink or symlink loop)", false
	default:
		return "ignored by apt: not a regular file (" + k + ")", false
	}
	// apt asks for the extension "conf" or none; a name ending in '.' has
	// the empty extension, which passes here and fails below.
	if ext := extension(name); ext != name && ext != "conf" && ext != "" {
		return fmt.Sprintf("ignored by apt: extension %q is not \"conf\"", ext), false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAlnum(c) || c == '_' || c == '-' || c == ':' || c == '.' {
			continue
		}
		return fmt.Sprintf("ignored by apt: character %q is not allowed in a file name", rune(c)), true
	}
	if strings.HasSuffix(name, ".") {
		return "ignored by apt: name ends with '.'", true
	}
	return "", false
}

// extension is apt's flExtension: what follows the last '.', or the whole
// name when there is none.
func extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name
	}
	return name[i+1:]
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// absolute names a file as seen from apt's working directory, "/".
func absolute(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/" + name
}

// combine is apt's flCombine.
func combine(dir, file string) string {
	if file == "" || strings.HasPrefix(file, "/") {
		return file
	}
	if strings.HasPrefix(file, "./") || strings.HasPrefix(file, "../") {
		return file
	}
	if strings.HasSuffix(dir, "/") {
		return dir + file
	}
	return dir + "/" + file
}

func (r *Reader) silentPatterns() []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, p := range r.Conf.FindVector("Dir::Ignore-Files-Silently") {
		re, err := regexp.Compile("(?i)" + p)
		if err == nil {
			out = append(out, re)
		}
	}
	return out
}

// FindVector is apt's Configuration::FindVector without a default.
func (c *Config) FindVector(name string) []string {
	top := c.Lookup(name, false)
	if top == nil {
		return nil
	}
	if top.Value != "" {
		return strings.Split(top.Value, ",")
	}
	var out []string
	for _, ch := range top.Children {
		out = append(out, ch.Value)
	}
	return out
}

// lineReader emulates apt's FileFd::ReadLine(std::string&), quirks included:
// lines are read in chunks of at most 4095 bytes, each cut at its first NUL;
// trailing CR/LF are removed; end-of-file is only noticed by a read that
// finds nothing, so data ending in a newline yields one more empty line, and
// a last line of exactly 4095·n bytes with no newline is lost. It streams:
// what it holds is one line, whatever the size of the file.
type lineReader struct {
	br  *bufio.Reader
	buf []byte
	eof bool
	err error // a read error other than the end of the file
	// stop is polled while a long line is read; when it says so, the
	// reader ends as if at the end of the file, with stopped set.
	stop    func() bool
	stopped bool
	// long is set when a line was longer than MaxLine: the rest of it
	// was read but not kept.
	long bool
}

// MaxLine bounds the memory one line may take (apt keeps a whole line, and
// a statement spread over lines, in memory too).
const MaxLine = 64 << 20

// chunk is FileFdPrivate::InternalReadLine with a 4096-byte buffer.
func (l *lineReader) chunk() ([]byte, bool) {
	l.buf = l.buf[:0]
	size := 4095
	for size > 0 {
		if l.br.Buffered() == 0 {
			if _, err := l.br.Peek(1); err != nil {
				if err != io.EOF {
					l.err = err
				}
				l.eof = true
				if len(l.buf) == 0 {
					return nil, false
				}
				break
			}
		}
		p, _ := l.br.Peek(min(size, l.br.Buffered()))
		if nl := indexByte(p, '\n'); nl >= 0 {
			l.buf = append(l.buf, p[:nl+1]...)
			l.br.Discard(nl + 1)
			break
		}
		l.buf = append(l.buf, p...)
		l.br.Discard(len(p))
		size -= len(p)
	}
	return l.buf, true
}

func (l *lineReader) readLine() string {
	var out []byte
	for chunks := 1; ; chunks++ {
		if chunks%1024 == 0 && l.stop != nil && l.stop() {
			l.stopped, l.eof = true, true
			return ""
		}
		c, ok := l.chunk()
		if !ok {
			// apt's quirk: the line read so far is dropped
			return ""
		}
		n := len(c)
		if z := indexByte(c, 0); z >= 0 {
			n = z
		}
		if len(out)+n > MaxLine {
			l.long = true
		} else {
			out = append(out, c[:n]...)
		}
		if !(n == 4095 && c[n-1] != '\n') {
			break
		}
	}
	i := len(out)
	for i > 0 && (out[i-1] == '\r' || out[i-1] == '\n') {
		i--
	}
	return string(out[:i])
}

func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }

// isSpace is C's isspace in the C and UTF-8 locales.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func strip(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// cstr is what C code sees of a string: everything before the first NUL.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

const includeFailed = "included from here: cannot read "

var magicComments = []string{"clear", "include", "x-apt-configure-index"}

// stripLineComments cuts a line at the first "//", or "#" that is not a
// magic directive, with an even number of quotes before it. apt counts the
// quotes before each candidate anew; counting as we go gives the same answer
// in linear time.
func stripLineComments(line string) string {
	if i := findOutsideQuotes(line, "//"); i >= 0 {
		line = line[:i]
	}
	q := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			q++
		case '#':
			if q%2 != 0 {
				continue
			}
			magic := false
			for _, m := range magicComments {
				magic = magic || strings.HasPrefix(line[i+1:], m)
			}
			if !magic {
				return line[:i]
			}
		}
	}
	return line
}

// findOutsideQuotes returns the first index of a two-byte marker with an
// even number of quotes before it, or -1.
func findOutsideQuotes(line, marker string) int {
	q := 0
	for i := 0; i+1 < len(line); i++ {
		if line[i] == '"' {
			q++
			continue
		}
		if line[i] == marker[0] && line[i+1] == marker[1] && q%2 == 0 {
			return i
		}
	}
	return -1
}

// parse is apt's ReadConfigFile loop over the lines of one file.
func parse(r *Reader, name string, lr *lineReader, depth int) *Error {
	conf := r.Conf
	var lineBuffer string
	// The enclosing scope is always a prefix of the current one, so the
	// scope stack keeps lengths: deep nesting then costs no copies.
	var parent []byte
	var stack []int
	curLine := 0
	inComment := false
	fail := func(format string, a ...any) *Error {
		return &Error{Origin: Origin{name, curLine}, Msg: "syntax error: " + fmt.Sprintf(format, a...)}
	}
	leave := func() {
		if len(stack) == 0 {
			parent = parent[:0]
		} else {
			parent = parent[:stack[len(stack)-1]]
			stack = stack[:len(stack)-1]
		}
	}
	steps := 0
	lr.stop = r.interrupted
	for !lr.eof {
		input := lr.readLine()
		input = strip(strings.ReplaceAll(input, "\t", "        "))
		curLine++
		if lr.stopped || curLine%1024 == 0 && r.interrupted() {
			return &Error{Origin: Origin{name, curLine}, Msg: "not read to the end: " + r.stopped.Error(), limit: true}
		}
		if lr.long {
			return &Error{Origin: Origin{name, curLine}, Msg: fmt.Sprintf("not read to the end: a line longer than %d MiB", MaxLine>>20), limit: true}
		}
		line := input

		if inComment {
			end := strings.Index(line, "*/")
			if end < 0 {
				continue
			}
			line = line[end+2:]
			inComment = false
		}

		line = stripLineComments(line)

		// multi-line comments
		var fragment strings.Builder
		for {
			open := findOutsideQuotes(line, "/*")
			if open < 0 {
				break
			}
			fragment.WriteString(line[:open])
			end := strings.Index(line[open+2:], "*/")
			if end < 0 {
				line = ""
				inComment = true
				break
			}
			line = line[open+2+end+2:]
		}
		fragment.WriteString(line)
		frag := fragment.String()
		if frag == "" {
			continue
		}

		inQuote := false
		start := 0
		for i := 0; i < len(frag); i++ {
			c := frag[i]
			if c == '"' {
				inQuote = !inQuote
			}
			if inQuote || (c != '{' && c != ';' && c != '}') {
				continue
			}
			if steps++; steps%4096 == 0 && r.interrupted() {
				return &Error{Origin: Origin{name, curLine}, Msg: "not read to the end: " + r.stopped.Error(), limit: true}
			}
			ws, we := start, i
			for ws != i && isSpace(frag[ws]) {
				ws++
			}
			for we != ws && isSpace(frag[we-1]) {
				we--
			}
			if lineBuffer != "" && we-ws != 0 {
				lineBuffer += " "
			}
			lineBuffer += frag[ws:we]
			term := c
			start = i + 1

			if term == '{' && lineBuffer == "" {
				return fail("block starts with no name")
			}
			if lineBuffer == "" {
				if term == '}' {
					leave()
				}
				continue
			}

			pos := cstr(lineBuffer)
			tag, rest, ok := parseQuoteWord(pos)
			if !ok {
				return fail("malformed tag")
			}
			pos = rest
			word, rest, ok := parseCWord(pos)
			if !ok {
				word, rest, ok = parseQuoteWord(pos)
			}
			noWord := false
			if ok {
				pos = rest
			} else {
				if term != '{' {
					word = tag
					tag = ""
				} else {
					noWord = true
				}
			}
			if pos != "" {
				return fail("extra junk after value")
			}

			if term == '{' {
				stack = append(stack, len(parent))
				if len(parent) != 0 {
					parent = append(parent, "::"...)
				}
				parent = append(parent, tag...)
				tag = ""
			}

			var item string
			if len(parent) == 0 {
				item = tag
			} else if term != '{' || tag != "" {
				item = string(parent) + "::" + tag
			} else {
				item = string(parent)
			}

			at := Origin{name, curLine}
			switch {
			case len(tag) >= 1 && tag[0] == '#':
				if len(parent) != 0 {
					return fail("directives can only be done at the top level")
				}
				switch tag[1:] {
				case "clear":
					conf.Clear(word, at)
				case "include":
					if depth < 0 {
						break
					}
					if depth > MaxIncludeDepth {
						return fail("too many nested includes")
					}
					var ok bool
					if len(word) > 2 && strings.HasSuffix(word, "/") {
						ok = r.ReadDir(word, depth+1, &at)
					} else {
						ok = r.ReadFile(word, depth+1, &at)
					}
					if !ok {
						return fail(includeFailed+"%s", word)
					}
				case "x-apt-configure-index":
					// apt loads a type index for its own checks; it
					// changes no value.
				default:
					return fail("unsupported directive '%s'", tag[1:])
				}
			case tag == "" && !noWord && word == "#clear":
				return fail("clear directive requires an option tree as argument")
			default:
				if !noWord {
					conf.Set(item, word, at)
					if conf.work > MaxWork {
						return &Error{Origin: at, Msg: fmt.Sprintf("not read to the end: nesting and assignments deeper than this reader evaluates (%d MiB of lookups)", MaxWork>>20), limit: true}
					}
				}
			}
			lineBuffer = ""
			if term == '}' {
				leave()
			}
		}
		rem := cstr(frag[start:])
		rem = strip(rem)
		if rem != "" && lineBuffer != "" {
			lineBuffer += " "
		}
		lineBuffer += rem
		if len(lineBuffer) > MaxLine {
			return &Error{Origin: Origin{name, curLine}, Msg: fmt.Sprintf("not read to the end: a statement longer than %d MiB", MaxLine>>20), limit: true}
		}
	}
	if lineBuffer != "" {
		return fail("extra junk at end of file")
	}
	return nil
}

// parseQuoteWord is apt's ParseQuoteWord: one word, where "..." and [...]
// may hold spaces; quotes are dropped and %xx is decoded.
func parseQuoteWord(s string) (word, rest string, ok bool) {
	c := 0
	for c < len(s) && s[c] == ' ' {
		c++
	}
	if c == len(s) {
		return "", s, false
	}
	for c < len(s) && !isSpace(s[c]) {
		if s[c] == '"' {
			j := strings.IndexByte(s[c+1:], '"')
			if j < 0 {
				return "", s, false
			}
			c += 1 + j
		}
		if s[c] == '[' {
			j := strings.IndexByte(s[c+1:], ']')
			if j < 0 {
				return "", s, false
			}
			c += 1 + j
		}
		c++
	}
	var b strings.Builder
	for i := 0; i < c; {
		if s[i] == '%' && i+2 < c && isXDigit(s[i+1]) && isXDigit(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 3
			continue
		}
		if s[i] != '"' {
			b.WriteByte(s[i])
		}
		i++
	}
	for c < len(s) && isSpace(s[c]) {
		c++
	}
	return b.String(), s[c:], true
}

// parseCWord is apt's ParseCWord: a run of "..." strings separated by
// white space, joined with one space for each run of white space.
func parseCWord(s string) (word, rest string, ok bool) {
	c := 0
	for c < len(s) && s[c] == ' ' {
		c++
	}
	if c == len(s) {
		return "", s, false
	}
	var b strings.Builder
	for ; c < len(s); c++ {
		if s[c] == '"' {
			c++
			for c < len(s) && s[c] != '"' {
				b.WriteByte(s[c])
				c++
			}
			if c == len(s) {
				return "", s, false
			}
			continue
		}
		if c != 0 && isSpace(s[c]) && isSpace(s[c-1]) {
			continue
		}
		if !isSpace(s[c]) {
			return "", s, false
		}
		b.WriteByte(' ')
	}
	return b.String(), "", true
}

func isXDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// ReadAlone parses one file into a fresh configuration without following
// its #include directives: what the file itself says.
func ReadAlone(fs FS, name string, interrupted func() error) (*Config, *File) {
	r := &Reader{Conf: New(), FS: fs, NoIncludes: true, Interrupted: interrupted}
	r.ReadFile(name, 0, nil)
	return r.Conf, r.Files[0]
}
