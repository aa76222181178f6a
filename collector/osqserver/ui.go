package osqserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/webreport"
)

// UIPrefix is where Options.UI is served.
const UIPrefix = "/ui/"

// The UI's own rate: every request to it, answered or refused, spends a
// token of its client's bucket (uiClient), so passwords cannot be
// guessed faster than this whatever the credentials tried. The buckets
// are in memory (memLimiter), at most uiClients of them.
const (
	uiRate    = 2 // requests a second
	uiBurst   = 20
	uiClients = 10000
)

// ui serves Options.UI to whoever presents UIUser and UIPassword with
// HTTP Basic auth: no other credential of the server (enroll secret,
// node key, metrics token) opens it. Failures are counted
// (pkgpersist_rejected_total{reason="ui_auth"}) and every client address
// is held to uiRate requests a second (per serve process).
func (s *Server) ui(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// what a refusal shows; the page sends its own, with its nonce
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if !s.uiLimit.allow(uiClient(r.RemoteAddr), s.now()) {
		s.Metrics.Add("pkgpersist_rejected_total", `reason="ui_rate_limited"`, 1)
		h.Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || !s.uiCredentials(user, pass) {
		s.Metrics.Add("pkgpersist_rejected_total", `reason="ui_auth"`, 1)
		h.Set("WWW-Authenticate", `Basic realm="pkgpersist", charset="UTF-8"`)
		http.Error(w, "credentials required", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case strings.TrimSuffix(UIPrefix, "/"):
		http.Redirect(w, r, UIPrefix, http.StatusMovedPermanently)
		return
	case UIPrefix:
	default:
		http.NotFound(w, r)
		return
	}
	s.Metrics.Add("pkgpersist_requests_total", `endpoint="ui"`, 1)
	// the page takes a slot only to read the store and render, not while
	// it waits for another request's read
	s.opt.UI.ServeHTTP(w, r.WithContext(webreport.WithGate(r.Context(), s.gate.enter, s.gate.leave)))
}

// uiCredentials compares both halves in constant time, each hashed
// first so that their lengths tell nothing either.
func (s *Server) uiCredentials(user, pass string) bool {
	eq := func(a, b string) int {
		x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
		return subtle.ConstantTimeCompare(x[:], y[:])
	}
	return eq(user, s.opt.UIUser)&eq(pass, s.opt.UIPassword) == 1
}

// serveUI tells whether path is the UI's, which is served only with a
// UI handler and a password.
func (s *Server) serveUI(path string) bool {
	return s.opt.UI != nil && s.opt.UIPassword != "" && (path == strings.TrimSuffix(UIPrefix, "/") || strings.HasPrefix(path, UIPrefix))
}
