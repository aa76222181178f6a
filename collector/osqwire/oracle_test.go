package osqwire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// oracleLine is a log line as the oracle reads it: the decoder osqwire
// used before its own single-pass reader, kept to check that reader against.
type oracleLine struct {
	Name, HostIdentifier, Action string
	UnixTime, Epoch, Counter     json.RawMessage
	// Columns is an event's row; Snapshot, Added and Removed are non-nil
	// when the line holds them (even empty).
	Columns, Decorations     map[string]string
	Snapshot, Added, Removed []map[string]string
	diff                     bool
	// status lines
	Severity, Line             json.RawMessage
	Filename, Message, Version string
}

// oracleReadLine decodes one log line, a JSON object or a string holding one.
func oracleReadLine(r io.Reader, maxRows int) (*oracleLine, error) {
	d := json.NewDecoder(r)
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	if s, ok := tok.(string); ok {
		if err := oracleEnd(d); err != nil {
			return nil, err
		}
		return oracleReadLine(strings.NewReader(s), maxRows)
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("log line is %v, not an object", tok)
	}
	lr := oracleReader{d: d, rowsLeft: maxRows, max: maxRows}
	l := &oracleLine{}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string) // an object's keys are strings
		if seen[key] {
			return nil, fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		if err := lr.field(l, key); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return nil, err
	}
	return l, oracleEnd(d)
}

// oracleEnd checks that nothing but white space follows the value.
func oracleEnd(d *json.Decoder) error {
	if _, err := d.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the JSON value")
		}
		return err
	}
	return nil
}

type oracleReader struct {
	d             *json.Decoder
	rowsLeft, max int
}

func (lr *oracleReader) field(l *oracleLine, key string) error {
	d := lr.d
	var err error
	switch key {
	case "name":
		err = d.Decode(&l.Name)
	case "hostIdentifier":
		err = d.Decode(&l.HostIdentifier)
	case "action":
		err = d.Decode(&l.Action)
	case "filename":
		err = d.Decode(&l.Filename)
	case "message":
		err = d.Decode(&l.Message)
	case "version":
		err = d.Decode(&l.Version)
	case "unixTime":
		err = d.Decode(&l.UnixTime)
	case "epoch":
		err = d.Decode(&l.Epoch)
	case "counter":
		err = d.Decode(&l.Counter)
	case "severity":
		err = d.Decode(&l.Severity)
	case "line":
		err = d.Decode(&l.Line)
	case "decorations":
		l.Decorations, err = lr.object(false)
	case "columns":
		l.Columns, err = lr.object(true)
	case "snapshot":
		l.Snapshot, err = lr.rows()
	case "diffResults":
		err = lr.diff(l)
	default:
		var skip json.RawMessage
		err = d.Decode(&skip)
	}
	return err
}

// object reads an object of values as osquery's strings (null as absent);
// a row counts against the row limit.
func (lr *oracleReader) object(row bool) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := lr.d.Decode(&raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, nil
	}
	if row {
		if err := lr.count(); err != nil {
			return nil, err
		}
	}
	return texts(raw)
}

func (lr *oracleReader) count() error {
	if lr.rowsLeft--; lr.rowsLeft < 0 {
		return &RowLimitError{lr.max}
	}
	return nil
}

// rows reads an array of rows one at a time, so a line of many rows stops
// at the limit instead of being held whole first.
func (lr *oracleReader) rows() ([]map[string]string, error) {
	tok, err := lr.d.Token()
	if err != nil || tok == nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("%v is not a list of rows", tok)
	}
	out := []map[string]string{}
	for lr.d.More() {
		row, err := lr.object(true)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", len(out)+1, err)
		}
		if row == nil {
			return nil, fmt.Errorf("row %d is null", len(out)+1)
		}
		out = append(out, row)
	}
	_, err = lr.d.Token()
	return out, err
}

// diff reads a batch line's diffResults: added and removed rows.
func (lr *oracleReader) diff(l *oracleLine) error {
	tok, err := lr.d.Token()
	if err != nil || tok == nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%v is not an object", tok)
	}
	l.diff = true
	for lr.d.More() {
		tok, err := lr.d.Token()
		if err != nil {
			return err
		}
		switch key := tok.(string); key {
		case "added":
			l.Added, err = lr.rows()
		case "removed":
			l.Removed, err = lr.rows()
		default:
			var skip json.RawMessage
			err = lr.d.Decode(&skip)
		}
		if err != nil {
			return err
		}
	}
	_, err = lr.d.Token()
	return err
}
