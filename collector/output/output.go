// Package output writes query results in the formats a user of osquery
// expects: an aligned table for a terminal, osqueryi --json's array of
// objects with string values, CSV, and newline-delimited JSON.
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
		if err := cw.Write(columns); err != nil {
			return err
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("unknown format %q (one of %s)", format, strings.Join(Formats, ", "))
}

// object encodes one row as a JSON object, keys in column order.
func object(columns, row []string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(c))
		b.WriteByte(':')
		b.Write(jsonString(row[i]))
	}
	b.WriteByte('}')
	return b.Bytes()
}

func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimRight(b.Bytes(), "\n")
}

func writeJSON(w io.Writer, columns []string, rows [][]string, array bool) error {
	var b bytes.Buffer
	if array {
		b.WriteString("[\n")
	}
	for i, r := range rows {
		if array {
			b.WriteString("  ")
		}
		b.Write(object(columns, r))
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
	widths := make([]int, len(columns))
	for i, c := range columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	clean := func(s string) string { return strings.NewReplacer("\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s) }
	for _, r := range rows {
		for i, v := range r {
			if n := utf8.RuneCountInString(clean(v)); n > widths[i] {
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
			v = clean(v)
			b.WriteString(" " + v + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v)) + " |")
		}
		b.WriteByte('\n')
	}
	sep()
	line(columns)
	sep()
	for _, r := range rows {
		line(r)
	}
	if len(rows) > 0 {
		sep()
	}
	_, err := io.WriteString(w, b.String())
	return err
}
