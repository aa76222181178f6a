// Package osqserver is the osquery TLS remote API (enroll, config, log,
// distributed read and write) at Fleet's paths, so osqueryd hosts enroll
// into the collector and their results land in its store. osqueryd reads
// only the JSON body of a reply (osquery/remote/utility.h,
// TLSRequestHelper::go): every reply is a JSON object, a failure carries
// "error", and an unknown or revoked node key "node_invalid": true, which
// makes osqueryd enroll again.
//
// Nothing a request sends is held whole before its sender is known: the
// body streams through a scanner that keeps only the fields asked for,
// each under a cap, while the node key is looked for; see MemoryBound.
package osqserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/extension/countreader"
)

// Server answers osqueryd.
type Server struct {
	opt      Options
	store    *store.DB
	log      *slog.Logger
	Metrics  *Metrics
	limit    *limiter
	newHosts *limiter
	uiLimit  *memLimiter
	gate     *gate
	nodes    *nodeCache
	now      func() time.Time
}

// New returns a server on st.
func New(st *store.DB, opt Options, log *slog.Logger) *Server {
	if opt.SecretField == "" {
		opt.SecretField = DefaultOptions.SecretField
	}
	calls := &atomic.Int64{}
	return &Server{opt: opt, store: st, log: log, Metrics: NewMetrics(),
		limit: newLimiter(st, opt.Rate, opt.Burst, calls), newHosts: newLimiter(st, opt.NewHostRate, opt.NewHostBurst, calls),
		uiLimit: newMemLimiter(uiRate, uiBurst, uiClients),
		gate:    newGate(opt.MaxConcurrent, opt.MemoryBudget, opt.QueueWait), nodes: newNodeCache(st, opt.KeyCache), now: time.Now}
}

// Prefixes are where the API is served: Fleet's current and old paths.
var Prefixes = []string{"/api/osquery/", "/api/v1/osquery/"}

// endpoint is one API call: what it needs from the body before the node
// key is checked (small top-level fields, each under a cap), and its
// handler.
type endpoint struct {
	name    string
	methods string // the HTTP methods it answers
	// fields are kept by the first read, by key, with their caps
	fields map[string]int
	// node handlers run after the node key checked out; enroll checks its
	// secret itself
	node   func(ctx context.Context, n store.Node, req *request) (any, error)
	enroll bool
}

func (s *Server) endpoints() map[string]*endpoint {
	return map[string]*endpoint{
		"enroll":            {name: "enroll", methods: "POST", enroll: true},
		"config":            {name: "config", methods: "GET POST", node: s.config},
		"log":               {name: "log", methods: "POST", fields: map[string]int{"log_type": 64}, node: s.logs},
		"distributed/read":  {name: "distributed_read", methods: "POST", node: s.distributedRead},
		"distributed/write": {name: "distributed_write", methods: "POST", fields: map[string]int{"statuses": 1 << 20, "messages": 4 << 20}, node: s.distributedWrite},
	}
}

// Handler routes the API, GET /version, GET /metrics when a metrics
// token is set, and /ui/ when a UI and its password are.
func (s *Server) Handler() http.Handler {
	eps := s.endpoints()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.serveUI(r.URL.Path) {
			s.ui(w, r)
			return
		}
		path, key := nodeAPI(r)
		switch path {
		case "/version":
			s.version(w, r)
			return
		case "/metrics":
			if s.opt.MetricsToken != "" && r.Method == http.MethodGet {
				s.metrics(w, r)
				return
			}
		}
		for _, p := range Prefixes {
			if ep := eps[strings.TrimPrefix(path, p)]; ep != nil && strings.HasPrefix(path, p) {
				s.serve(w, r, ep, key)
				return
			}
		}
		s.reply(w, r, "none", nil, reject(http.StatusNotFound, "not_found", "no such endpoint"))
	})
}

// nodeAPI reads osqueryd's --tls_node_api form, in which the node key is
// the first path segment and, for GET requests, is appended again as
// "&node_key=KEY" (osquery/remote/utility.h: makeURI and go), with no "?"
// unless --tls_secret_always put one there. It returns the API path and
// the key ("" when the request carries none in its URL).
func nodeAPI(r *http.Request) (path, key string) {
	path = r.URL.Path
	key = r.URL.Query().Get("node_key")
	if i := strings.Index(path, "&node_key="); i >= 0 {
		key, path = path[i+len("&node_key="):], path[:i]
	}
	if rest, ok := strings.CutPrefix(path, "/"); ok {
		if seg, tail, ok := strings.Cut(rest, "/"); ok && seg != "api" && seg != "" {
			for _, p := range Prefixes {
				if strings.HasPrefix("/"+tail, p) {
					return "/" + tail, seg
				}
			}
		}
	}
	return path, key
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"version": s.opt.Version, "server": "pkgpersist"})
}

// MetricsHandler serves the counters (for a listener of its own).
func (s *Server) MetricsHandler() http.Handler { return http.HandlerFunc(s.writeMetrics) }

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	want := sha256.Sum256([]byte("Bearer " + s.opt.MetricsToken))
	got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		s.Metrics.Add("pkgpersist_rejected_total", `reason="metrics_token"`, 1)
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "bearer token required", http.StatusUnauthorized)
		return
	}
	s.writeMetrics(w, r)
}

func (s *Server) writeMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s.Metrics.Write(w)
	s.writeStoreMetrics(w)
}

// rejection is a refused request: logged, counted, answered as JSON.
type rejection struct {
	status      int
	reason      string // counter label
	msg         string
	nodeInvalid bool
}

func (r *rejection) Error() string { return r.msg }

func reject(status int, reason, format string, args ...any) *rejection {
	return &rejection{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

func nodeInvalid(format string, args ...any) *rejection {
	rej := reject(http.StatusUnauthorized, "node_invalid", format, args...)
	rej.nodeInvalid = true
	return rej
}

// request is a request being served: its body, kept for another read,
// and the small fields the first read kept.
type request struct {
	r      *http.Request
	body   *body
	fields map[string][]byte
}

// serve admits a request through the gate, reads it as far as its
// sender's credentials, checks them, and runs the endpoint.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, ep *endpoint, urlKey string) {
	if !strings.Contains(ep.methods, r.Method) {
		w.Header().Set("Allow", strings.ReplaceAll(ep.methods, " ", ", "))
		s.reply(w, r, ep.name, nil, reject(http.StatusMethodNotAllowed, "method", "%s is not served on %s", r.Method, ep.name))
		return
	}
	reply, err := s.handle(r, ep, urlKey)
	// the reply is written once the slot is free: a client slow to read
	// it holds no more than its connection
	s.reply(w, r, ep.name, reply, err)
}

// handle runs a request inside the gate.
func (s *Server) handle(r *http.Request, ep *endpoint, urlKey string) (any, error) {
	if !s.gate.enter(r.Context()) {
		return nil, reject(http.StatusServiceUnavailable, "busy", "server busy: %d requests in progress", cap(s.gate.slots))
	}
	defer s.gate.leave()
	sent, inflated := s.caps(ep)
	if r.ContentLength > sent {
		return nil, reject(http.StatusRequestEntityTooLarge, "body_too_large", "request body of %d bytes, over %d", r.ContentLength, sent)
	}
	b := &body{g: s.gate, gzip: isGzip(r), inflate: inflated}
	defer b.close()
	req := &request{r: r, body: b, fields: map[string][]byte{}}
	var reply any
	err := func() error {
		wire := &readLimit{r: r.Body, left: sent}
		net := &countreader.Reader{R: io.TeeReader(wire, &spool{b: b, max: s.opt.SpoolMemory, dir: s.opt.SpoolDir})}
		if ep.enroll {
			var err error
			reply, err = s.enroll(r, net, b)
			return err
		}
		n, err := s.authenticate(r.Context(), req, ep, net, urlKey)
		if err != nil {
			return err
		}
		if ok, err := s.limit.allow(r.Context(), "node "+strconv.FormatInt(n.HostID, 10), s.now()); err != nil || !ok {
			return orLimited(err, reject(http.StatusTooManyRequests, "rate_limited", "host %q over %g requests a second", n.Host, s.opt.Rate))
		}
		reply, err = ep.node(r.Context(), n, req)
		return err
	}()
	return reply, err
}

func (s *Server) caps(ep *endpoint) (sent, inflated int64) {
	switch ep.name {
	case "log":
		return s.opt.MaxLog, s.opt.MaxLog
	case "distributed_write":
		return s.opt.MaxWrite, s.opt.MaxWrite
	}
	return s.opt.MaxBody, s.opt.MaxDecompressed
}

// authenticate finds the node key (in the URL, or in the body as it
// streams by, keeping the endpoint's small fields on the way), checks
// it, then takes in the rest of the body for the endpoint's own read.
func (s *Server) authenticate(ctx context.Context, req *request, ep *endpoint, net *countreader.Reader, urlKey string) (store.Node, error) {
	key := urlKey
	if key == "" || len(ep.fields) > 0 {
		in, err := s.inflate(req.body, net)
		if err != nil {
			return store.Node{}, err
		}
		want := map[string]int{"node_key": 256}
		for k, v := range ep.fields {
			want[k] = v
		}
		if err := firstRead(in, want, req.fields); err != nil {
			return store.Node{}, err
		}
		if key == "" {
			json.Unmarshal(req.fields["node_key"], &key)
		}
	}
	if key == "" {
		return store.Node{}, nodeInvalid("request without a node key")
	}
	hash := store.KeyHash(key)
	n, rev, ok, err := s.nodes.get(ctx, hash, s.now())
	if err != nil {
		return n, err
	}
	if !ok {
		n, err = s.store.Authenticate(ctx, hash, s.now())
		if errors.Is(err, store.ErrUnknownNode) {
			return n, nodeInvalid("unknown or revoked node key")
		}
		if err != nil {
			return n, err
		}
		s.nodes.put(hash, n, rev, s.now())
	}
	// the rest of the body, kept for the endpoint's read
	if _, err := io.Copy(io.Discard, net); err != nil {
		return n, err
	}
	return n, nil
}

// inflate is the first read of a body as it arrives. Until the sender
// is known a gzip body may inflate to at most maxRatio times what came
// over the wire (plus 1 MiB): osqueryd's compressed logs carry their node
// key first (the last member moved to the front by osquery's JSON::add
// of "_compress"), so a bomb whose key trails its padding costs the
// server no more work than its size as sent allows.
func (s *Server) inflate(b *body, net *countreader.Reader) (io.Reader, error) {
	if !b.gzip {
		return net, nil
	}
	in, err := b.openOn(net)
	if err != nil {
		return nil, err
	}
	return &ratioCap{r: in, wire: net}, nil
}

const maxRatio = 64

// ratioCap fails an inflated read that runs ahead of maxRatio times the
// bytes that came over the wire.
type ratioCap struct {
	r    io.Reader
	wire *countreader.Reader
	n    int64
}

func (c *ratioCap) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n += int64(n); c.n > 1<<20+maxRatio*c.wire.N {
		return n, reject(http.StatusRequestEntityTooLarge, "gzip_ratio", "gzip body inflates more than %d times before its node key", maxRatio)
	}
	return n, err
}

// firstRead walks the top-level object keeping the wanted fields (as
// sent, each under its cap) and stops as soon as it has them all.
func firstRead(in io.Reader, want map[string]int, got map[string][]byte) error {
	sc := newScanner(in, 64)
	err := sc.object(256, func(key string) error {
		max, ok := want[key]
		if !ok || got[key] != nil {
			return sc.skip()
		}
		raw, err := sc.raw(max)
		if err != nil {
			return fieldError(key, err)
		}
		got[key] = raw
		if len(got) == len(want) {
			return errStop
		}
		return nil
	})
	if err == errStop {
		return nil
	}
	if err != nil {
		return err
	}
	return sc.end()
}

func fieldError(key string, err error) error {
	if errors.Is(err, errTooLarge) {
		return reject(http.StatusRequestEntityTooLarge, "value_too_large", "%s: over its size cap", key)
	}
	return err
}

// reply writes the answer, or the refusal in osquery's error shape,
// logged and counted.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, endpoint string, reply any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		rej := asRejection(err)
		s.Metrics.Add("pkgpersist_rejected_total", `reason="`+rej.reason+`"`, 1)
		level := slog.LevelWarn
		if rej.status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request refused", "endpoint", endpoint, "remote", r.RemoteAddr, "reason", rej.reason, "error", rej.msg)
		out := map[string]any{"error": rej.msg}
		if rej.nodeInvalid {
			out["node_invalid"] = true
		}
		if rej.status == http.StatusServiceUnavailable || rej.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "5")
		}
		w.WriteHeader(rej.status)
		json.NewEncoder(w).Encode(out)
		return
	}
	s.Metrics.Add("pkgpersist_requests_total", `endpoint="`+endpoint+`"`, 1)
	if raw, ok := reply.(json.RawMessage); ok {
		w.Write(raw)
		return
	}
	json.NewEncoder(w).Encode(reply)
}

// asRejection maps an error to its status and counter.
func asRejection(err error) *rejection {
	var rej *rejection
	var syn *syntaxError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &rej):
		return rej
	case errors.Is(err, errSent), errors.As(err, &tooBig):
		return reject(http.StatusRequestEntityTooLarge, "body_too_large", "request body over its cap")
	case errors.Is(err, errInflated):
		return reject(http.StatusRequestEntityTooLarge, "gzip_too_large", "gzip body inflates past its cap")
	case errors.Is(err, errTooLarge):
		return reject(http.StatusRequestEntityTooLarge, "value_too_large", "%v", err)
	case errors.As(err, &syn):
		return reject(http.StatusBadRequest, "malformed", "%v", err)
	case errors.Is(err, context.Canceled), errors.Is(err, io.ErrUnexpectedEOF):
		return reject(http.StatusBadRequest, "body_unreadable", "reading the request body: %v", err)
	}
	return failure(err)
}
