package osqwire

import (
	"errors"
	"fmt"
	"io"
)

// RowLimitError is a result line (or request) that expands to more rows
// than its reader allows. It is returned as soon as the row over the
// limit is read, before anything after it is decoded.
type RowLimitError struct{ Max int }

func (e *RowLimitError) Error() string { return fmt.Sprintf("more than %d rows", e.Max) }

// line is one log line in any of the result formats, or a status line,
// decoded in one pass: rows become strings as they are read.
type line struct {
	Name, HostIdentifier, Action string
	UnixTime, Epoch, Counter     scalar
	// Columns is an event's row; Snapshot, Added and Removed are non-nil
	// when the line holds them (even empty).
	Columns, Decorations     map[string]string
	Snapshot, Added, Removed []map[string]string
	diff                     bool
	// status lines
	Severity, Line             scalar
	Filename, Message, Version string
}

// scalar is a time, counter or severity as sent, as its text. An object
// or an array (bad) is an error only where the field is read as a number:
// a status field in a result line is not.
type scalar struct {
	text string
	bad  bool
}

func (v scalar) integer() (int64, error) {
	if v.bad {
		return 0, errors.New("an object or array, not an integer")
	}
	return parseInteger(v.text)
}

// ReadResultLine reads one result log line from r: r yields the line's
// bytes and ends with it. The line is decoded as a stream, so what it
// holds in memory is its rows as strings; more than maxRows rows is a
// *RowLimitError.
func ReadResultLine(r io.Reader, maxRows int) ([]Result, error) {
	return resultLine(&decoder{src: r}, maxRows)
}

func resultLine(d *decoder, maxRows int) ([]Result, error) {
	l, err := readLine(d, maxRows)
	if err != nil {
		return nil, err
	}
	return results(l)
}

// readLine decodes one log line, a JSON object or a string holding one.
func readLine(d *decoder, maxRows int) (*line, error) {
	c, err := d.next()
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, errors.New("empty log line")
		}
		return nil, err
	}
	switch c {
	case '"':
		s, err := d.text()
		if err != nil {
			return nil, err
		}
		if err := d.end(); err != nil {
			return nil, err
		}
		return readLine(&decoder{buf: []byte(s)}, maxRows)
	case '{':
		d.pos++
	default:
		return nil, d.unexpected(c, "beginning a log line (an object or a string holding one)")
	}
	lr := lineReader{d: d, rowsLeft: maxRows, max: maxRows}
	l := &line{}
	var seen uint32
	var others keySet
	err = d.members(func(key []byte) error {
		f := fieldOf(key)
		name := fieldNames[f]
		if f == other {
			name = string(key)
			if !others.add(name) {
				return fmt.Errorf("key %q twice", name)
			}
		} else if seen&(1<<f) != 0 {
			return fmt.Errorf("key %q twice", name)
		}
		seen |= 1 << f
		if err := lr.field(l, f); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, d.end()
}

// The fields of a log line that are read; any other is skipped.
const (
	other = iota
	fName
	fHostIdentifier
	fAction
	fFilename
	fMessage
	fVersion
	fUnixTime
	fEpoch
	fCounter
	fSeverity
	fLine
	fDecorations
	fColumns
	fSnapshot
	fDiffResults
)

var fieldNames = [...]string{"", "name", "hostIdentifier", "action", "filename", "message", "version",
	"unixTime", "epoch", "counter", "severity", "line", "decorations", "columns", "snapshot", "diffResults"}

func fieldOf(key []byte) int {
	switch string(key) {
	case "name":
		return fName
	case "hostIdentifier":
		return fHostIdentifier
	case "action":
		return fAction
	case "filename":
		return fFilename
	case "message":
		return fMessage
	case "version":
		return fVersion
	case "unixTime":
		return fUnixTime
	case "epoch":
		return fEpoch
	case "counter":
		return fCounter
	case "severity":
		return fSeverity
	case "line":
		return fLine
	case "decorations":
		return fDecorations
	case "columns":
		return fColumns
	case "snapshot":
		return fSnapshot
	case "diffResults":
		return fDiffResults
	}
	return other
}

// keySet holds the keys seen: a few in a list, many in a map, so a line
// of many keys is not read in quadratic time.
type keySet struct {
	few  []string
	many map[string]bool
}

// add adds k; false if it was there.
func (s *keySet) add(k string) bool {
	if s.many != nil {
		if s.many[k] {
			return false
		}
		s.many[k] = true
		return true
	}
	for _, o := range s.few {
		if o == k {
			return false
		}
	}
	if s.few = append(s.few, k); len(s.few) > 16 {
		s.many = make(map[string]bool, 2*len(s.few))
		for _, o := range s.few {
			s.many[o] = true
		}
	}
	return true
}

type lineReader struct {
	d             *decoder
	rowsLeft, max int
}

func (lr *lineReader) field(l *line, f int) error {
	var err error
	switch f {
	case fName:
		err = lr.str(&l.Name)
	case fHostIdentifier:
		err = lr.str(&l.HostIdentifier)
	case fAction:
		err = lr.str(&l.Action)
	case fFilename:
		err = lr.str(&l.Filename)
	case fMessage:
		err = lr.str(&l.Message)
	case fVersion:
		err = lr.str(&l.Version)
	case fUnixTime:
		err = lr.scalar(&l.UnixTime)
	case fEpoch:
		err = lr.scalar(&l.Epoch)
	case fCounter:
		err = lr.scalar(&l.Counter)
	case fSeverity:
		err = lr.scalar(&l.Severity)
	case fLine:
		err = lr.scalar(&l.Line)
	case fDecorations:
		l.Decorations, err = lr.object(false)
	case fColumns:
		l.Columns, err = lr.object(true)
	case fSnapshot:
		l.Snapshot, err = lr.rows()
	case fDiffResults:
		err = lr.diff(l)
	default:
		err = lr.d.skip(0)
	}
	return err
}

// str reads a string field; null leaves it empty.
func (lr *lineReader) str(to *string) error {
	d := lr.d
	c, err := d.next()
	switch {
	case err != nil:
		return err
	case c == '"':
		*to, err = d.text()
		return err
	case c == 'n':
		return d.literal("null")
	}
	return d.unexpected(c, "where a string is expected")
}

func (lr *lineReader) scalar(to *scalar) (err error) {
	to.text, to.bad, err = lr.d.value(0)
	return err
}

// object reads an object of values as osquery's strings (null as absent);
// a row counts against the row limit.
func (lr *lineReader) object(row bool) (map[string]string, error) {
	if null, err := lr.d.nullOr('{', "an object"); null || err != nil {
		return nil, err
	}
	m, bad, err := lr.d.textObject()
	if err != nil {
		return nil, err
	}
	if row {
		if err := lr.count(); err != nil {
			return nil, err
		}
	}
	if bad != "" {
		return nil, fmt.Errorf("column %q: an object or array, not a string or number", bad)
	}
	return m, nil
}

func (lr *lineReader) count() error {
	if lr.rowsLeft--; lr.rowsLeft < 0 {
		return &RowLimitError{lr.max}
	}
	return nil
}

// rows reads an array of rows one at a time, so a line of many rows stops
// at the limit instead of being held whole first.
func (lr *lineReader) rows() ([]map[string]string, error) {
	d := lr.d
	if null, err := d.nullOr('[', "a list of rows"); null || err != nil {
		return nil, err
	}
	out := []map[string]string{}
	err := d.elements(func() error {
		c, err := d.next()
		if err == nil && c != '{' {
			err = d.unexpected(c, "where a row object is expected")
		}
		var row map[string]string
		if err == nil {
			row, err = lr.object(true)
		}
		if err != nil {
			return fmt.Errorf("row %d: %w", len(out)+1, err)
		}
		out = append(out, row)
		return nil
	})
	return out, err
}

// diff reads a batch line's diffResults: added and removed rows.
func (lr *lineReader) diff(l *line) error {
	d := lr.d
	if null, err := d.nullOr('{', "an object"); null || err != nil {
		return err
	}
	l.diff = true
	return d.members(func(key []byte) error {
		var err error
		switch string(key) {
		case "added":
			l.Added, err = lr.rows()
		case "removed":
			l.Removed, err = lr.rows()
		default:
			err = d.skip(0)
		}
		return err
	})
}
