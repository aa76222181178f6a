// Package deb822 reads Debian control-data stanzas — dpkg's status file,
// apt's Packages lists, apt's history log — as dpkg and apt split them:
// "Name: value" fields, continuation lines that start with a space or a
// tab, and stanzas separated by empty lines. It streams: only the fields
// the caller asks for are kept, one stanza at a time, so a file of any
// size (or a padded Description) is read in bounded memory.
package deb822

import (
	"io"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/lines"
)

// MaxValue bounds the text kept of one field; a longer value is cut and
// the stanza says so (Stanza.Cut), never dropped.
const MaxValue = 4 << 20

// Stanza is one paragraph: the wanted fields that it has, by the name the
// caller gave (field names compare case-insensitively, as in dpkg and apt).
type Stanza struct {
	Line   int               // line of its first field (1-based)
	Fields map[string]string // continuation lines joined with "\n", leading blank of each removed
	Cut    string            // the field whose value was cut at MaxValue, "" for none
}

// Each calls fn for every stanza of r that has at least one field, with
// the fields named in want. stop is polled while reading (nil for never);
// the error is what ended the reading early (a read error, stop's error).
func Each(r io.Reader, want []string, stop func() error, fn func(Stanza)) error {
	keys := make(map[string]string, len(want))
	for _, w := range want {
		keys[strings.ToLower(w)] = w
	}
	lr := lines.New(r, stop)
	var cur Stanza
	vals := map[string]*strings.Builder{}
	open := false // a field was seen in the current stanza
	field := ""   // the wanted field continuation lines belong to, "" for none
	flush := func() {
		if open {
			for k, b := range vals {
				cur.Fields[k] = b.String()
			}
			fn(cur)
		}
		cur, open, field = Stanza{}, false, ""
		clear(vals)
	}
	for {
		l, ok := lr.Next()
		if !ok {
			flush()
			return lr.Err()
		}
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			flush()
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			if field != "" {
				cur.add(vals, field, "\n", strings.TrimLeft(l, " \t"))
			}
			continue
		}
		name, value, found := strings.Cut(l, ":")
		if !open {
			cur = Stanza{Line: lr.Line(), Fields: map[string]string{}}
			open = true
		}
		field = ""
		if !found {
			continue
		}
		if k, ok := keys[strings.ToLower(strings.TrimRight(name, " \t"))]; ok {
			field = k
			vals[k] = &strings.Builder{}
			cur.add(vals, k, "", strings.Trim(value, " \t"))
		}
	}
}

// add appends sep and text to the field's value, up to MaxValue.
func (s *Stanza) add(vals map[string]*strings.Builder, field, sep, text string) {
	b := vals[field]
	text = sep + text
	if b.Len()+len(text) > MaxValue {
		text = text[:max(0, MaxValue-b.Len())]
		s.Cut = field
	}
	b.WriteString(text)
}
