package osqserver

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// gz compresses b.
func gz(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// raw posts a prepared body as is and returns the status and reply.
func (o *osqueryd) raw(path string, body []byte, gzipped bool) (int, map[string]any) {
	o.t.Helper()
	req, _ := http.NewRequest("POST", o.base+o.prefix+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	code, reply, err := o.send(req)
	if err != nil {
		o.t.Fatalf("%s: %v", path, err)
	}
	return code, reply
}

// allocated runs fn and returns the bytes the process allocated meanwhile
// (server and client share it; the bodies are prepared before).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBoundedBeforeTrusted: what a stranger sends costs the server a few
// MiB whatever it inflates to: a forged gzip bomb (node key first or
// last), a forged distributed write of many rows, an enroll with a wrong
// secret and huge host_details. Each is refused in osquery's error shape
// and counted.
func TestBoundedBeforeTrusted(t *testing.T) {
	s := start(t, DefaultOptions)
	o := newOsqueryd(t, s, "stranger")
	pad := strings.Repeat("1,", 32<<20)
	bombFirst := gz([]byte(`{"node_key":"forged","log_type":"result","data":[` + pad + `1]}`))
	bombLast := gz([]byte(`{"log_type":"result","data":[` + pad + `1],"node_key":"forged"}`))
	rows := strings.Repeat(`{"a":"1"},`, 2<<20)
	plainWrite := []byte(`{"queries":{"pkgpersist:b:q":[` + rows + `{"a":"1"}]},"statuses":{"pkgpersist:b:q":0},"node_key":"forged"}`)
	write := gz([]byte(`{"queries":{"pkgpersist:b:q":[` + rows + `{"a":"1"}]},"statuses":{"pkgpersist:b:q":0},"node_key":"forged"}`))
	details := func(n int) string { return `{"system_info":{"uuid":"` + strings.Repeat("x", n) + `"}}` }
	enrollLast := gz([]byte(`{"host_identifier":"stranger","host_details":` + details(3<<20) + `,"enroll_secret":"wrong"}`))
	enrollBomb := gz([]byte(`{"host_identifier":"stranger","host_details":` + details(60<<20) + `,"enroll_secret":"` + secret + `"}`))
	for _, c := range []struct {
		name, path string
		body       []byte
		reason     string
		status     int
	}{
		{"gzip bomb, node key first", "log", bombFirst, "node_invalid", 401},
		{"gzip bomb, node key last", "log", bombLast, "gzip_ratio", 413},
		{"forged distributed write, gzipped", "distributed/write", write, "gzip_ratio", 413},
		{"forged distributed write, 20 MiB plain", "distributed/write", plainWrite, "node_invalid", 401},
		{"enroll, wrong secret after 3 MiB of host_details", "enroll", enrollLast, "bad_secret", 401},
		{"enroll, 60 MiB of host_details", "enroll", enrollBomb, "gzip_too_large", 413},
	} {
		var code int
		var reply map[string]any
		n := allocated(func() { code, reply = o.raw(c.path, c.body, c.body[0] != '{') })
		if (c.status == 401) != (reply["node_invalid"] == true) || reply["error"] == nil || code != c.status {
			t.Errorf("%s: %d %v", c.name, code, reply)
		}
		if n > 16<<20 {
			t.Errorf("%s: the server allocated %d MiB", c.name, n>>20)
		}
		if s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="`+c.reason+`"`) == 0 {
			t.Errorf("%s: %s not counted", c.name, c.reason)
		}
	}
}

// TestHostDetailsTrimmed: an enrollment's host_details are kept only for
// the fields the collector uses, each value cut short.
func TestHostDetailsTrimmed(t *testing.T) {
	s := start(t, DefaultOptions)
	o := newOsqueryd(t, s, "big")
	body := `{"enroll_secret":"` + secret + `","host_identifier":"big","host_details":{` +
		`"system_info":{"uuid":"U-big","hostname":"` + strings.Repeat("h", 10000) + `","cpu_brand":"` + strings.Repeat("c", 30000) + `"},` +
		`"junk":{"x":"` + strings.Repeat("j", 2<<20) + `"},"osquery_info":{"version":"5.12.1"}}}`
	if code, r := o.raw("enroll", gz([]byte(body)), true); code != 200 || r["node_key"] == nil {
		t.Fatalf("enroll: %d %v", code, r)
	}
	raw, err := s.st.NodeDetails(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	details := string(raw)
	var got map[string]map[string]string
	if err := json.Unmarshal([]byte(details), &got); err != nil || len(details) > 1024 ||
		got["system_info"]["uuid"] != "U-big" || got["osquery_info"]["version"] != "5.12.1" || len(got["system_info"]["hostname"]) != maxDetail {
		t.Errorf("stored details (%d bytes): %.300s", len(details), details)
	}
}

// logLines is a result log request of n lines of about size bytes each,
// each a new row, with the node key where osqueryd puts it uncompressed:
// last.
func logLines(key string, n, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"pack_pkgpersist_unowned-hooks","hostIdentifier":"h","unixTime":%d,"epoch":0,"counter":%d,"action":"added","columns":{"path":"/etc/apt/apt.conf.d/%d","pad":"%s"}}`,
			1795377600+i, i, i, strings.Repeat("p", size))
	}
	fmt.Fprintf(&b, `],"log_type":"result","node_key":%q}`, key)
	return b.Bytes()
}

// TestBigLogBatch: a batch of osquery's maximum line count, over the old
// 8 MiB cap and sent with the node key last (osqueryd's order when
// uncompressed), is stored whole and acknowledged; a line over MaxLine is
// skipped and counted, the rest of its batch stored.
func TestBigLogBatch(t *testing.T) {
	opt := DefaultOptions
	opt.MaxLine = 64 << 10
	s := start(t, opt)
	o := newOsqueryd(t, s, "busy")
	o.enroll(secret)
	body := logLines(o.nodeKey, 1024, 12<<10)
	if code, r := o.raw("log", body, false); code != 200 || r["error"] != nil {
		t.Fatalf("%d MiB batch: %d %v", len(body)>>20, code, r)
	}
	if n, _ := s.st.CountLogged(context.Background(), "enrolled:busy"); n != 1024 {
		t.Errorf("stored %d rows of 1024", n)
	}
	over := bytes.Replace(logLines(o.nodeKey, 3, 100), []byte(`"pad":"`+strings.Repeat("p", 100)), []byte(`"pad":"`+strings.Repeat("q", 100<<10)), 1)
	if code, r := o.raw("log", over, false); code != 200 || r["error"] != nil {
		t.Fatalf("batch with a long line: %d %v", code, r)
	}
	if n := s.srv.Metrics.Get("pkgpersist_skipped_lines_total", `reason="line_too_large"`); n != 1 {
		t.Errorf("%d lines counted as too large", n)
	}
}

// TestConcurrencyCap: past MaxConcurrent requests in progress the next
// waits QueueWait, then gets 503 in osquery's error shape.
func TestConcurrencyCap(t *testing.T) {
	opt := DefaultOptions
	opt.MaxConcurrent, opt.QueueWait = 1, 200*time.Millisecond
	s := start(t, opt)
	o := newOsqueryd(t, s, "one")
	// a body that trickles in holds the only slot
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", s.url+"/api/osquery/log", pr)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if resp, err := o.http.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	pw.Write([]byte(`{"log_type":"result","data":[`))
	time.Sleep(100 * time.Millisecond)
	code, r := o.raw("config", []byte(`{"node_key":"x"}`), false)
	pw.Close()
	wg.Wait()
	if code != http.StatusServiceUnavailable || r["error"] == nil || s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="busy"`) != 1 {
		t.Errorf("second request: %d %v", code, r)
	}
}
