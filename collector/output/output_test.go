package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"curl x|sh":              "curl x|sh",
		"curl x|sh \x1b[2K":      `curl x|sh \x1b[2K`,
		"a\nb\rc\td":             `a\nb\rc\td`,
		"\x00\x07\x08\x7f":       `\x00\x07\x08\x7f`,
		"\u009b2J \u0085":        `\u009b2J \u0085`,
		"bad \xff\xfe utf8 \xc3": `bad \xff\xfe utf8 \xc3`,
		"rm -rf /\u202etxt.sh":   `rm -rf /\u202etxt.sh`,
		"zero\u200bwidth\ufeff":  `zero\u200bwidth\ufeff`,
		"arabic\u061cmark":       `arabic\u061cmark`,
		"ünïcödé ✓ \ufffd":       "ünïcödé ✓ \ufffd",
		`C:\x1b literal`:         `C:\x1b literal`,
		"":                       "",
	} {
		if got := Safe(in); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafe: whatever a host sends, what Safe returns is valid UTF-8 with
// no character a terminal acts on.
func FuzzSafe(f *testing.F) {
	for _, s := range []string{"curl x|sh \x1b[2K", "\u009b", "\xff", "a\u202eb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Safe(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Safe(%q) = %q: not UTF-8", s, out)
		}
		for _, r := range out {
			if unsafeRune(r) {
				t.Fatalf("Safe(%q) = %q keeps %U", s, out, r)
			}
		}
	})
}

// TestWriteEscapes: table and CSV show values through Safe, JSON keeps
// them exact.
func TestWriteEscapes(t *testing.T) {
	cols := []string{"command\x1b"}
	rows := [][]string{{"curl x|sh \x1b[2K\u009b"}}
	for _, f := range []string{"table", "csv"} {
		var b bytes.Buffer
		if err := Write(&b, f, cols, rows); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(b.String(), "\x1b\u009b") || !strings.Contains(b.String(), `curl x|sh \x1b[2K\u009b`) || !strings.Contains(b.String(), `command\x1b`) {
			t.Errorf("%s: %q", f, b.String())
		}
	}
	var b bytes.Buffer
	if err := Write(&b, "json", cols, rows); err != nil {
		t.Fatal(err)
	}
	var got []map[string]string
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || got[0]["command\x1b"] != rows[0][0] {
		t.Errorf("json: %v %q", err, b.String())
	}
}

// TestJSONExact: JSON keeps values as they are, HTML characters
// included, one object per row in column order.
func TestJSONExact(t *testing.T) {
	cols := []string{"b", "a"}
	rows := [][]string{{"<x&y>", "\"q\"\n"}, {"", "ü"}}
	for f, want := range map[string]string{
		"json":   "[\n  {\"b\":\"<x&y>\",\"a\":\"\\\"q\\\"\\n\"},\n  {\"b\":\"\",\"a\":\"ü\"}\n]\n",
		"ndjson": "{\"b\":\"<x&y>\",\"a\":\"\\\"q\\\"\\n\"}\n{\"b\":\"\",\"a\":\"ü\"}\n",
	} {
		var b bytes.Buffer
		if err := Write(&b, f, cols, rows); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("%s: %q, want %q", f, b.String(), want)
		}
	}
}

// countingWriter counts what reaches it.
type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// TestWriterStreams: json, ndjson and csv hand rows on while they come
// (what is written before Close is most of the output), a table waits for
// Close; Write gives what the Writer gives.
func TestWriterStreams(t *testing.T) {
	cols := []string{"path", "size"}
	row := []string{"/etc/apt/apt.conf.d/" + strings.Repeat("x", 40), "1234"}
	const rows = 20_000
	for _, f := range Formats {
		var c countingWriter
		w, err := NewWriter(&c, f, cols)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < rows; i++ {
			if err := w.Row(row); err != nil {
				t.Fatal(err)
			}
		}
		before := c.n
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if streams := f != "table"; streams && before < c.n*9/10 || !streams && before != 0 {
			t.Errorf("%s: %d of %d bytes written before Close", f, before, c.n)
		}
		var b bytes.Buffer
		all := make([][]string, rows)
		for i := range all {
			all[i] = row
		}
		if err := Write(&b, f, cols, all); err != nil {
			t.Fatal(err)
		}
		if b.Len() != c.n {
			t.Errorf("%s: Write wrote %d bytes, the Writer %d", f, b.Len(), c.n)
		}
	}
}

// TestAbandon: output cut short by an error keeps the rows written, and
// a JSON array stays open, so that no parser reads it as the whole answer.
func TestAbandon(t *testing.T) {
	for _, f := range []string{"json", "ndjson"} {
		var b bytes.Buffer
		w, err := NewWriter(&b, f, []string{"a"})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"1", "2"} {
			if err := w.Row([]string{v}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Abandon(); err != nil {
			t.Fatal(err)
		}
		var v any
		err = json.Unmarshal(b.Bytes(), &v)
		switch f {
		case "json":
			if err == nil || !strings.Contains(b.String(), `{"a":"2"}`) {
				t.Errorf("json: %q parses (%v) or lost a row", b.String(), err)
			}
		case "ndjson":
			if lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); len(lines) != 2 {
				t.Errorf("ndjson: %q", b.String())
			}
		}
	}
}

// TestJSONString: a value is written as encoding/json writes it (HTML
// escaping off), whichever way the writer takes.
func TestJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `quo"te`, `back\slash`, "<a&b>", "tab\there", "\x7f", "é", "\xff", "\u2028", "/etc/apt/apt.conf.d/20x"} {
		var b bytes.Buffer
		w, err := NewWriter(&b, "ndjson", []string{"v"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Row([]string{s}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]string{"v": s}); err != nil {
			t.Fatal(err)
		}
		if b.String() != want.String() {
			t.Errorf("%q: %q, want %q", s, b.String(), want.String())
		}
	}
}
