package osqserver

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"github.com/pkgpersist/pkgpersist/test/storetest"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/packs"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/collector/tables"
	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/queries"
)

const secret = "s3cret-enroll"

type testServer struct {
	srv   *Server
	st    *store.DB
	url   string
	certs string // the --tls_server_certs file
	db    string
	logs  *bytes.Buffer
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func start(t testing.TB, opt Options) *testServer {
	t.Helper()
	return startOn(t, storetest.DSN(t), t.TempDir(), opt)
}

// startIn starts a server whose SQLite database and certificate are in
// dir.
func startIn(t testing.TB, dir string, opt Options) *testServer {
	t.Helper()
	return startOn(t, filepath.Join(dir, "p.db"), dir, opt)
}

// startOn starts a server on the store db (a file or a URL) with its
// certificate in dir.
func startOn(t testing.TB, db, dir string, opt Options) *testServer {
	t.Helper()
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	opt.Secret = secret
	if opt.Config, err = packs.ServerConfig(qs, registry.Tables(), 1); err != nil {
		t.Fatal(err)
	}
	crt, err := Certificate("", "", filepath.Join(dir, "p.db"), []string{"127.0.0.1", "localhost"})
	cert, certFile := crt.TLS, crt.Path
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	buf := &syncBuffer{}
	srv := New(st, opt, slog.New(slog.NewTextHandler(buf, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, &cert) }()
	t.Cleanup(func() { cancel(); <-done })
	return &testServer{srv: srv, st: st, url: "https://" + ln.Addr().String(), certs: certFile, db: db, logs: &buf.Buffer}
}

// osqueryd is a client that speaks as osqueryd does (osquery/remote/
// enroll/tls_enroll.cpp, config/plugins/tls_config.cpp, logger/plugins/
// tls_logger.cpp, distributed/plugins/tls_distributed.cpp): POSTs of JSON
// with the node key in the body, replies read from the body only, and a
// new enrollment when a reply says node_invalid.
type osqueryd struct {
	t       testing.TB
	http    *http.Client
	base    string
	host    string
	nodeKey string
	enrolls int
	prefix  string
}

func newOsqueryd(t testing.TB, s *testServer, host string) *osqueryd {
	pem, err := os.ReadFile(s.certs)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 4}
	return &osqueryd{t: t, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: s.url, host: host, prefix: "/api/osquery/"}
}

// post sends body (gzip-compressed when asked) and decodes the reply.
func (o *osqueryd) post(path string, body any, compress bool) (int, map[string]any) {
	o.t.Helper()
	data, _ := json.Marshal(body)
	if raw, ok := body.([]byte); ok {
		data = raw
	}
	req, _ := http.NewRequest("POST", o.base+o.prefix+path, nil)
	if compress {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.ContentLength = int64(len(data))
	req.Header.Set("Content-Type", "application/json")
	code, reply, err := o.send(req)
	if err != nil {
		o.t.Fatalf("%s: %v", path, err)
	}
	return code, reply
}

func (o *osqueryd) send(req *http.Request) (int, map[string]any, error) {
	resp, err := o.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var reply map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reply is not a JSON object: %w", err)
	}
	return resp.StatusCode, reply, nil
}

// try posts without failing the test (for concurrent use), keeping the
// node key an enrollment hands out.
func (o *osqueryd) try(path string, body map[string]any) (int, map[string]any, error) {
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", o.base+o.prefix+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	code, reply, err := o.send(req)
	if k, _ := reply["node_key"].(string); path == "enroll" && k != "" {
		o.nodeKey = k
	}
	return code, reply, err
}

func (o *osqueryd) enroll(secret string) map[string]any {
	o.t.Helper()
	_, r := o.post("enroll", map[string]any{
		"enroll_secret": secret, "host_identifier": o.host, "platform_type": "9",
		"host_details": map[string]any{
			"os_version":    map[string]string{"name": "Debian GNU/Linux", "version": "12 (bookworm)", "platform": "debian"},
			"osquery_info":  map[string]string{"version": "5.12.1", "build_platform": "ubuntu"},
			"system_info":   map[string]string{"hostname": o.host, "uuid": "U-" + o.host},
			"platform_info": map[string]string{"vendor": "SeaBIOS"},
		},
	}, false)
	if k, _ := r["node_key"].(string); k != "" {
		o.nodeKey = k
		o.enrolls++
	}
	return r
}

// request posts with the node key, enrolling again on node_invalid as
// osqueryd does.
func (o *osqueryd) request(path string, body map[string]any, compress bool) map[string]any {
	o.t.Helper()
	for try := 0; try < 2; try++ {
		body["node_key"] = o.nodeKey
		_, r := o.post(path, body, compress)
		if r["node_invalid"] == true {
			o.enroll(secret)
			continue
		}
		if e, ok := r["error"]; ok {
			o.t.Fatalf("%s: error %v", path, e)
		}
		return r
	}
	o.t.Fatalf("%s: node key refused after re-enrolling", path)
	return nil
}

// answer reads the distributed queries and answers them from the engine
// over root, values as strings, with statuses and messages.
func (o *osqueryd) answer(e *engine.Engine) int {
	o.t.Helper()
	r := o.request("distributed/read", map[string]any{}, false)
	qs, _ := r["queries"].(map[string]any)
	results, statuses, messages := map[string]any{}, map[string]any{}, map[string]any{}
	for id, sql := range qs {
		res, err := e.Query(context.Background(), sql.(string))
		if err != nil {
			results[id], statuses[id], messages[id] = []any{}, 1, err.Error()
			continue
		}
		rows := []map[string]string{}
		for _, row := range res.Rows {
			m := map[string]string{}
			for i, c := range res.Columns {
				m[c] = row[i]
			}
			rows = append(rows, m)
		}
		results[id], statuses[id] = rows, 0
	}
	if len(qs) > 0 {
		o.request("distributed/write", map[string]any{"queries": results, "statuses": statuses, "messages": messages, "stats": map[string]any{}}, false)
	}
	return len(qs)
}

func sample(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../osqwire/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestProtocol walks one host through what osqueryd does: enroll with
// host_details, fetch the config, ship logs in all three formats (numbers
// as numbers and strings, gzip), answer a distributed hunt, and enroll
// again when its key is revoked, keeping its history.
func TestProtocol(t *testing.T) {
	opt := DefaultOptions
	opt.KeyCache = 0 // revocations below take effect at once
	s := start(t, opt)
	o := newOsqueryd(t, s, "web1")
	if r := o.enroll(secret); o.nodeKey == "" || len(o.nodeKey) != 64 || r["node_invalid"] != false {
		t.Fatalf("enroll: %v", r)
	}
	cfg := o.request("config", map[string]any{}, false)
	packsCfg, _ := cfg["packs"].(map[string]any)
	if packsCfg["pkgpersist"] == nil || packsCfg["pkgpersist-core"] == nil || cfg["file_paths"] == nil || cfg["decorators"] == nil ||
		cfg["options"].(map[string]any)["distributed_interval"] != float64(1) {
		t.Errorf("config: %v", cfg)
	}

	// logs: 2 events + 3 batch rows + 2 snapshot rows; the batch gzipped
	for _, f := range []struct {
		name string
		gz   bool
	}{{"log-events.json", false}, {"log-batch.json", true}, {"log-snapshot.json", false}, {"log-status.json", true}} {
		o.request("log", sample(t, f.name), f.gz)
	}
	count := func() int {
		n, err := s.st.CountLogged(context.Background(), "enrolled:web1")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 7 {
		t.Errorf("stored %d logged rows, want 7", n)
	}
	// diff lists what osqueryd logged as added or removed (not snapshots)
	since := time.Unix(1795377000, 0)
	all, err := s.st.Diff(context.Background(), store.Window{Since: since, Host: "enrolled:web1"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range all {
		kinds = append(kinds, c.QueryID+":"+c.Kind)
	}
	if got, want := strings.Join(kinds, " "), "pm-children:new pm-children:new pm-children:gone unowned-hooks:new unowned-hooks:gone"; got != want {
		t.Errorf("diff of the logs:\n got %s\nwant %s", got, want)
	}
	if one, _ := s.st.Diff(context.Background(), store.Window{Since: since, Query: "unowned-hooks"}); len(one) != 2 || one[0].Row["path"] != "/etc/apt/apt.conf.d/99x" {
		t.Errorf("diff --query unowned-hooks: %+v", one)
	}
	if later, _ := s.st.Diff(context.Background(), store.Window{Since: since.Add(24 * time.Hour)}); len(later) != 0 {
		t.Errorf("diff after the logs: %+v", later)
	}
	// osqueryd resends a batch whose reply it missed
	o.request("log", sample(t, "log-batch.json"), false)
	if n := count(); n != 7 {
		t.Errorf("a resent batch changed the count to %d", n)
	}

	// a distributed hunt, answered from the engine over the planted root;
	// osqueryd has event tables, empty ones here
	e, err := engine.New(tables.Engine(), "../../test/roots/planted")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, tb := range tables.Engine() {
		if !tb.Evented {
			continue
		}
		var cols []string
		for _, c := range tb.Columns {
			cols = append(cols, c.Name)
		}
		if err := e.Exec(context.Background(), "CREATE TEMP TABLE "+tb.Name+" ("+strings.Join(cols, ", ")+")"); err != nil {
			t.Fatal(err)
		}
	}
	qs, _ := querydef.Load(queries.FS)
	var bq []hunt.BatchQuery
	for _, q := range qs {
		bq = append(bq, hunt.BatchQuery{ID: q.ID, SQL: q.SQL})
	}
	nodes, _ := s.st.Nodes(context.Background())
	target := &hunt.Enrolled{Queue: s.st, Host: "web1", HostID: nodes[0].HostID, Poll: 10 * time.Millisecond}
	type huntResult struct {
		res []hunt.BatchResult
		err error
	}
	got := make(chan huntResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a, err := target.Hunt(ctx, bq)
		res := a.Results
		got <- huntResult{res, err}
	}()
	answered := 0
	for deadline := time.Now().Add(20 * time.Second); answered < len(qs) && time.Now().Before(deadline); {
		answered += o.answer(e)
		time.Sleep(20 * time.Millisecond)
	}
	hr := <-got
	if hr.err != nil {
		t.Fatal(hr.err)
	}
	if len(hr.res) != len(qs) {
		t.Fatalf("hunt got %d answers, want %d", len(hr.res), len(qs))
	}
	for _, r := range hr.res {
		want, err := e.Query(context.Background(), qs[index(qs, r.ID)].SQL)
		if err != nil || r.Error != "" || len(r.Rows) != len(want.Rows) {
			t.Errorf("%s: %d rows (error %q), engine %d", r.ID, len(r.Rows), r.Error, len(want.Rows))
		}
	}
	// the extension check went out with the first read and came back
	if nodes, _ := s.st.Nodes(context.Background()); nodes[0].Extension == "" || nodes[0].OsqueryVersion != "5.12.1" {
		t.Errorf("node after the hunt: %+v", nodes[0])
	}

	// revoked: the next request says node_invalid, and osqueryd's new
	// enrollment is refused until the operator unrevokes the host; then
	// the old key stays refused, the host enrolls again and keeps its id
	// and its history
	if err := s.st.Revoke(context.Background(), "web1"); err != nil {
		t.Fatal(err)
	}
	old := o.nodeKey
	if _, r := o.post("config", map[string]any{"node_key": old}, false); r["node_invalid"] != true {
		t.Errorf("revoked key: %v", r)
	}
	if r := o.enroll(secret); r["node_key"] != nil || r["error"] == nil {
		t.Errorf("a revoked host enrolled again: %v", r)
	}
	if err := s.st.Unrevoke(context.Background(), "web1"); err != nil {
		t.Fatal(err)
	}
	o.request("config", map[string]any{}, false)
	if o.enrolls != 2 || o.nodeKey == old {
		t.Errorf("no re-enrollment after unrevoke (%d enrollments)", o.enrolls)
	}
	if _, r := o.post("config", map[string]any{"node_key": old}, false); r["node_invalid"] != true {
		t.Errorf("the old key works again: %v", r)
	}
	if n := count(); n != 7 {
		t.Errorf("re-enrollment lost history: %d rows", n)
	}
	if nodes, _ := s.st.Nodes(context.Background()); len(nodes) != 1 || nodes[0].Revoked {
		t.Errorf("nodes after re-enrollment: %+v", nodes)
	}
	// the old prefix works too
	o.prefix = "/api/v1/osquery/"
	o.request("config", map[string]any{}, false)
}

func index(qs []*querydef.Query, id string) int {
	for i, q := range qs {
		if q.ID == id {
			return i
		}
	}
	return -1
}

// TestRefusals: wrong secret, forged and revoked node keys, oversized and
// gzip-bomb bodies, malformed JSON, a slow-loris client and plain HTTP on
// the TLS port are each refused, logged and counted, while a good host
// keeps being served throughout.
func TestRefusals(t *testing.T) {
	opt := DefaultOptions
	opt.MaxBody, opt.MaxDecompressed, opt.MaxLog = 64<<10, 1<<20, 64<<10
	// short enough to cut the slow client quickly, long enough that the
	// good host, descheduled on a loaded machine, is never cut mid-headers
	opt.HeaderTimeout = 2 * time.Second
	s := start(t, opt)
	good := newOsqueryd(t, s, "good")
	good.enroll(secret)
	stop := make(chan struct{})
	var served sync.WaitGroup
	served.Add(1)
	go func() {
		defer served.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			good.request("config", map[string]any{}, false)
			time.Sleep(100 * time.Millisecond) // under the per-host rate limit
		}
	}()

	bad := newOsqueryd(t, s, "bad")
	if r := bad.enroll("wrong"); bad.nodeKey != "" || r["node_invalid"] != true || r["error"] == nil {
		t.Errorf("wrong secret: %v", r)
	}
	if _, r := bad.post("config", map[string]any{"node_key": strings.Repeat("f", 64)}, false); r["node_invalid"] != true {
		t.Errorf("forged key: %v", r)
	}
	victim := newOsqueryd(t, s, "victim")
	victim.enroll(secret)
	s.st.Revoke(context.Background(), "victim")
	if _, r := victim.post("config", map[string]any{"node_key": victim.nodeKey}, false); r["node_invalid"] != true {
		t.Errorf("revoked key: %v", r)
	}
	if code, r := good.post("log", []byte(`{"node_key":"`+good.nodeKey+`","log_type":"result","data":[`+strings.Repeat(`{"name":"q","action":"snapshot","snapshot":[]},`, 2000)+`{}]}`), false); code != 413 || r["error"] == nil {
		t.Errorf("oversized body: %d %v", code, r)
	}
	bomb := []byte(`{"node_key":"` + good.nodeKey + `","log_type":"status","data":[],"pad":"` + strings.Repeat("A", 50<<20) + `"}`)
	if code, r := good.post("log", bomb, true); code != 413 || r["error"] == nil {
		t.Errorf("gzip bomb: %d %v", code, r)
	}
	if code, r := good.post("log", []byte(`{"node_key": "x", "log_type": [`), false); code != 400 || r["error"] == nil {
		t.Errorf("malformed JSON: %d %v", code, r)
	}
	// slow loris: headers never finish; the server hangs up
	conn, err := tls.Dial("tcp", strings.TrimPrefix(s.url, "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/osquery/config HTTP/1.1\r\nHost: x\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("slow client was not cut off: %v", err)
	}
	conn.Close()
	// plain HTTP on the TLS port
	resp, err := http.Post("http://"+strings.TrimPrefix(s.url, "https://")+"/api/osquery/config", "application/json", strings.NewReader(`{}`))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("plain HTTP: %d", resp.StatusCode)
		}
	}
	// a host in a loop is slowed down, the others are not
	flood := newOsqueryd(t, s, "flood")
	flood.enroll(secret)
	limited := 0
	for i := 0; i < 100; i++ {
		if code, _ := flood.post("config", map[string]any{"node_key": flood.nodeKey}, false); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Error("100 requests at once were not rate limited")
	}
	close(stop)
	served.Wait()

	for _, reason := range []string{"bad_secret", "node_invalid", "body_too_large", "gzip_too_large", "malformed", "plain_http", "slow_client", "rate_limited"} {
		if s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="`+reason+`"`) == 0 {
			t.Errorf("refusal %s not counted", reason)
		}
		if !strings.Contains(s.logs.String(), "reason="+reason) {
			t.Errorf("refusal %s not logged", reason)
		}
	}
	if n := s.srv.Metrics.Get("pkgpersist_requests_total", `endpoint="config"`); n < 3 {
		t.Errorf("the good host was served %d times", n)
	}
	var m bytes.Buffer
	s.srv.Metrics.Write(&m)
	if !strings.Contains(m.String(), `pkgpersist_rejected_total{reason="bad_secret"} 1`) {
		t.Errorf("metrics:\n%s", m.String())
	}
}
