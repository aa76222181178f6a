package osqserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// scanner walks one JSON value as it streams in and keeps nothing but
// what its caller asks for, each piece under a cap: a body is read before
// anyone knows who sent it, so reading it must cost no more memory than
// the caps, whatever it holds. Values skipped are checked only as far as
// walking them needs (strings closed, brackets balanced and matched, at
// most maxDepth deep); what is kept is decoded by encoding/json, which
// checks the rest.
type scanner struct {
	r        *bufio.Reader
	maxDepth int
	// capture, when set, receives the bytes of the value being skipped
	capture *bytes.Buffer
	limit   int
	over    bool // the value captured went past limit
}

// errTooLarge is a value over the cap its caller gave.
var errTooLarge = errors.New("value over its size cap")

// syntaxError is a body that is not the JSON it should be.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func badJSON(format string, args ...any) error {
	return &syntaxError{fmt.Sprintf(format, args...)}
}

func newScanner(r io.Reader, maxDepth int) *scanner {
	return &scanner{r: bufio.NewReaderSize(r, 4<<10), maxDepth: maxDepth}
}

func (s *scanner) byte() (byte, error) {
	c, err := s.r.ReadByte()
	if err == io.EOF {
		return 0, badJSON("JSON ends early")
	}
	if err != nil {
		return 0, err
	}
	if s.capture != nil {
		if s.capture.Len() < s.limit {
			s.capture.WriteByte(c)
		} else {
			s.over = true
		}
	}
	return c, nil
}

// next returns the next byte that is not white space.
func (s *scanner) next() (byte, error) {
	for {
		c, err := s.byte()
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
	}
}

// peek returns the next byte that is not white space, unread.
func (s *scanner) peek() (byte, error) {
	for {
		b, err := s.r.Peek(1)
		if err == io.EOF {
			return 0, badJSON("JSON ends early")
		}
		if err != nil {
			return 0, err
		}
		if c := b[0]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
		if _, err := s.byte(); err != nil {
			return 0, err
		}
	}
}

// end checks that nothing but white space follows the value.
func (s *scanner) end() error {
	for {
		c, err := s.r.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return badJSON("data after the JSON value")
		}
	}
}

// object reads an object, calling member with each key; member must read
// the key's value (skip, str, raw, object or array). A member returning
// errStop ends the walk there, successfully.
func (s *scanner) object(maxKey int, member func(key string) error) error {
	if empty, err := s.open('{', '}', "an object"); empty || err != nil {
		return err
	}
	for {
		key, err := s.str(maxKey)
		if err != nil {
			return err
		}
		if c, err := s.next(); err != nil || c != ':' {
			return orBad(err, "want ':' after key %.40q", key)
		}
		if err := member(key); err != nil {
			return err
		}
		if more, err := s.more('}', "an object"); !more || err != nil {
			return err
		}
	}
}

// more reads what follows a container's member: ',' (more to come) or
// its closing byte.
func (s *scanner) more(closing byte, what string) (bool, error) {
	c, err := s.next()
	switch {
	case err != nil:
		return false, err
	case c == ',':
		return true, nil
	case c == closing:
		return false, nil
	}
	return false, badJSON("want ',' or '%c' in %s, found %q", closing, what, c)
}

// open reads a container's opening byte and, when the closing one comes
// next, that too: the container is empty.
func (s *scanner) open(opening, closing byte, what string) (empty bool, err error) {
	c, err := s.next()
	if err != nil {
		return false, err
	}
	if c != opening {
		return false, badJSON("want %s, found %q", what, c)
	}
	if c, err = s.peek(); err != nil || c != closing {
		return false, err
	}
	_, err = s.byte()
	return true, err
}

// array reads an array, calling elem for each element, which must read
// it.
func (s *scanner) array(elem func(i int) error) error {
	if empty, err := s.open('[', ']', "an array"); empty || err != nil {
		return err
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		if more, err := s.more(']', "an array"); !more || err != nil {
			return err
		}
	}
}

func orBad(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return badJSON(format, args...)
}

// str reads a string value of at most max bytes as sent.
func (s *scanner) str(max int) (string, error) {
	raw, err := s.raw(max + 2)
	if err != nil {
		return "", err
	}
	if raw[0] != '"' {
		return "", badJSON("want a string, found %.40s", raw)
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", badJSON("string: %v", err)
	}
	return out, nil
}

// raw returns the next value's bytes as sent. A value over max bytes is
// read past, keeping max bytes of it, and is errTooLarge: the walk can go
// on after it.
func (s *scanner) raw(max int) ([]byte, error) {
	if _, err := s.peek(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	s.capture, s.limit, s.over = &buf, max, false
	err := s.skip()
	s.capture = nil
	if err == nil && s.over {
		err = errTooLarge
	}
	return buf.Bytes(), err
}

// skip reads past the next value keeping nothing (but what capture asks
// for).
func (s *scanner) skip() error {
	var open [64]byte
	stack := open[:0]
	for {
		c, err := s.next()
		if err != nil {
			return err
		}
		switch c {
		case '{', '[':
			if len(stack) >= s.maxDepth {
				return badJSON("nested deeper than %d", s.maxDepth)
			}
			stack = append(stack, c)
			continue
		case '}', ']':
			if len(stack) == 0 || (c == '}') != (stack[len(stack)-1] == '{') {
				return badJSON("unbalanced %q", c)
			}
			stack = stack[:len(stack)-1]
		case '"':
			if err := s.skipString(); err != nil {
				return err
			}
		case ',', ':':
			if len(stack) == 0 {
				return badJSON("unexpected %q", c)
			}
			continue
		default:
			if err := s.skipLiteral(c); err != nil {
				return err
			}
		}
		if len(stack) == 0 {
			return nil
		}
	}
}

func (s *scanner) skipString() error {
	for {
		// runs of ordinary bytes go by a buffer at a time
		buf, _ := s.r.Peek(max(s.r.Buffered(), 1))
		n := 0
		for n < len(buf) && buf[n] != '"' && buf[n] != '\\' && buf[n] >= 0x20 {
			n++
		}
		if n > 0 {
			if s.capture != nil {
				room := min(n, max(s.limit-s.capture.Len(), 0))
				s.capture.Write(buf[:room])
				s.over = s.over || room < n
			}
			s.r.Discard(n)
		}
		c, err := s.byte()
		if err != nil {
			return err
		}
		switch {
		case c == '\\':
			if _, err := s.byte(); err != nil {
				return err
			}
		case c == '"':
			return nil
		case c < 0x20:
			return badJSON("control character in a string")
		}
	}
}

// skipLiteral reads the rest of a number, true, false or null.
func (s *scanner) skipLiteral(first byte) error {
	if !literalByte(first) {
		return badJSON("unexpected %q", first)
	}
	for {
		b, err := s.r.Peek(1)
		if err == io.EOF || (err == nil && !literalByte(b[0])) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := s.byte(); err != nil {
			return err
		}
	}
}

func literalByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E'
}

// errStop ends an object walk early, successfully.
var errStop = errors.New("stop")
