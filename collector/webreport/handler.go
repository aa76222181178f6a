package webreport

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"time"
)

// Handler serves the page live: read from the store at most once every
// cacheFor, or ten times as long as the last read took when that is
// longer (a page of a large fleet takes a while to read), rendered for
// each request under a new nonce, which its Content-Security-Policy
// header names. Requests that find the page stale while another reads
// it wait for that read and share it. Who may see it is the caller's
// business (serve puts it behind its own credential).
func Handler(st Store, o Options, cacheFor time.Duration) http.Handler {
	return &handler{st: st, o: o, cacheFor: cacheFor}
}

type handler struct {
	st       Store
	o        Options
	cacheFor time.Duration

	mu      sync.Mutex
	page    *Page
	expires time.Time
	loading chan struct{} // closed when the read in progress ends; nil: none
}

// gateKey is the context key of a request's admission (WithGate).
type gateKey struct{}

type gate struct {
	enter func(context.Context) bool
	leave func()
}

// WithGate has the store read and the render of the request whose
// context ctx is run each once enter admits it, and leave called after:
// serve passes its concurrency gate, so that a request waiting for
// another's read holds none of its slots.
func WithGate(ctx context.Context, enter func(context.Context) bool, leave func()) context.Context {
	return context.WithValue(ctx, gateKey{}, gate{enter, leave})
}

// Admit enters the gate of ctx (WithGate; none: admitted at once) and
// returns how to leave it, or false when the gate refused.
func Admit(ctx context.Context) (leave func(), ok bool) {
	g, found := ctx.Value(gateKey{}).(gate)
	if !found {
		return func() {}, true
	}
	if !g.enter(ctx) {
		return nil, false
	}
	return g.leave, true
}

// errBusy is a gate's refusal.
type errBusy struct{}

func (errBusy) Error() string { return "server busy" }

// load returns the cached page, or reads it: one request reads while
// the others wait for its page without holding a gate's slot; when that
// read fails, the next waiter reads.
func (h *handler) load(ctx context.Context) (*Page, error) {
	for {
		h.mu.Lock()
		if h.page != nil && time.Now().Before(h.expires) {
			p := h.page
			h.mu.Unlock()
			return p, nil
		}
		if wait := h.loading; wait != nil {
			h.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		h.loading = done
		h.mu.Unlock()
		p, took, err := h.read(ctx)
		h.mu.Lock()
		if err == nil {
			h.page, h.expires = p, time.Now().Add(max(h.cacheFor, 10*took))
		}
		h.loading = nil
		h.mu.Unlock()
		close(done)
		return p, err
	}
}

// read reads the page inside the request's gate and says how long the
// read took.
func (h *handler) read(ctx context.Context) (*Page, time.Duration, error) {
	leave, ok := Admit(ctx)
	if !ok {
		return nil, 0, errBusy{}
	}
	defer leave()
	o := h.o
	o.Now = time.Now()
	p, err := Load(ctx, h.st, o)
	return p, time.Since(o.Now), err
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	p, err := h.load(r.Context())
	if err != nil {
		msg := "the store could not be read: " + err.Error()
		if _, busy := err.(errBusy); busy {
			msg = err.Error()
		}
		http.Error(w, msg, http.StatusServiceUnavailable)
		return
	}
	nonce := Nonce()
	page, err := render(r.Context(), p, nonce)
	if err != nil {
		if _, busy := err.(errBusy); busy {
			http.Error(w, "server busy", http.StatusServiceUnavailable)
			return
		}
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Security-Policy", CSP(nonce)+"; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

// render renders p inside the request's gate, which it leaves before
// the page is sent (to a client as slow as it likes).
func render(ctx context.Context, p *Page, nonce string) ([]byte, error) {
	leave, ok := Admit(ctx)
	if !ok {
		return nil, errBusy{}
	}
	defer leave()
	var buf bytes.Buffer
	err := p.Render(&buf, nonce)
	return buf.Bytes(), err
}
