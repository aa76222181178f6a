// Package output writes query results in the formats a user of osquery
// expects: an aligned table for a terminal, osqueryi --json's array of
// objects with string values, CSV, and newline-delimited JSON. Values come
// from the hosts hunted, which an attacker may control: the text formats
// show them through Safe, JSON keeps them exact.
package output

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Formats lists the accepted format names.
var Formats = []string{"table", "json", "csv", "ndjson"}

// Write renders columns and rows in format.
func Write(w io.Writer, format string, columns []string, rows [][]string) error {
	rw, err := NewWriter(w, format, columns)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := rw.Row(r); err != nil {
			return err
		}
	}
	return rw.Close()
}

// Writer renders rows in a format as they come: json, ndjson and csv
// write each row when it is given (through a buffer), so that memory does
// not grow with the rows; table needs every row for its widths and draws
// them on Close.
type Writer struct {
	w       *bufio.Writer
	format  string
	columns []string
	rows    int
	json    *jsonWriter
	csv     *csv.Writer
	table   [][]string
}

// NewWriter starts rendering rows of columns in format on w. Nothing is
// written before the first row or Close.
func NewWriter(w io.Writer, format string, columns []string) (*Writer, error) {
	rw := &Writer{w: bufio.NewWriterSize(w, 64<<10), format: format, columns: columns}
	switch format {
	case "table":
	case "json", "ndjson":
		rw.json = newJSONWriter(rw.w)
	case "csv":
		rw.csv = csv.NewWriter(rw.w)
	default:
		return nil, fmt.Errorf("unknown format %q (one of %s)", format, strings.Join(Formats, ", "))
	}
	return rw, nil
}

// Row renders one row. The writer does not keep row: the caller may
// reuse it.
func (rw *Writer) Row(row []string) error {
	defer func() { rw.rows++ }()
	switch rw.format {
	case "table":
		// kept as shown: Safe copies the row, and widths are measured on
		// what is drawn
		rw.table = append(rw.table, safeRow(row))
		return nil
	case "json":
		if rw.rows == 0 {
			rw.w.WriteString("[\n  ")
		} else {
			rw.w.WriteString(",\n  ")
		}
		return rw.json.object(rw.columns, row)
	case "ndjson":
		if err := rw.json.object(rw.columns, row); err != nil {
			return err
		}
		return rw.w.WriteByte('\n')
	}
	if err := rw.csvHeader(); err != nil {
		return err
	}
	return rw.csv.Write(safeRow(row))
}

// csvHeader writes the header before the first row, or at Close when
// there is none.
func (rw *Writer) csvHeader() error {
	if rw.rows > 0 {
		return nil
	}
	return rw.csv.Write(safeRow(rw.columns))
}

// Close ends the output (the table, the JSON array) and flushes it.
func (rw *Writer) Close() error {
	switch rw.format {
	case "table":
		if err := writeTable(rw.w, rw.columns, rw.table); err != nil {
			return err
		}
	case "json":
		if rw.rows == 0 {
			rw.w.WriteString("[\n")
		} else {
			rw.w.WriteByte('\n')
		}
		rw.w.WriteString("]\n")
	case "csv":
		if err := rw.csvHeader(); err != nil {
			return err
		}
	}
	return rw.flush()
}

// Abandon flushes the rows written so far without ending the output: a
// JSON array stays open, so that no parser takes rows cut short by an
// error for the whole answer; a table, which draws nothing before Close,
// is not drawn.
func (rw *Writer) Abandon() error { return rw.flush() }

func (rw *Writer) flush() error {
	if rw.csv != nil {
		rw.csv.Flush()
		if err := rw.csv.Error(); err != nil {
			return err
		}
	}
	return rw.w.Flush()
}

// jsonWriter encodes rows as JSON objects with one encoder: an encoder
// per value cost more than the rows' text.
type jsonWriter struct {
	w   *bufio.Writer
	b   bytes.Buffer
	enc *json.Encoder
}

func newJSONWriter(w *bufio.Writer) *jsonWriter {
	j := &jsonWriter{w: w}
	j.enc = json.NewEncoder(&j.b)
	j.enc.SetEscapeHTML(false)
	return j
}

// object encodes one row as a JSON object, keys in column order.
func (j *jsonWriter) object(columns, row []string) error {
	j.b.Reset()
	j.b.WriteByte('{')
	for i, c := range columns {
		if i > 0 {
			j.b.WriteByte(',')
		}
		j.str(c)
		j.b.WriteByte(':')
		j.str(row[i])
	}
	j.b.WriteByte('}')
	_, err := j.w.Write(j.b.Bytes())
	return err
}

// str writes s as a JSON string. Printable ASCII without a quote or a
// backslash is written as it is, which is what the encoder writes for it
// (HTML escaping is off); anything else goes through the encoder, which
// ends each value with a newline.
func (j *jsonWriter) str(s string) {
	if printableASCII(s) && !strings.ContainsAny(s, `"\`) {
		j.b.WriteByte('"')
		j.b.WriteString(s)
		j.b.WriteByte('"')
		return
	}
	_ = j.enc.Encode(s)
	j.b.Truncate(j.b.Len() - 1)
}

// writeTable draws osqueryi's pretty table of rows already made safe
// (safeRow); long values are shown whole. It writes to w as it goes: the
// drawing is larger than the rows.
func writeTable(w *bufio.Writer, columns []string, rows [][]string) error {
	columns = safeRow(columns)
	widths := make([]int, len(columns))
	for i, c := range columns {
		widths[i] = width(c)
	}
	for _, r := range rows {
		for i, v := range r {
			if n := width(v); n > widths[i] {
				widths[i] = n
			}
		}
	}
	var sep []byte
	sep = append(sep, '+')
	for _, wd := range widths {
		sep = append(sep, bytes.Repeat([]byte{'-'}, wd+2)...)
		sep = append(sep, '+')
	}
	sep = append(sep, '\n')
	line := func(vals []string) {
		w.WriteByte('|')
		for i, v := range vals {
			w.WriteByte(' ')
			w.WriteString(v)
			pad(w, widths[i]-width(v))
			w.WriteString(" |")
		}
		w.WriteByte('\n')
	}
	w.Write(sep)
	line(columns)
	w.Write(sep)
	for _, r := range rows {
		line(r)
	}
	if len(rows) > 0 {
		w.Write(sep)
	}
	// a bufio.Writer keeps its first write error and returns it here
	return w.Flush()
}

// width is how many characters a safe value takes on screen.
func width(v string) int {
	if printableASCII(v) {
		return len(v)
	}
	return utf8.RuneCountInString(v)
}

// spaces pads table cells without a string per cell.
const spaces = "                                                                "

func pad(w *bufio.Writer, n int) {
	for n > 0 {
		k := min(n, len(spaces))
		w.WriteString(spaces[:k])
		n -= k
	}
}

func safeRow(r []string) []string {
	out := make([]string, len(r))
	for i, v := range r {
		out[i] = Safe(v)
	}
	return out
}

// Safe returns s as text a terminal only displays: every byte or
// character a terminal would act on is written as a visible escape, so a
// value cannot move the cursor, erase what was printed, retitle the
// window or hide what follows. Escaped are C0 controls (\n, \r, \t, else
// \xHH: ESC is \x1b), DEL (\x7f), C1 controls U+0080–U+009F (\u009b:
// some terminals take U+009B as ESC [), the format characters that
// reorder or hide what is shown (bidirectional controls such as \u202e,
// zero width ones such as \u200b: Unicode category Cf), the line and
// paragraph separators (\u2028, \u2029), and
// each byte that is not valid UTF-8 (\xHH). Backslashes are left as they
// are: a value that holds the text \x1b looks like one that holds ESC,
// and JSON output tells them apart.
func Safe(s string) string {
	if printableASCII(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// printableASCII reports a value Safe returns as it is, the common case,
// without building a copy.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// unsafeRune reports a character a terminal acts on rather than shows.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	// format characters: the bidirectional marks, embeddings, overrides
	// and isolates, and the invisible ones (zero width space, joiners,
	// byte order mark)
	return unicode.Is(unicode.Cf, r)
}
