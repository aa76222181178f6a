package osqserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// get sends a GET and decodes the JSON reply.
func (o *osqueryd) get(url string) (int, map[string]any) {
	o.t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	code, reply, err := o.send(req)
	if err != nil {
		o.t.Fatalf("GET %s: %v", url, err)
	}
	return code, reply
}

// TestProtocolCompleteness follows osquery's own source: --tls_node_api
// (osquery/remote/utility.h: the node key as the first path segment and
// "&node_key=" appended, config by GET and answered as a JSON string
// under "config", plugins/config/tls_config.cpp); both pack delimiters,
// osquery's "_" and Fleet's "/", attributed to the query (the served
// config sets pack_delimiter); GET /version; a GET where only POST is
// served answered in osquery's error shape.
func TestProtocolCompleteness(t *testing.T) {
	ctx := context.Background()
	s := start(t, DefaultOptions)
	o := newOsqueryd(t, s, "api")
	o.enroll(secret)

	code, r := o.get(s.url + "/" + o.nodeKey + "/api/osquery/config&node_key=" + o.nodeKey)
	var cfg map[string]any
	text, _ := r["config"].(string)
	if code != 200 || json.Unmarshal([]byte(text), &cfg) != nil || cfg["packs"] == nil {
		t.Fatalf("node API config: %d %.200v", code, r)
	}
	if d := cfg["options"].(map[string]any)["pack_delimiter"]; d != "_" {
		t.Errorf("served pack_delimiter %v", d)
	}
	if code, r := o.get(s.url + "/" + "forged" + "/api/osquery/config&node_key=forged"); code != 401 || r["node_invalid"] != true {
		t.Errorf("node API with a forged key: %d %v", code, r)
	}
	// the node API's log: the key in the path, none in the body
	lines := `{"log_type":"result","data":[` +
		`{"name":"pack_pkgpersist_unowned-hooks","unixTime":1795377600,"epoch":0,"counter":1,"action":"added","columns":{"path":"/a"}},` +
		`{"name":"pack/pkgpersist/unowned-hooks","unixTime":1795377601,"epoch":0,"counter":2,"action":"added","columns":{"path":"/b"}},` +
		`{"name":"pack/pkgpersist-core/pm-children","unixTime":1795377602,"epoch":0,"counter":3,"action":"added","columns":{"path":"/c"}}]}`
	req, _ := http.NewRequest("POST", s.url+"/"+o.nodeKey+"/api/osquery/log", bytes.NewReader([]byte(lines)))
	if code, r, err := o.send(req); err != nil || code != 200 {
		t.Fatalf("node API log: %d %v %v", code, r, err)
	}
	since := time.Unix(1795377000, 0)
	if got, _ := s.st.Diff(ctx, store.Window{Since: since, Query: "unowned-hooks"}); len(got) != 2 {
		t.Errorf("unowned-hooks under both delimiters: %d changes", len(got))
	}
	if got, _ := s.st.Diff(ctx, store.Window{Since: since, Query: "pm-children"}); len(got) != 1 {
		t.Errorf("pm-children under /: %d changes", len(got))
	}

	if code, r := o.get(s.url + "/version"); code != 200 || r["version"] == nil {
		t.Errorf("GET /version: %d %v", code, r)
	}
	if code, r := o.get(s.url + "/api/osquery/log"); code != http.StatusMethodNotAllowed || r["error"] == nil {
		t.Errorf("GET log: %d %v", code, r)
	}
	// --tls_secret_always puts the secret in every URL: accepted, ignored
	o.prefix = "/api/osquery/"
	req, _ = http.NewRequest("POST", s.url+"/api/osquery/config?enroll_secret="+secret, bytes.NewReader([]byte(`{"node_key":"`+o.nodeKey+`"}`)))
	resp, err := o.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("config with the secret in the URL: %d", resp.StatusCode)
	}
}

// TestEnrollSecretField: --tls_enroll_override renames the enroll
// request's secret key; the server reads the name it is told.
func TestEnrollSecretField(t *testing.T) {
	opt := DefaultOptions
	opt.SecretField = "token"
	s := start(t, opt)
	o := newOsqueryd(t, s, "renamed")
	if code, r := o.post("enroll", map[string]any{"token": secret, "host_identifier": "renamed"}, false); code != 200 || r["node_key"] == nil {
		t.Errorf("enroll with the renamed key: %d %v", code, r)
	}
	if code, _ := o.post("enroll", map[string]any{"enroll_secret": secret, "host_identifier": "other"}, false); code != 401 {
		t.Errorf("enroll with the default key when renamed: %d", code)
	}
}
