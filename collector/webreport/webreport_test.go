package webreport

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/storetest"
)

// TestEscapes: every hostile value is in the page only as escaped text,
// in element content and in attributes alike.
func TestEscapes(t *testing.T) {
	st, o := fixture(t)
	var b bytes.Buffer
	if err := Write(context.Background(), &b, st, o); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, v := range []string{hostileCommand, hostilePath, hostileHost} {
		if strings.Contains(page, v) {
			t.Errorf("%q is in the page as it came", v)
		}
		if !strings.Contains(html.UnescapeString(page), v) {
			t.Errorf("%q is not in the page at all", v)
		}
	}
	for _, markup := range []string{"<img", "<svg onload"} {
		if i := strings.Index(page, markup); i >= 0 {
			t.Errorf("page holds %q: %s", markup, page[max(i-80, 0):min(i+80, len(page))])
		}
	}
}

// TestCaps: past MaxHosts and MaxFindings the page says how many more
// there are; the hosts that need a look and untriaged findings are the
// ones shown.
func TestCaps(t *testing.T) {
	st, o := fixture(t)
	o.MaxHosts, o.MaxFindings = 2, 1
	p, err := Load(context.Background(), st, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Hosts) != 2 || p.HostsHidden != p.HostCount-2 || p.Hosts[0].Name != "db1" || p.Hosts[1].Name != "web2" {
		t.Errorf("hosts shown %+v, %d hidden of %d", p.Hosts, p.HostsHidden, p.HostCount)
	}
	if len(p.Findings) != 1 || p.Hidden != 4 || p.FindingsTotal != 5 || p.Findings[0].Triage != "" {
		t.Errorf("findings shown %+v, %d hidden of %d", p.Findings, p.Hidden, p.FindingsTotal)
	}
	var b bytes.Buffer
	if err := p.Render(&b, "n"); err != nil {
		t.Fatal(err)
	}
	for _, note := range []string{`id="hosts-hidden">12 more hosts not shown`, `id="findings-hidden">4 more findings not shown (of 5)`} {
		if !strings.Contains(b.String(), note) {
			t.Errorf("no note %q", note)
		}
	}
}

// TestHandler: the live page carries a new nonce each time, the same in
// its CSP header and on its style and script; it reads the store at most
// once in its cache time; only GET and HEAD are served.
func TestHandler(t *testing.T) {
	st, o := fixture(t)
	srv := httptest.NewServer(Handler(st, o, time.Minute))
	defer srv.Close()
	nonceOf := regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]+)'`)
	var nonces []string
	for range 2 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		m := nonceOf.FindStringSubmatch(csp)
		if resp.StatusCode != 200 || m == nil || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("%d, CSP %q", resp.StatusCode, csp)
		}
		if !strings.Contains(b.String(), `<script nonce="`+m[1]+`">`) || !strings.Contains(b.String(), `<style nonce="`+m[1]+`">`) {
			t.Errorf("the page's nonce is not the header's %s", m[1])
		}
		nonces = append(nonces, m[1])
	}
	if nonces[0] == nonces[1] {
		t.Errorf("nonce %s used twice", nonces[0])
	}
	resp, err := http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

// TestEmptyStore: a store with nothing in it is a page that says so.
func TestEmptyStore(t *testing.T) {
	var b bytes.Buffer
	if err := Write(context.Background(), &b, storetest.Open(t), Defaults()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="timeline-empty"`, "no findings in the hosts' latest runs", `<b id="count-hosts">0</b>`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
}
