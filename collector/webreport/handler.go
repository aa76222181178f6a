package webreport

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// Handler serves the page live: read from the store at most once every
// cacheFor (a page of a large fleet takes a while to read), rendered for
// each request under a new nonce, which its Content-Security-Policy
// header names. Who may see it is the caller's business (serve puts it
// behind its own credential).
func Handler(st Store, o Options, cacheFor time.Duration) http.Handler {
	h := &handler{st: st, o: o, cacheFor: cacheFor}
	return h
}

type handler struct {
	st       Store
	o        Options
	cacheFor time.Duration

	// mu makes one request read the store while the others wait for its
	// page, so a burst of reloads reads it once
	mu   sync.Mutex
	page *Page
	read time.Time
}

func (h *handler) load(r *http.Request) (*Page, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.page != nil && time.Since(h.read) < h.cacheFor {
		return h.page, nil
	}
	o := h.o
	o.Now = time.Now()
	p, err := Load(r.Context(), h.st, o)
	if err != nil {
		return nil, err
	}
	h.page, h.read = p, o.Now
	return p, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	p, err := h.load(r)
	if err != nil {
		http.Error(w, "the store could not be read: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	nonce := Nonce()
	var buf bytes.Buffer
	if err := p.Render(&buf, nonce); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Security-Policy", CSP(nonce)+"; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
