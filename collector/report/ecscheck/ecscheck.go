// Package ecscheck validates Elastic Common Schema documents against the
// field definitions ECS publishes (ecs_flat.yml of a pinned release, kept
// in testdata): every field is an ECS field or under the custom namespace,
// every value has its field's type, arrays where ECS says array, allowed
// and expected values, patterns, and the fields ECS requires. Tests of any
// package that writes ECS use it through Check.
package ecscheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// Field is one field definition of ecs_flat.yml, as far as validation
// needs it.
type Field struct {
	Type          string   `yaml:"type"`
	Normalize     []string `yaml:"normalize"`
	Required      bool     `yaml:"required"`
	Pattern       string   `yaml:"pattern"`
	ExpectedVals  []string `yaml:"expected_values"`
	AllowedValues []Value  `yaml:"allowed_values"`
	pattern       *regexp.Regexp
}

// Value is one of a field's allowed values; for event.category, with the
// event.type values expected with it.
type Value struct {
	Name               string   `yaml:"name"`
	ExpectedEventTypes []string `yaml:"expected_event_types"`
}

// Schema is one ECS release's fields, keyed by flat name.
type Schema struct {
	Version string
	Fields  map[string]*Field
	// Custom is the top-level name under which a producer keeps its own
	// fields; ECS defines nothing there.
	Custom string
}

// Load reads ecs_flat.yml and the release's version file from dir.
func Load(dir, custom string) (*Schema, error) {
	data, err := os.ReadFile(filepath.Join(dir, "ecs_flat.yml"))
	if err != nil {
		return nil, err
	}
	v, err := os.ReadFile(filepath.Join(dir, "version"))
	if err != nil {
		return nil, err
	}
	s := &Schema{Version: strings.TrimSpace(string(v)), Custom: custom}
	if err := yaml.Unmarshal(data, &s.Fields); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if len(s.Fields) == 0 {
		return nil, fmt.Errorf("%s: no field definitions", dir)
	}
	for name, f := range s.Fields {
		if strings.SplitN(name, ".", 2)[0] == custom {
			return nil, fmt.Errorf("ECS %s defines %s: %q cannot be a custom namespace", s.Version, name, custom)
		}
		if f.Pattern != "" {
			if f.pattern, err = regexp.Compile(f.Pattern); err != nil {
				return nil, fmt.Errorf("%s: pattern: %w", name, err)
			}
		}
	}
	return s, nil
}

// Dir is the pinned release's directory beside this source file: tests
// run in the source tree.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "ecs")
}

// Check validates every document of ndjson (one JSON object a line) and
// fails t with each violation; it returns how many documents it read.
func Check(t testing.TB, ndjson []byte) int {
	t.Helper()
	s, err := Load(Dir(), "pkgpersist")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(ndjson))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		n++
		for _, v := range s.ValidateJSON(sc.Bytes()) {
			t.Errorf("ECS document %d: %s\n%.400s", n, v, sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// ValidateJSON decodes one document, keeping numbers as written, and
// validates it.
func (s *Schema) ValidateJSON(doc []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	return s.Validate(m)
}

// Validate returns the document's violations, sorted; none when it
// conforms. Numbers are float64, int, int64 or json.Number.
func (s *Schema) Validate(doc map[string]any) []string {
	v := &walk{s: s, seen: map[string][]any{}}
	v.object("", doc, false)
	for name, f := range s.Fields {
		if f.Required && v.seen[name] == nil {
			v.add(name, "required by ECS, missing")
		}
	}
	if got := v.seen["ecs.version"]; len(got) == 1 && got[0] != s.Version {
		v.add("ecs.version", fmt.Sprintf("%v, but the documents are validated against ECS %s", got[0], s.Version))
	}
	v.eventTypes()
	sort.Strings(v.out)
	return v.out
}

type walk struct {
	s    *Schema
	seen map[string][]any // leaf values by flat name
	out  []string
}

func (w *walk) add(path, msg string) { w.out = append(w.out, path+": "+msg) }

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// object walks an object's members; inArray says that an array lies on
// the way, so Elasticsearch collects its leaves into arrays.
func (w *walk) object(prefix string, m map[string]any, inArray bool) {
	for k, v := range m {
		w.value(join(prefix, k), v, inArray)
	}
}

func (w *walk) value(path string, v any, inArray bool) {
	if strings.SplitN(path, ".", 2)[0] == w.s.Custom {
		return
	}
	f := w.s.Fields[path]
	switch v := v.(type) {
	case map[string]any:
		switch {
		case f == nil:
			w.object(path, v, inArray)
		case f.Type == "object" || f.Type == "flattened":
		case f.Type == "nested":
			w.object(path, v, inArray)
		default:
			w.add(path, "an object, but ECS type is "+f.Type)
		}
		return
	case []any:
		if f != nil && !slices.Contains(f.Normalize, "array") && f.Type != "nested" {
			w.add(path, "an array, but ECS expects one value")
		}
		for _, e := range v {
			if _, ok := e.([]any); ok {
				w.add(path, "an array of arrays")
				continue
			}
			if f != nil && f.Type != "nested" {
				w.leaf(path, f, e)
				continue
			}
			if m, ok := e.(map[string]any); ok {
				w.object(path, m, true)
			} else {
				w.add(path, fmt.Sprintf("%v (%T) is not an ECS field", e, e))
			}
		}
		return
	}
	if f == nil {
		w.add(path, "not an ECS field")
		return
	}
	if slices.Contains(f.Normalize, "array") && !inArray {
		w.add(path, "one value, but ECS expects an array")
	} else if !slices.Contains(f.Normalize, "array") && inArray {
		w.add(path, "reached through an array, but ECS expects one value")
	}
	w.leaf(path, f, v)
}

// leaf checks one value against its field's type and value constraints.
func (w *walk) leaf(path string, f *Field, v any) {
	w.seen[path] = append(w.seen[path], v)
	if v == nil {
		return // null: the field is absent to Elasticsearch
	}
	if msg := typeError(f.Type, v); msg != "" {
		w.add(path, fmt.Sprintf("%v (%T): %s", v, v, msg))
		return
	}
	str, _ := v.(string)
	if len(f.AllowedValues) > 0 && !slices.ContainsFunc(f.AllowedValues, func(a Value) bool {
		return a.Name == str
	}) {
		w.add(path, fmt.Sprintf("%q is not an allowed value", str))
	}
	if len(f.ExpectedVals) > 0 && !slices.Contains(f.ExpectedVals, str) {
		w.add(path, fmt.Sprintf("%q is not an expected value %v", str, f.ExpectedVals))
	}
	if f.pattern != nil && !f.pattern.MatchString(str) {
		w.add(path, fmt.Sprintf("%q does not match %s", str, f.Pattern))
	}
}

// eventTypes checks that each event.type is expected with at least one of
// the document's event.category values (ECS's expected_event_types).
func (w *walk) eventTypes() {
	cat := w.s.Fields["event.category"]
	if cat == nil {
		return
	}
	var expected []string
	for _, c := range w.seen["event.category"] {
		for _, a := range cat.AllowedValues {
			if a.Name == c {
				expected = append(expected, a.ExpectedEventTypes...)
			}
		}
	}
	for _, t := range w.seen["event.type"] {
		if s, _ := t.(string); !slices.Contains(expected, s) {
			w.add("event.type", fmt.Sprintf("%v is not expected with event.category %v", t, w.seen["event.category"]))
		}
	}
}

// typeError says why v cannot be a value of the Elasticsearch type, or "".
func typeError(typ string, v any) string {
	switch typ {
	case "keyword", "constant_keyword", "wildcard", "match_only_text", "text":
		if _, ok := v.(string); !ok {
			return "not a string"
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "not a boolean"
		}
	case "long", "integer", "short", "byte":
		n, ok := integer(v)
		if !ok {
			return "not an integer"
		}
		bits := map[string]int{"long": 64, "integer": 32, "short": 16, "byte": 8}[typ]
		if bits < 64 && (n < -(1<<(bits-1)) || n >= 1<<(bits-1)) {
			return "out of range of " + typ
		}
	case "float", "double", "half_float", "scaled_float":
		if _, ok := number(v); !ok {
			return "not a number"
		}
	case "date":
		s, ok := v.(string)
		if !ok {
			return "not a date string"
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return "not an RFC 3339 date"
		}
	case "ip":
		if s, ok := v.(string); !ok || net.ParseIP(s) == nil {
			return "not an IP address"
		}
	default:
		return "a value of ECS type " + typ + " is not checked here"
	}
	return ""
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func integer(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), n == math.Trunc(n) && math.Abs(n) < 1<<53
	}
	return 0, false
}
