// Package output writes query results in the formats a user of osquery
// expects: an aligned table for a terminal, osqueryi --json's array of
// objects with string values, CSV, and newline-delimited JSON. Values come
// from the hosts hunted, which an attacker may control: the text formats
// show them through Safe, JSON keeps them exact.
package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Formats lists the accepted format names.
var Formats = []string{"table", "json", "csv", "ndjson"}

// Write renders columns and rows in format.
func Write(w io.Writer, format string, columns []string, rows [][]string) error {
	switch format {
	case "table":
		return writeTable(w, columns, rows)
	case "json":
		return writeJSON(w, columns, rows, true)
	case "ndjson":
		return writeJSON(w, columns, rows, false)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(safeRow(columns)); err != nil {
			return err
		}
		for _, r := range rows {
			if err := cw.Write(safeRow(r)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("unknown format %q (one of %s)", format, strings.Join(Formats, ", "))
}

// jsonWriter encodes rows as JSON objects into one buffer with one
// encoder: an encoder per value cost more than the rows' text.
type jsonWriter struct {
	b   bytes.Buffer
	enc *json.Encoder
}

func newJSONWriter() *jsonWriter {
	j := &jsonWriter{}
	j.enc = json.NewEncoder(&j.b)
	j.enc.SetEscapeHTML(false)
	return j
}

// object encodes one row as a JSON object, keys in column order.
func (j *jsonWriter) object(columns, row []string) {
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
}

// str writes s as a JSON string; Encode ends each value with a newline.
func (j *jsonWriter) str(s string) {
	_ = j.enc.Encode(s)
	j.b.Truncate(j.b.Len() - 1)
}

func writeJSON(w io.Writer, columns []string, rows [][]string, array bool) error {
	j := newJSONWriter()
	b := &j.b
	if array {
		b.WriteString("[\n")
	}
	for i, r := range rows {
		if array {
			b.WriteString("  ")
		}
		j.object(columns, r)
		if array && i < len(rows)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	if array {
		b.WriteString("]\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeTable draws osqueryi's pretty table; long values are shown whole.
func writeTable(w io.Writer, columns []string, rows [][]string) error {
	columns = safeRow(columns)
	safe := make([][]string, len(rows))
	for i, r := range rows {
		safe[i] = safeRow(r)
	}
	widths := make([]int, len(columns))
	for i, c := range columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	for _, r := range safe {
		for i, v := range r {
			if n := utf8.RuneCountInString(v); n > widths[i] {
				widths[i] = n
			}
		}
	}
	var b strings.Builder
	sep := func() {
		b.WriteByte('+')
		for _, wd := range widths {
			b.WriteString(strings.Repeat("-", wd+2))
			b.WriteByte('+')
		}
		b.WriteByte('\n')
	}
	line := func(vals []string) {
		b.WriteByte('|')
		for i, v := range vals {
			b.WriteString(" " + v + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v)) + " |")
		}
		b.WriteByte('\n')
	}
	sep()
	line(columns)
	sep()
	for _, r := range safe {
		line(r)
	}
	if len(rows) > 0 {
		sep()
	}
	_, err := io.WriteString(w, b.String())
	return err
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
// some terminals take U+009B as ESC [), the bidirectional and line
// separator characters that reorder or break what is shown (\u202e), and
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
	case r == 0x200e, r == 0x200f, // left-to-right and right-to-left marks
		r >= 0x202a && r <= 0x202e, // embeddings and overrides
		r >= 0x2066 && r <= 0x2069, // isolates
		r == 0x2028, r == 0x2029:   // line and paragraph separators
		return true
	}
	return false
}
