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
