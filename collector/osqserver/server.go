// Package osqserver is the osquery TLS remote API (enroll, config, log,
// distributed read and write) at Fleet's paths, so osqueryd hosts enroll
// into the collector and their results land in its store. osqueryd reads
// only the JSON body of a reply (osquery/remote/utility.h,
// TLSRequestHelper::go): every reply is a JSON object, a failure carries
// "error", and an unknown or revoked node key "node_invalid": true, which
// makes osqueryd enroll again.
package osqserver

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/osqwire"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Options are the server's limits and content.
type Options struct {
	// Secret is the enroll secret.
	Secret string
	// Config is the osquery configuration served to every host.
	Config []byte
	// MaxBody bounds a request body as sent; MaxDecompressed a gzip body
	// once inflated.
	MaxBody, MaxDecompressed int64
	// Rate and Burst bound requests per node key (and per address for
	// enrollment) a second; 0 disables the limit.
	Rate  float64
	Burst int
	// HeaderTimeout cuts off clients that send their headers too slowly.
	HeaderTimeout time.Duration
}

// DefaultOptions are the limits a fleet of osqueryd hosts needs: osqueryd
// sends at most logger_tls_max_lines (1024) lines a request.
var DefaultOptions = Options{MaxBody: 8 << 20, MaxDecompressed: 64 << 20, Rate: 20, Burst: 40, HeaderTimeout: 10 * time.Second}

// Server answers osqueryd.
type Server struct {
	opt     Options
	store   *store.SQLite
	log     *slog.Logger
	Metrics *Metrics
	limit   *limiter
	now     func() time.Time
}

// New returns a server on st.
func New(st *store.SQLite, opt Options, log *slog.Logger) *Server {
	return &Server{opt: opt, store: st, log: log, Metrics: NewMetrics(), limit: newLimiter(opt.Rate, opt.Burst), now: time.Now}
}

// Prefixes are where the API is served: Fleet's current and old paths.
var Prefixes = []string{"/api/osquery/", "/api/v1/osquery/"}

// Handler routes the API and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, p := range Prefixes {
		mux.HandleFunc("POST "+p+"enroll", s.wrap("enroll", s.enroll))
		mux.HandleFunc("POST "+p+"config", s.wrap("config", node(s, decodeNode, s.config)))
		mux.HandleFunc("POST "+p+"log", s.wrap("log", node(s, decodeLog, s.logs)))
		mux.HandleFunc("POST "+p+"distributed/read", s.wrap("distributed_read", node(s, decodeNode, s.distributedRead)))
		mux.HandleFunc("POST "+p+"distributed/write", s.wrap("distributed_write", node(s, osqwire.DecodeWrite, s.distributedWrite)))
	}
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		s.Metrics.Write(w)
		s.writeStoreMetrics(w)
	})
	return mux
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

type handler func(r *http.Request, body []byte) (any, error)

// wrap reads the body within the limits, runs h and writes its reply.
func (s *Server) wrap(endpoint string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := s.readBody(w, r)
		var reply any
		if err == nil {
			reply, err = h(r, body)
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			var rej *rejection
			if !errors.As(err, &rej) {
				rej = failure(err)
			}
			s.Metrics.Add("pkgpersist_rejected_total", `reason="`+rej.reason+`"`, 1)
			s.log.Warn("request refused", "endpoint", endpoint, "remote", r.RemoteAddr, "reason", rej.reason, "error", rej.msg)
			out := map[string]any{"error": rej.msg}
			if rej.nodeInvalid {
				out["node_invalid"] = true
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
}

func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, reject(http.StatusRequestEntityTooLarge, "body_too_large", "request body over %d bytes", s.opt.MaxBody)
		}
		return nil, reject(http.StatusBadRequest, "body_unreadable", "reading the request body: %v", err)
	}
	if !strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, reject(http.StatusBadRequest, "bad_gzip", "gzip body: %v", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, s.opt.MaxDecompressed+1))
	if err != nil {
		return nil, reject(http.StatusBadRequest, "bad_gzip", "gzip body: %v", err)
	}
	if int64(len(out)) > s.opt.MaxDecompressed {
		return nil, reject(http.StatusRequestEntityTooLarge, "gzip_too_large", "gzip body inflates past %d bytes", s.opt.MaxDecompressed)
	}
	return out, nil
}

// enroll checks the secret and hands out a new node key.
func (s *Server) enroll(r *http.Request, body []byte) (any, error) {
	e, err := osqwire.DecodeEnroll(body)
	if err != nil {
		return nil, reject(http.StatusBadRequest, "malformed", "%v", err)
	}
	// hashing first makes the comparison independent of the lengths
	want, got := sha256.Sum256([]byte(s.opt.Secret)), sha256.Sum256([]byte(e.Secret))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		rej := reject(http.StatusUnauthorized, "bad_secret", "enroll secret does not match (host %q)", e.HostIdentifier)
		rej.nodeInvalid = true
		return nil, rej
	}
	if strings.TrimSpace(e.HostIdentifier) == "" {
		return nil, reject(http.StatusBadRequest, "malformed", "enroll request without host_identifier")
	}
	// per host, not per address (a fleet behind NAT shares one), and only
	// once the secret matched, so strangers cannot fill the limiter
	if !s.limit.allow("enroll "+e.HostIdentifier, s.now()) {
		return nil, reject(http.StatusTooManyRequests, "rate_limited", "host %q enrolls too often", e.HostIdentifier)
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	nodeKey := hex.EncodeToString(key[:])
	details, _ := json.Marshal(e.HostDetails)
	version := osqueryVersion(e)
	if err := s.store.Enroll(r.Context(), e.HostIdentifier, details, version, store.KeyHash(nodeKey), s.now()); err != nil {
		return nil, err
	}
	s.Metrics.Add("pkgpersist_enrollments_total", "", 1)
	s.log.Info("enrolled", "host", e.HostIdentifier, "remote", r.RemoteAddr, "osquery", version)
	return map[string]any{"node_key": nodeKey, "node_invalid": false}, nil
}

func osqueryVersion(e *osqwire.Enroll) string {
	var info struct {
		Version string `json:"version"`
	}
	json.Unmarshal(e.HostDetails["osquery_info"], &info)
	return info.Version
}

// node decodes a request body once, authenticates its node key, applies
// the per-node rate limit and hands the decoded request to h. The limit
// is keyed by host after authentication: forged keys cannot fill it.
func node[T any](s *Server, decode func([]byte) (string, T, error), h func(context.Context, store.Node, T) (any, error)) handler {
	return func(r *http.Request, body []byte) (any, error) {
		key, req, err := decode(body)
		if err != nil {
			return nil, reject(http.StatusBadRequest, "malformed", "%v", err)
		}
		n, err := s.store.NodeByKey(r.Context(), store.KeyHash(key), s.now())
		if errors.Is(err, store.ErrUnknownNode) {
			rej := reject(http.StatusUnauthorized, "node_invalid", "unknown or revoked node key")
			rej.nodeInvalid = true
			return nil, rej
		}
		if err != nil {
			return nil, err
		}
		if !s.limit.allow("node "+strconv.FormatInt(n.HostID, 10), s.now()) {
			return nil, reject(http.StatusTooManyRequests, "rate_limited", "host %q over %g requests a second", n.Host, s.opt.Rate)
		}
		return h(r.Context(), n, req)
	}
}

func decodeNode(body []byte) (string, struct{}, error) {
	key, err := osqwire.DecodeNode(body)
	return key, struct{}{}, err
}

func decodeLog(body []byte) (string, *osqwire.Log, error) {
	l, err := osqwire.DecodeLog(body)
	if err != nil {
		return "", nil, err
	}
	return l.NodeKey, l, nil
}

func (s *Server) config(context.Context, store.Node, struct{}) (any, error) {
	return json.RawMessage(s.opt.Config), nil
}

func (s *Server) logs(ctx context.Context, n store.Node, l *osqwire.Log) (any, error) {
	results := make([]store.Logged, len(l.Results))
	for i, r := range l.Results {
		results[i] = r.Logged()
	}
	statuses := make([]store.StatusLine, len(l.Statuses))
	for i, st := range l.Statuses {
		statuses[i] = store.StatusLine{UnixTime: st.UnixTime, Severity: st.Severity, Line: st.Line, Filename: st.Filename, Message: st.Message, Version: st.Version}
	}
	added, err := s.store.SaveLogs(ctx, n.HostID, results, statuses)
	if err != nil {
		return nil, err
	}
	s.Metrics.Add("pkgpersist_rows_total", `source="log"`, int64(added))
	return struct{}{}, nil
}

// ExtensionCheck asks a host which pkgpersist extension it runs; it goes
// out with a distributed read at most every ExtensionCheckEvery.
const (
	ExtensionCheckID    = "pkgpersist-extension"
	ExtensionCheckSQL   = "SELECT version FROM osquery_extensions WHERE name = 'pkgpersist'"
	ExtensionCheckEvery = time.Hour
)

func (s *Server) distributedRead(ctx context.Context, n store.Node, _ struct{}) (any, error) {
	qs, err := s.store.TakeQueued(ctx, n.HostID, s.now())
	if err != nil {
		return nil, err
	}
	if s.now().Sub(n.ExtChecked) >= ExtensionCheckEvery {
		qs[ExtensionCheckID] = ExtensionCheckSQL
		if err := s.store.ExtensionAsked(ctx, n.HostID, s.now()); err != nil {
			return nil, err
		}
	}
	return map[string]any{"queries": qs}, nil
}

func (s *Server) distributedWrite(ctx context.Context, n store.Node, answers map[string]*osqwire.Answer) (any, error) {
	for id, a := range answers {
		if id == ExtensionCheckID {
			version := "no"
			if a.Status == 0 && len(a.Rows) > 0 {
				version = a.Rows[0]["version"]
				if version == "" {
					version = "yes"
				}
			}
			if err := s.store.SetExtension(ctx, n.HostID, version); err != nil {
				return nil, err
			}
			continue
		}
		batch, query, ok := store.ParseDistributedID(id)
		if !ok {
			s.Metrics.Add("pkgpersist_rejected_total", `reason="unknown_query"`, 1)
			s.log.Warn("answer to a query pkgpersist did not send", "host", n.Host, "id", id)
			continue
		}
		rows := make([]store.Row, len(a.Rows))
		for i, r := range a.Rows {
			rows[i] = store.Row(r)
		}
		// an answer not stored is refused whole: osqueryd sends the
		// batch again, and what was stored already is then not pending
		err := s.store.Answer(ctx, n.HostID, batch, query, rows, a.Status, a.Message, s.now())
		if err != nil && !errors.Is(err, store.ErrNotPending) {
			return nil, err
		}
		if err != nil {
			s.Metrics.Add("pkgpersist_rejected_total", `reason="unknown_query"`, 1)
			s.log.Warn("answer refused", "host", n.Host, "id", id, "error", err)
			continue
		}
		s.Metrics.Add("pkgpersist_rows_total", `source="distributed"`, int64(len(rows)))
	}
	return struct{}{}, nil
}
