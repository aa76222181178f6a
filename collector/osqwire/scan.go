package osqwire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit for one decoded value, kept
// so that the same lines are accepted as before.
const maxDepth = 10000

// decoder is a single-pass JSON reader over a byte slice or a stream. It
// reads the input through a window (buf) so that its loops run over bytes
// rather than calls; a slice is its own window and costs no copy.
type decoder struct {
	buf []byte // buf[pos:] is read from the input but not yet consumed
	pos int
	off int64 // input bytes before buf, for error offsets

	src     io.Reader // nil when buf is the whole input
	chunk   []byte    // src's read buffer
	readErr error     // what ended src: io.EOF or a read error

	// A token being kept: fill saves buf[mark:] to acc before it reads
	// over buf, so a token can span reads.
	keep   bool
	mark   int
	acc    []byte
	keyBuf []byte // a key kept over a read

	// names are the keys of the last object read, in order: rows of one
	// query share their column names, so they share the strings too.
	names []string
}

// fill reads more of the input into buf; false at its end or on a read
// error (then in readErr).
func (d *decoder) fill() bool {
	if d.src == nil || d.readErr != nil {
		return false
	}
	if d.keep {
		d.acc = append(d.acc, d.buf[d.mark:]...)
		d.mark = 0
	}
	d.off += int64(len(d.buf))
	// start small (most lines are short) and grow while reads fill it
	switch {
	case d.chunk == nil:
		d.chunk = make([]byte, 1<<10)
	case len(d.buf) == len(d.chunk) && len(d.chunk) < 64<<10:
		d.chunk = make([]byte, 2*len(d.chunk))
	}
	for range 100 {
		n, err := d.src.Read(d.chunk)
		d.buf, d.pos = d.chunk[:n], 0
		if err != nil {
			d.readErr = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	d.readErr = io.ErrNoProgress
	return false
}

// eof is the error for input that ends inside a value.
func (d *decoder) eof() error {
	if d.readErr != nil && d.readErr != io.EOF {
		return d.readErr
	}
	return io.ErrUnexpectedEOF
}

func (d *decoder) offset() int64 { return d.off + int64(d.pos) }

// unexpected is a syntax error at the byte c at the reader's position.
func (d *decoder) unexpected(c byte, where string) error {
	return fmt.Errorf("invalid character %q %s (offset %d)", c, where, d.offset())
}

// next returns the next byte after white space, unconsumed.
func (d *decoder) next() (byte, error) {
	for {
		for d.pos < len(d.buf) {
			switch c := d.buf[d.pos]; c {
			case ' ', '\t', '\n', '\r':
				d.pos++
			default:
				return c, nil
			}
		}
		if !d.fill() {
			return 0, d.eof()
		}
	}
}

// end checks that nothing but white space is left.
func (d *decoder) end() error {
	c, err := d.next()
	switch {
	case err == io.ErrUnexpectedEOF:
		return nil
	case err != nil:
		return err
	}
	return d.unexpected(c, "after the JSON value")
}

// take consumes one byte.
func (d *decoder) take() (byte, error) {
	if d.pos >= len(d.buf) && !d.fill() {
		return 0, d.eof()
	}
	c := d.buf[d.pos]
	d.pos++
	return c, nil
}

// peek returns the next byte, unconsumed; false at the end.
func (d *decoder) peek() (byte, bool) {
	if d.pos >= len(d.buf) && !d.fill() {
		return 0, false
	}
	return d.buf[d.pos], true
}

// capture starts keeping the bytes from the reader's position on.
func (d *decoder) capture() {
	d.keep, d.mark, d.acc = true, d.pos, d.acc[:0]
}

// captured ends a capture and returns the bytes kept, valid until the
// next read.
func (d *decoder) captured() []byte {
	d.keep = false
	if len(d.acc) == 0 {
		return d.buf[d.mark:d.pos]
	}
	d.acc = append(d.acc, d.buf[d.mark:d.pos]...)
	return d.acc
}

// literal consumes word (true, false or null), its first byte seen.
func (d *decoder) literal(word string) error {
	for i := range len(word) {
		c, err := d.take()
		if err != nil {
			return err
		}
		if c != word[i] {
			d.pos--
			return d.unexpected(c, "in literal "+word)
		}
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number consumes a number, its first byte ('-' or a digit) seen, and
// returns its text when keep is set.
func (d *decoder) number(keep bool) ([]byte, error) {
	if keep {
		d.capture()
	}
	c, _ := d.take()
	if c == '-' {
		var err error
		if c, err = d.take(); err != nil {
			return nil, err
		}
		if !isDigit(c) {
			d.pos--
			return nil, d.unexpected(c, "in numeric literal")
		}
	}
	if c != '0' {
		d.digits()
	}
	if c, ok := d.peek(); ok && c == '.' {
		d.pos++
		if err := d.someDigits(); err != nil {
			return nil, err
		}
	}
	if c, ok := d.peek(); ok && (c == 'e' || c == 'E') {
		d.pos++
		if c, ok := d.peek(); ok && (c == '+' || c == '-') {
			d.pos++
		}
		if err := d.someDigits(); err != nil {
			return nil, err
		}
	}
	if !keep {
		return nil, nil
	}
	return d.captured(), nil
}

// someDigits consumes a run of digits that must not be empty.
func (d *decoder) someDigits() error {
	c, err := d.take()
	if err != nil {
		return err
	}
	if !isDigit(c) {
		d.pos--
		return d.unexpected(c, "in numeric literal")
	}
	d.digits()
	return nil
}

func (d *decoder) digits() {
	for {
		c, ok := d.peek()
		if !ok || !isDigit(c) {
			return
		}
		d.pos++
	}
}

// stop marks the bytes that end a string's plain run: its closing quote,
// an escape, and the control characters JSON forbids in strings.
var stop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// form says what a string holds beyond plain ASCII.
type form uint8

const (
	escaped  form = 1 << iota // escapes
	nonASCII                  // bytes over 0x7f, valid UTF-8 or not
)

// str consumes a string, its opening quote next, and returns its content
// as written (between the quotes) when keep is set.
func (d *decoder) str(keep bool) (raw []byte, f form, err error) {
	d.pos++
	if keep {
		d.capture()
	}
	var high byte
	for {
		buf, i := d.buf, d.pos
		for i < len(buf) && !stop[buf[i]] {
			high |= buf[i]
			i++
		}
		d.pos = i
		if i == len(buf) {
			if !d.fill() {
				return nil, 0, d.eof()
			}
			continue
		}
		switch c := buf[i]; c {
		case '"':
			if keep {
				raw = d.captured()
			}
			d.pos++
			if high >= utf8.RuneSelf {
				f |= nonASCII
			}
			return raw, f, nil
		case '\\':
			f |= escaped
			d.pos++
			if err := d.escape(); err != nil {
				return nil, 0, err
			}
		default:
			return nil, 0, d.unexpected(c, "in string literal")
		}
	}
}

// escape consumes what follows a backslash in a string.
func (d *decoder) escape() error {
	c, err := d.take()
	if err != nil {
		return err
	}
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return nil
	case 'u':
		for range 4 {
			if c, err = d.take(); err != nil {
				return err
			}
			if !isDigit(c) && (c|0x20 < 'a' || c|0x20 > 'f') {
				d.pos--
				return d.unexpected(c, `in \u hexadecimal character escape`)
			}
		}
		return nil
	}
	d.pos--
	return d.unexpected(c, "in string escape code")
}

// unquote turns a string's content as written into its text as
// encoding/json does. Plain text is copied; simple escapes are undone
// here; \u escapes and invalid UTF-8 (each bad byte becomes U+FFFD) go to
// encoding/json itself, so that what it makes of surrogates stays exact.
func unquote(raw []byte, f form) (string, error) {
	if f&nonASCII == 0 || utf8.Valid(raw) {
		if f&escaped == 0 {
			return string(raw), nil
		}
		if s, ok := unescape(raw); ok {
			return s, nil
		}
	}
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", err
	}
	return s, nil
}

// unescape undoes the escapes of a valid string but \u; false if it holds
// one.
func unescape(raw []byte) (string, bool) {
	var b strings.Builder
	b.Grow(len(raw))
	for {
		i := bytes.IndexByte(raw, '\\')
		if i < 0 {
			b.Write(raw)
			return b.String(), true
		}
		b.Write(raw[:i])
		c := raw[i+1]
		switch c {
		case 'u':
			return "", false
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		}
		b.WriteByte(c)
		raw = raw[i+2:]
	}
}

// text reads a string as its text.
func (d *decoder) text() (string, error) {
	raw, f, err := d.str(true)
	if err != nil {
		return "", err
	}
	return unquote(raw, f)
}

// key reads a string and returns its text as bytes, valid until the next
// read: an object's key, to be looked at before its value is read.
func (d *decoder) key() ([]byte, error) {
	raw, f, err := d.str(true)
	if err != nil || f == 0 || (f == nonASCII && utf8.Valid(raw)) {
		return raw, err
	}
	s, err := unquote(raw, f)
	return []byte(s), err
}

// name is key as a string, shared with the key at the same place in the
// object read before when they are the same.
func (d *decoder) name(i int, key []byte) string {
	if i < len(d.names) && d.names[i] == string(key) {
		return d.names[i]
	}
	s := string(key)
	if d.names == nil {
		d.names = make([]string, 0, 16)
	}
	switch {
	case i < len(d.names):
		d.names[i] = s
	case i == len(d.names) && i < 256:
		d.names = append(d.names, s)
	}
	return s
}

// members reads an object's members after its opening brace: each reads
// the value of key, after using key (a read makes it invalid).
func (d *decoder) members(each func(key []byte) error) error {
	if empty, err := d.closing('}'); empty || err != nil {
		return err
	}
	for {
		c, err := d.next()
		if err != nil {
			return err
		}
		if c != '"' {
			return d.unexpected(c, "looking for beginning of object key string")
		}
		key, err := d.key()
		if err != nil {
			return err
		}
		if d.src != nil && (d.pos == len(d.buf) || d.buf[d.pos] != ':') {
			// looking for the colon reads over buf, which key may be in
			d.keyBuf = append(d.keyBuf[:0], key...)
			key = d.keyBuf
		}
		if c, err = d.next(); err != nil {
			return err
		}
		if c != ':' {
			return d.unexpected(c, "after object key")
		}
		d.pos++
		if err := each(key); err != nil {
			return err
		}
		if more, err := d.more('}'); !more || err != nil {
			return err
		}
	}
}

// elements reads an array's elements after its opening bracket.
func (d *decoder) elements(each func() error) error {
	if empty, err := d.closing(']'); empty || err != nil {
		return err
	}
	for {
		if err := each(); err != nil {
			return err
		}
		if more, err := d.more(']'); !more || err != nil {
			return err
		}
	}
}

// closing consumes the closing byte of an empty object or array; false if
// something else is next.
func (d *decoder) closing(end byte) (bool, error) {
	c, err := d.next()
	if err != nil || c != end {
		return false, err
	}
	d.pos++
	return true, nil
}

// more consumes what follows a member or element: a comma (true) or the
// closing byte (false).
func (d *decoder) more(end byte) (bool, error) {
	c, err := d.next()
	switch {
	case err != nil:
		return false, err
	case c == ',':
		d.pos++
		return true, nil
	case c == end:
		d.pos++
		return false, nil
	}
	return false, d.unexpected(c, "after a member or element")
}

// nullOr reads null (true) or consumes open, the opening byte of what is
// expected.
func (d *decoder) nullOr(open byte, what string) (bool, error) {
	c, err := d.next()
	switch {
	case err != nil:
		return false, err
	case c == 'n':
		return true, d.literal("null")
	case c != open:
		return false, d.unexpected(c, "where "+what+" is expected")
	}
	d.pos++
	return false, nil
}

// skip reads a value and keeps nothing of it; depth is how many objects
// and arrays hold it within the value encoding/json would decode whole.
func (d *decoder) skip(depth int) error {
	c, err := d.next()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		_, _, err = d.str(false)
		return err
	case c == '-' || isDigit(c):
		_, err = d.number(false)
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return fmt.Errorf("nested deeper than %d (offset %d)", maxDepth, d.offset())
		}
		d.pos++
		if c == '{' {
			return d.members(func([]byte) error { return d.skip(depth + 1) })
		}
		return d.elements(func() error { return d.skip(depth + 1) })
	}
	return d.unexpected(c, "looking for beginning of value")
}

// value reads a value as osquery's text: a string as itself, a number as
// written, true and false as words, null as "". An object or array is
// read whole and is bad: not text.
func (d *decoder) value(depth int) (s string, bad bool, err error) {
	c, err := d.next()
	if err != nil {
		return "", false, err
	}
	switch {
	case c == '"':
		s, err = d.text()
		return s, false, err
	case c == '-' || isDigit(c):
		raw, err := d.number(true)
		return string(raw), false, err
	case c == 't':
		return "true", false, d.literal("true")
	case c == 'f':
		return "false", false, d.literal("false")
	case c == 'n':
		return "", false, d.literal("null")
	}
	return "", true, d.skip(depth)
}

// textObject reads an object of text values after its opening brace (at
// depth 1 of what encoding/json would decode whole). Keys may repeat, the
// last one counting; bad names a key whose value is not text.
func (d *decoder) textObject() (m map[string]string, bad string, err error) {
	m = make(map[string]string, len(d.names))
	var badKeys map[string]bool
	i := 0
	err = d.members(func(key []byte) error {
		k := d.name(i, key)
		i++
		s, isBad, err := d.value(1)
		switch {
		case err != nil:
			return err
		case isBad:
			if badKeys == nil {
				badKeys = map[string]bool{}
			}
			badKeys[k] = true
		default:
			m[k] = s
			delete(badKeys, k)
		}
		return nil
	})
	for k := range badKeys {
		bad = k
		break
	}
	return m, bad, err
}
