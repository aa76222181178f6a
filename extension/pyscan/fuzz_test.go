package pyscan

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

// The seed corpora are in testdata/fuzz/FuzzScanPy3 and FuzzScanPy2
// (Python 3 and Python 2 modules: plugins, PANIX's and Metasploit's shapes,
// every construct of the syntax table); the targets add the syntax table's
// cases of their dialect too.

func FuzzScanPy3(f *testing.F) {
	for _, c := range syntaxCases() {
		if c.py3 != "" && len(c.src) < 4096 {
			f.Add([]byte(c.src))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) { checkScan(t, src, 3) })
}

func FuzzScanPy2(f *testing.F) {
	for _, c := range syntaxCases() {
		if c.py2 && len(c.src) < 4096 {
			f.Add([]byte(c.src))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) { checkScan(t, src, 2) })
}

// checkScan: no panic; an error is a syntax error; the result is the same
// read whole or a byte at a time (the lexer's buffer boundaries), and with
// a tiny literal bound; every call renders on one bounded line; the
// bounds hold.
func checkScan(t *testing.T, src []byte, major int) {
	o := Options{Major: major}
	m, err := o.Scan(bytes.NewReader(src))
	var se *Error
	if err != nil && !errors.As(err, &se) {
		t.Fatalf("not a syntax error: %v", err)
	}
	if err == nil && m == nil {
		t.Fatal("nil module without error")
	}
	m2, err2 := o.Scan(iotest.OneByteReader(bytes.NewReader(src)))
	if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
		t.Fatalf("whole: %v; byte by byte: %v", err, err2)
	}
	if err != nil {
		return
	}
	if a, b := m.CallLines(), m2.CallLines(); a != b {
		t.Fatalf("calls differ read whole and byte by byte:\n%s\n---\n%s", a, b)
	}
	if len(m.Calls) > maxCalls || len(m.Classes) > maxClasses || len(m.Functions) > maxFuncs || len(m.Globals) > maxGlobalNames {
		t.Fatalf("bounds: %d calls, %d classes, %d functions, %d names", len(m.Calls), len(m.Classes), len(m.Functions), len(m.Globals))
	}
	for _, c := range m.Calls {
		s := c.String()
		if strings.ContainsAny(s, "\n\r") || len(c.Arg) > maxArg+len("…") {
			t.Fatalf("call line %q", s)
		}
	}
	small := Options{Major: major, MaxLiteral: 3}
	if _, err := small.Scan(bytes.NewReader(src)); err != nil {
		t.Fatalf("a literal bound of 3 bytes changes the verdict: %v", err)
	}
}
