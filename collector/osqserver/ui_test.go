package osqserver

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/webreport"
	"github.com/pkgpersist/pkgpersist/test/storetest"
)

const uiPassword = "ui-pa55word"

// uiGet asks for path with the Basic credentials user:pass (none when
// user is "-"), a bearer header, and a node key in the URL.
func uiGet(t *testing.T, s *testServer, o *osqueryd, path, user, pass, bearer, nodeKey string) (*http.Response, string) {
	t.Helper()
	url := s.url + path
	if nodeKey != "" {
		url += "?node_key=" + nodeKey
	}
	req, _ := http.NewRequest("GET", url, nil)
	if user != "-" {
		req.SetBasicAuth(user, pass)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := o.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// startUI starts a server whose /ui/ is THE PAGE to the user pkgpersist
// with uiPassword, and an osqueryd named name.
func startUI(t *testing.T, opt Options, name string) (*testServer, *osqueryd) {
	t.Helper()
	opt.UIUser, opt.UIPassword = "pkgpersist", uiPassword
	opt.UI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "THE PAGE") })
	s := start(t, opt)
	return s, newOsqueryd(t, s, name)
}

// TestUIAuth: /ui/ opens only to its own user and password; the enroll
// secret, a node key and the metrics token do not open it, refusals are
// 401 with a Basic challenge and counted, and the page carries the
// security headers.
func TestUIAuth(t *testing.T) {
	opt := DefaultOptions
	opt.MetricsToken = "t0ken"
	s, o := startUI(t, opt, "ui-host")
	if r := o.enroll(secret); r["node_key"] == nil {
		t.Fatalf("enroll: %v", r)
	}
	refused := []struct {
		name                        string
		user, pass, bearer, nodeKey string
	}{
		{"no credentials", "-", "", "", ""},
		{"wrong password", "pkgpersist", "guess", "", ""},
		{"wrong user", "admin", uiPassword, "", ""},
		{"enroll secret", "pkgpersist", secret, "", ""},
		{"metrics token as password", "pkgpersist", "t0ken", "", ""},
		{"metrics token as bearer", "-", "", "t0ken", ""},
		{"node key as password", "pkgpersist", o.nodeKey, "", ""},
		{"node key in the URL", "-", "", "", o.nodeKey},
		{"empty password", "pkgpersist", "", "", ""},
	}
	for _, c := range refused {
		resp, body := uiGet(t, s, o, "/ui/", c.user, c.pass, c.bearer, c.nodeKey)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") || strings.Contains(body, "THE PAGE") {
			t.Errorf("%s: %d %q, challenge %q", c.name, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if n := s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="ui_auth"`); n != int64(len(refused)) {
		t.Errorf("ui_auth refusals counted %d, want %d", n, len(refused))
	}
	resp, body := uiGet(t, s, o, "/ui/", "pkgpersist", uiPassword, "", "")
	if resp.StatusCode != 200 || body != "THE PAGE" {
		t.Fatalf("right credentials: %d %q", resp.StatusCode, body)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if resp, _ := uiGet(t, s, o, "/ui/other", "pkgpersist", uiPassword, "", ""); resp.StatusCode != 404 {
		t.Errorf("/ui/other: %d", resp.StatusCode)
	}
	// the API is unchanged beside it
	if r := o.request("config", map[string]any{}, false); r["schedule"] == nil && r["packs"] == nil {
		t.Errorf("config beside the UI: %v", r)
	}
}

// TestUIRateLimited: a client guessing passwords is held to the UI's
// rate, and then refused even the right password until it slows down.
func TestUIRateLimited(t *testing.T) {
	opt := DefaultOptions
	s, o := startUI(t, opt, "guesser")
	limited := 0
	for range uiBurst + 10 {
		if resp, _ := uiGet(t, s, o, "/ui/", "pkgpersist", "guess", "", ""); resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 5 {
		t.Fatalf("%d of %d guesses refused as too many", limited, uiBurst+10)
	}
	if resp, _ := uiGet(t, s, o, "/ui/", "pkgpersist", uiPassword, "", ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password right after the guesses: %d, want 429", resp.StatusCode)
	}
	if n := s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="ui_rate_limited"`); n < int64(limited) {
		t.Errorf("rate-limited refusals counted %d, want %d", n, limited)
	}
}

// TestUIAbsentWithoutPassword: without a UI password /ui/ is not served,
// whatever the credentials.
func TestUIAbsentWithoutPassword(t *testing.T) {
	opt := DefaultOptions
	opt.UI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "THE PAGE") })
	s := start(t, opt)
	o := newOsqueryd(t, s, "nobody")
	for _, pass := range []string{"", secret, uiPassword} {
		if resp, body := uiGet(t, s, o, "/ui/", "pkgpersist", pass, "", ""); resp.StatusCode != 404 || strings.Contains(body, "THE PAGE") {
			t.Errorf("password %q: %d %q", pass, resp.StatusCode, body)
		}
	}
}

// TestServeUI: pkgpersist serve --ui-password-file serves the web report
// of its store at /ui/ to that password alone.
func TestServeUI(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"secret": secret, "ui": uiPassword + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := startServe(t, "--db", storetest.DSN(t), "--insecure-http", "--enroll-secret-file", filepath.Join(dir, "secret"),
		"--ui-password-file", filepath.Join(dir, "ui"))
	get := func(pass string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", p.url+"/ui/", nil)
		req.SetBasicAuth("pkgpersist", pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, _ := get(secret); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the enroll secret: %d", resp.StatusCode)
	}
	resp, page := get(uiPassword)
	if resp.StatusCode != 200 || !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, `data-detection="unowned-hooks"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("the page: %d %q %.300s\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), page, p.logs())
	}
}

// TestUIWaitHoldsNoSlot: a UI request waiting (for the store read
// another request started) holds none of the server's concurrency
// slots; it takes one only for its own work (webreport.Admit).
func TestUIWaitHoldsNoSlot(t *testing.T) {
	opt := DefaultOptions
	opt.UIUser, opt.UIPassword = "pkgpersist", uiPassword
	opt.MaxConcurrent, opt.QueueWait = 1, 200*time.Millisecond
	opt.UI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(500 * time.Millisecond) // waiting for a shared read
		leave, ok := webreport.Admit(r.Context())
		if !ok {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		defer leave()
		io.WriteString(w, "THE PAGE")
	})
	s := start(t, opt)
	o := newOsqueryd(t, s, "waiter")
	var wg sync.WaitGroup
	codes := make([]int, 3)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := uiGet(t, s, o, "/ui/", "pkgpersist", uiPassword, "", "")
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d: %d", i, c)
		}
	}
}

// TestUILimitWithoutStore: the UI's rate limit is kept in memory: /ui/
// writes nothing to the store (even refused requests did, a bucket row
// each), so a store that cannot be written does not turn the page
// away as rate-limited.
func TestUILimitWithoutStore(t *testing.T) {
	opt := DefaultOptions
	s, o := startUI(t, opt, "viewer")
	s.st.Close()
	if resp, body := uiGet(t, s, o, "/ui/", "pkgpersist", uiPassword, "", ""); resp.StatusCode != 200 || body != "THE PAGE" {
		t.Errorf("with the store closed: %d %q", resp.StatusCode, body)
	}
	if n := s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="ui_rate_limited"`); n != 0 {
		t.Errorf("%d requests counted rate-limited", n)
	}
}
