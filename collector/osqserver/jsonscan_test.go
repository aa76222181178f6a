package osqserver

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzFirstRead: the scanner never keeps more than its caps, and on
// valid JSON objects no deeper than its depth cap it finds the same node
// key and fields encoding/json does.
func FuzzFirstRead(f *testing.F) {
	for _, seed := range []string{
		`{"node_key":"k","log_type":"result","data":[{"a":"b"}]}`,
		`{"data":[1,2,{"x":[true,false,null,-1.5e3]}],"log_type":"status","node_key":"k\"q"}`,
		`{"node_key":"` + string(bytes.Repeat([]byte("k"), 300)) + `"}`,
		`{"a":"\u0041\\","node_key":"x"}`,
		`{}`, `[]`, `{"node_key":`, `{"a":{"b":{"c":[[[[]]]]}}}`, `{"node_key":"k"} x`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string][]byte{}
		err := firstRead(bytes.NewReader(data), map[string]int{"node_key": 256, "log_type": 64}, got)
		for k, v := range got {
			if len(v) > 256 {
				t.Fatalf("%s kept %d bytes", k, len(v))
			}
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(data, &want) != nil || depth(data) > 64 {
			return
		}
		// encoding/json keeps the last of repeated keys, the scanner the first
		if err != nil && asRejection(err).reason != "value_too_large" && !repeatedKeys(data) {
			t.Fatalf("valid object refused: %v", err)
		}
		if err == nil && !repeatedKeys(data) {
			for k, max := range map[string]int{"node_key": 256, "log_type": 64} {
				if w, ok := want[k]; ok && len(w) <= max && !bytes.Equal(bytes.TrimSpace(got[k]), bytes.TrimSpace(w)) {
					t.Fatalf("%s: scanner %q, encoding/json %q", k, got[k], w)
				}
			}
		}
	})
}

// depth is how deep brackets nest in valid JSON (strings skipped).
func depth(data []byte) int {
	d, most, in, esc := 0, 0, false, false
	for _, c := range data {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == '{' || c == '['):
			if d++; d > most {
				most = d
			}
		case !in && (c == '}' || c == ']'):
			d--
		}
	}
	return most
}

func repeatedKeys(data []byte) bool {
	d := json.NewDecoder(bytes.NewReader(data))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		k, _ := tok.(string)
		if seen[k] {
			return true
		}
		seen[k] = true
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			return false
		}
	}
	return false
}
