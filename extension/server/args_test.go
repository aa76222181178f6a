package server

import (
	"github.com/pkgpersist/pkgpersist/extension/events"

	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/registry"
	"time"
)

// defEvents are osqueryd's defaults for its own evented tables, and the
// extension's own byte bound.
var defEvents = events.Limits{Max: 50000, Expiry: time.Hour, MaxBytes: 64 << 20}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		want    Options
		wantErr bool
	}{
		{"as osqueryd passes them", []string{"--verbose", "--socket", "/s", "--timeout", "5", "--interval", "7"},
			Options{Socket: "/s", Timeout: 5 * time.Second, Interval: 7 * time.Second, Verbose: true, Root: "/", Events: defEvents}, false},
		{"any order", []string{"--interval", "2", "--socket", "/s", "--timeout", "4"},
			Options{Socket: "/s", Timeout: 4 * time.Second, Interval: 2 * time.Second, Root: "/", Events: defEvents}, false},
		{"equals form", []string{"--socket=/s", "--timeout=1", "--interval=1"},
			Options{Socket: "/s", Timeout: time.Second, Interval: time.Second, Root: "/", Events: defEvents}, false},
		{"zero and negative fall back", []string{"--socket", "/s", "--timeout", "0", "--interval", "-3"},
			Options{Socket: "/s", Timeout: DefaultTimeout, Interval: DefaultInterval, Root: "/", Events: defEvents}, false},
		{"event bounds", []string{"--socket", "/s", "--events_max", "10", "--events_expiry", "60", "--events_max_bytes", "4096"},
			Options{Socket: "/s", Timeout: DefaultTimeout, Interval: DefaultInterval, Root: "/", Events: events.Limits{Max: 10, Expiry: time.Minute, MaxBytes: 4096}}, false},
		{"socket required", []string{"--timeout", "3"}, Options{}, true},
		{"unknown flag", []string{"--socket", "/s", "--bogus"}, Options{}, true},
		{"stray argument", []string{"--socket", "/s", "extra"}, Options{}, true},
		{"non-numeric timeout", []string{"--socket", "/s", "--timeout", "soon"}, Options{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseArgs(c.args, io.Discard)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if err == nil && got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestPrint(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"--print", "apt_hooks", "--root", "../../test/roots/planted"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rows []map[string]string
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) == 0 {
		t.Fatalf("not a JSON array of rows (%v): %s", err, out.String())
	}
	if code := Main([]string{"--print", "nope"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "apt_hooks") {
		t.Fatalf("unknown table: exit %d, %s", code, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"--print", "apt_hooks", "--root", "/nonexistent"}, &out, &errb); code != 1 || strings.Count(errb.String(), "\n") != 1 {
		t.Fatalf("bad root: exit %d, %q", code, errb.String())
	}
}

func TestSpec(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"--spec"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var spec []struct {
		Name    string
		Columns []struct {
			Name, Type string
			Hidden     bool
		}
	}
	if err := json.Unmarshal(out.Bytes(), &spec); err != nil || len(spec) != len(registry.Tables()) {
		t.Fatalf("%v: %s", err, out.String())
	}
	for i, tb := range registry.Tables() {
		if spec[i].Name != tb.Name || len(spec[i].Columns) != len(tb.Columns) {
			t.Errorf("%s: %+v", tb.Name, spec[i])
		}
	}
}

func TestMainExitCodes(t *testing.T) {
	if code := Main([]string{"--help"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
	if code := Main([]string{"--timeout", "1"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("missing --socket: exit %d, want 2", code)
	}
	if code := Main([]string{"--socket", t.TempDir() + "/none", "--timeout", "1"}, io.Discard, io.Discard); code != 1 {
		t.Errorf("no osqueryd: exit %d, want 1", code)
	}
}

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"--version"}, &out, &errb); code != 0 || out.String() != "pkgpersist.ext "+Version+"\n" {
		t.Fatalf("--version: exit %d, %q %q", code, out.String(), errb.String())
	}
}
