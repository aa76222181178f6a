package osqserver

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestOrdinaryClientsAreNotSlow: clients that do nothing wrong (HTTP/1.1
// and HTTP/2, kept alive until the server's idle timeout, a request
// whose handling outlasts the header timeout) are not counted or logged
// as slow_client; a client that never finishes its headers is.
func TestOrdinaryClientsAreNotSlow(t *testing.T) {
	opt := DefaultOptions
	opt.HeaderTimeout, opt.IdleTimeout = 300*time.Millisecond, 500*time.Millisecond
	s := start(t, opt)
	pem, _ := os.ReadFile(s.certs)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		o := &osqueryd{t: t, http: &http.Client{Transport: tr}, base: s.url, host: "ordinary-" + map[bool]string{false: "h1", true: "h2"}[h2], prefix: "/api/osquery/"}
		o.enroll(secret)
		for i := 0; i < 3; i++ {
			o.request("config", map[string]any{}, false)
			time.Sleep(400 * time.Millisecond)
		}
		time.Sleep(time.Second) // past the idle timeout
	}
	if n := s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="slow_client"`); n != 0 || strings.Contains(s.logs.String(), "slow_client") {
		t.Errorf("ordinary clients counted as slow: %d\n%s", n, s.logs.String())
	}
}

// TestMetricsNeedCredentials: /metrics on the API's address needs the
// bearer token, and is not served there at all without one (serve mounts
// MetricsHandler on an address of its own).
func TestMetricsNeedCredentials(t *testing.T) {
	for _, token := range []string{"", "t0ken"} {
		opt := DefaultOptions
		opt.MetricsToken = token
		s := start(t, opt)
		o := newOsqueryd(t, s, "m")
		get := func(auth string) int {
			req, _ := http.NewRequest("GET", s.url+"/metrics", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := o.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := get(""); code != map[string]int{"": 404, "t0ken": 401}[token] {
			t.Errorf("token %q: /metrics without credentials: %d", token, code)
		}
		if token != "" {
			if code := get("Bearer wrong"); code != 401 {
				t.Errorf("wrong token: %d", code)
			}
			if code := get("Bearer " + token); code != 200 {
				t.Errorf("right token: %d", code)
			}
		}
	}
}

// TestConnectionCap: past MaxConns open connections, the next waits until
// one closes.
func TestConnectionCap(t *testing.T) {
	opt := DefaultOptions
	opt.MaxConns = 2
	s := start(t, opt)
	addr := strings.TrimPrefix(s.url, "https://")
	var held []*tls.Conn
	for i := 0; i < 2; i++ {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	third := make(chan error, 1)
	go func() {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			c.Close()
		}
		third <- err
	}()
	select {
	case err := <-third:
		t.Fatalf("a third connection was served while two were open: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	if err := <-third; err != nil {
		t.Errorf("third connection after one closed: %v", err)
	}
	held[1].Close()
}
