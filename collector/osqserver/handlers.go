package osqserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/osqwire"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// keptDetails are the host_details osqueryd sends at enrollment that the
// collector uses (shown by hosts, or its hardware identity); the rest is
// read past and dropped, each value cut at maxDetail bytes.
var keptDetails = map[string][]string{
	"os_version":   {"name", "version", "platform"},
	"osquery_info": {"version"},
	"system_info":  {"uuid", "hardware_serial", "hostname"},
}

const (
	maxDetail      = 256
	maxDetailTable = 64 << 10 // one host_details table as sent
)

// enroll checks the secret as soon as it streams by and hands out a new
// node key, under the identity rules of store.EnrollNode.
func (s *Server) enroll(r *http.Request, net io.Reader, b *body) (any, error) {
	in, err := b.openOn(net)
	if err != nil {
		return nil, err
	}
	var id string
	secretSeen := false
	details := map[string]map[string]string{}
	sc := newScanner(in, 64)
	err = sc.object(256, func(key string) error {
		switch key {
		case s.opt.SecretField:
			secret, err := sc.str(4096)
			if err != nil {
				return fieldError(key, err)
			}
			// hashing first makes the comparison independent of the lengths
			want, got := sha256.Sum256([]byte(s.opt.Secret)), sha256.Sum256([]byte(secret))
			if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
				return badSecret()
			}
			secretSeen = true
			return nil
		case "host_identifier":
			var err error
			id, err = sc.str(1024)
			return fieldError(key, err)
		case "host_details":
			return sc.object(256, func(table string) error {
				if keptDetails[table] == nil {
					return sc.skip()
				}
				raw, err := sc.raw(maxDetailTable)
				if errors.Is(err, errTooLarge) {
					// no osquery table row is this big: what it claims is
					// dropped, not its enrollment
					s.log.Warn("enrollment host_details table dropped", "table", table, "over", maxDetailTable)
					return nil
				}
				if err != nil {
					return err
				}
				details[table] = trimDetails(raw, keptDetails[table])
				return nil
			})
		}
		return sc.skip()
	})
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return nil, err
	}
	if !secretSeen {
		return nil, badSecret()
	}
	if id == "" {
		return nil, reject(http.StatusBadRequest, "malformed", "enroll request without host_identifier")
	}
	return s.admit(r, id, details)
}

func badSecret() error {
	rej := reject(http.StatusUnauthorized, "bad_secret", "enroll secret does not match")
	rej.nodeInvalid = true
	return rej
}

// trimDetails keeps the named fields of one host_details table, as
// strings of at most maxDetail bytes.
func trimDetails(raw []byte, keep []string) map[string]string {
	var row map[string]json.RawMessage
	out := map[string]string{}
	if json.Unmarshal(raw, &row) != nil {
		return out
	}
	for _, k := range keep {
		var v string
		if json.Unmarshal(row[k], &v) == nil && v != "" {
			if len(v) > maxDetail {
				v = v[:maxDetail]
			}
			out[k] = v
		}
	}
	return out
}

// admit applies the enrollment rate limits and the store's identity
// rules, and hands out the node key.
func (s *Server) admit(r *http.Request, id string, details map[string]map[string]string) (any, error) {
	ctx, now := r.Context(), s.now()
	known, err := s.store.NodeKnown(ctx, id)
	if err != nil {
		return nil, err
	}
	if !known {
		if ok, err := s.newHosts.allow(ctx, "new hosts", now); err != nil || !ok {
			return nil, orLimited(err, reject(http.StatusTooManyRequests, "enroll_rate", "new hosts enroll faster than %g a second (host %q waits)", s.opt.NewHostRate, id))
		}
	}
	// per host, not per address (a fleet behind NAT shares one)
	if ok, err := s.limit.allow(ctx, "enroll "+id, now); err != nil || !ok {
		return nil, orLimited(err, reject(http.StatusTooManyRequests, "rate_limited", "host %q enrolls too often", id))
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	nodeKey := hex.EncodeToString(key[:])
	raw, _ := json.Marshal(details)
	e := store.Enrollment{
		Identifier: id, Details: raw, OsqueryVersion: details["osquery_info"]["version"],
		Hardware: store.Hardware{UUID: details["system_info"]["uuid"], Serial: details["system_info"]["hardware_serial"]},
		KeyHash:  store.KeyHash(nodeKey), Remote: r.RemoteAddr, At: now,
	}
	again, err := s.store.EnrollNode(ctx, e)
	var refused *store.EnrollRefused
	if errors.As(err, &refused) {
		if refused.Alert {
			s.Metrics.Add("pkgpersist_alerts_total", `kind="`+refused.Reason+`"`, 1)
			s.log.Error("ALERT: enrollment refused", "host", id, "remote", r.RemoteAddr, "reason", refused.Reason, "detail", refused.Detail)
		}
		rej := reject(http.StatusForbidden, refused.Reason, "host %q: %s", id, refused.Detail)
		rej.nodeInvalid = true
		return nil, rej
	}
	if err != nil {
		return nil, err
	}
	s.Metrics.Add("pkgpersist_enrollments_total", "", 1)
	s.log.Info("enrolled", "host", id, "remote", r.RemoteAddr, "osquery", e.OsqueryVersion, "again", again)
	return map[string]any{"node_key": nodeKey, "node_invalid": false}, nil
}

func (s *Server) config(_ context.Context, _ store.Node, req *request) (any, error) {
	if req.r.Method == http.MethodGet {
		// --tls_node_api: the configuration as a JSON string under
		// "config" (osquery's plugins/config/tls_config.cpp)
		return map[string]string{"config": string(s.opt.Config)}, nil
	}
	return json.RawMessage(s.opt.Config), nil
}

// Flushes of a log request's rows into the store: a batch of osquery's
// maximum size is never held whole.
const (
	flushRows  = 2000
	flushBytes = 1 << 20
)

// logs streams a log request's lines into the store. A line that cannot
// be read, or is over MaxLine or MaxLineRows, is skipped, logged and
// counted: osqueryd resends a refused batch forever, so one bad line
// must not stall its logger.
func (s *Server) logs(ctx context.Context, n store.Node, req *request) (any, error) {
	var typ string
	json.Unmarshal(req.fields["log_type"], &typ)
	if typ != "result" && typ != "status" {
		return nil, reject(http.StatusBadRequest, "malformed", "log_type %q is neither result nor status", typ)
	}
	in, err := req.body.open()
	if err != nil {
		return nil, err
	}
	var results []store.Logged
	var statuses []store.StatusLine
	pending := 0
	flush := func() error {
		if len(results)+len(statuses) == 0 {
			return nil
		}
		added, err := s.store.SaveLogs(ctx, n.HostID, results, statuses)
		if err != nil {
			return err
		}
		s.Metrics.Add("pkgpersist_rows_total", `source="log"`, int64(added))
		results, statuses, pending = results[:0], statuses[:0], 0
		return nil
	}
	sc := newScanner(in, 64)
	err = sc.object(256, func(key string) error {
		if key != "data" {
			return sc.skip()
		}
		return sc.array(func(i int) error {
			raw, err := sc.raw(int(s.opt.MaxLine))
			if errors.Is(err, errTooLarge) {
				s.skipLine(n, i, "line_too_large", "over %d bytes", s.opt.MaxLine)
				return nil
			}
			if err != nil {
				return err
			}
			if rows := bytes.Count(raw, []byte("{")); rows > s.opt.MaxLineRows+1 {
				s.skipLine(n, i, "line_rows", "up to %d rows, over %d", rows-1, s.opt.MaxLineRows)
				return nil
			}
			if typ == "status" {
				st, err := statusLine(raw)
				if err != nil {
					s.skipLine(n, i, "bad_line", "%v", err)
					return nil
				}
				statuses = append(statuses, st)
			} else {
				rs, err := osqwire.DecodeResultLine(raw)
				if err != nil {
					s.skipLine(n, i, "bad_line", "%v", err)
					return nil
				}
				for _, r := range rs {
					results = append(results, r.Logged())
				}
			}
			if pending += len(raw); pending >= flushBytes || len(results)+len(statuses) >= flushRows {
				return flush()
			}
			return nil
		})
	})
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return nil, err
	}
	return struct{}{}, flush()
}

func (s *Server) skipLine(n store.Node, i int, reason, format string, args ...any) {
	s.Metrics.Add("pkgpersist_skipped_lines_total", `reason="`+reason+`"`, 1)
	s.log.Warn("log line skipped", "host", n.Host, "line", i, "reason", reason, "error", fmt.Sprintf(format, args...))
}

// statusLine reads one status log line with osqwire's reader.
func statusLine(raw []byte) (store.StatusLine, error) {
	l, err := osqwire.DecodeLog(append(append([]byte(`{"log_type":"status","data":[`), raw...), ']', '}'))
	if err != nil || len(l.Statuses) != 1 {
		return store.StatusLine{}, orBad(err, "not one status line")
	}
	st := l.Statuses[0]
	return store.StatusLine{UnixTime: st.UnixTime, Severity: st.Severity, Line: st.Line, Filename: st.Filename, Message: st.Message, Version: st.Version}, nil
}

// ExtensionCheck asks a host which pkgpersist extension it runs; it goes
// out with a distributed read at most every ExtensionCheckEvery.
const (
	ExtensionCheckID    = "pkgpersist-extension"
	ExtensionCheckSQL   = "SELECT version FROM osquery_extensions WHERE name = 'pkgpersist'"
	ExtensionCheckEvery = time.Hour
)

func (s *Server) distributedRead(ctx context.Context, n store.Node, _ *request) (any, error) {
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

// distributedWrite stores each query's answer as its rows stream by (the
// statuses and messages came with the first read); only a write whose
// every answer was stored is acknowledged.
func (s *Server) distributedWrite(ctx context.Context, n store.Node, req *request) (any, error) {
	meta := []byte(`{"statuses":` + orEmpty(req.fields["statuses"]) + `,"messages":` + orEmpty(req.fields["messages"]) + `}`)
	_, answers, err := osqwire.DecodeWrite(meta)
	if err != nil {
		return nil, reject(http.StatusBadRequest, "malformed", "%v", err)
	}
	in, err := req.body.open()
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	sc := newScanner(in, 64)
	err = sc.object(256, func(key string) error {
		if key != "queries" {
			return sc.skip()
		}
		return sc.object(1024, func(id string) error {
			raw, err := sc.raw(int(s.opt.MaxAnswer))
			if err != nil {
				return fieldError("queries."+id, err)
			}
			one, _ := json.Marshal(map[string]json.RawMessage{id: raw})
			_, got, err := osqwire.DecodeWrite(append(append([]byte(`{"queries":`), one...), '}'))
			if err != nil {
				return reject(http.StatusBadRequest, "malformed", "%v", err)
			}
			a := got[id]
			if m := answers[id]; m != nil {
				a.Status, a.Message = m.Status, m.Message
			}
			done[id] = true
			return s.answer(ctx, n, id, a)
		})
	})
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return nil, err
	}
	// a failed query may come with a status and no rows
	for id, a := range answers {
		if !done[id] {
			if err := s.answer(ctx, n, id, a); err != nil {
				return nil, err
			}
		}
	}
	return struct{}{}, nil
}

func orEmpty(raw []byte) string {
	if len(raw) == 0 {
		return "{}"
	}
	return string(raw)
}

// answer stores one query's answer. An answer to a query pkgpersist did
// not send, or no longer waits for, is counted and dropped; any other
// failure fails the request, so osqueryd sends it again.
func (s *Server) answer(ctx context.Context, n store.Node, id string, a *osqwire.Answer) error {
	if id == ExtensionCheckID {
		version := "no"
		if a.Status == 0 && len(a.Rows) > 0 {
			if version = a.Rows[0]["version"]; version == "" {
				version = "yes"
			}
		}
		return s.store.SetExtension(ctx, n.HostID, version)
	}
	batch, query, ok := store.ParseDistributedID(id)
	pending := false
	if ok {
		var err error
		if pending, err = s.store.Pending(ctx, n.HostID, batch, query); err != nil {
			return err
		}
	}
	if !pending {
		s.notWaiting(n, id)
		return nil
	}
	rows := make([]store.Row, len(a.Rows))
	for i, r := range a.Rows {
		rows[i] = store.Row(r)
	}
	err := s.store.Answer(ctx, n.HostID, batch, query, rows, a.Status, a.Message, s.now())
	if errors.Is(err, store.ErrNotPending) {
		// the same answer, sent again through another replica, was
		// stored first there: this one is the duplicate
		s.notWaiting(n, id)
		return nil
	}
	if err != nil {
		return err
	}
	s.Metrics.Add("pkgpersist_rows_total", `source="distributed"`, int64(len(rows)))
	return nil
}

func (s *Server) notWaiting(n store.Node, id string) {
	s.Metrics.Add("pkgpersist_rejected_total", `reason="unknown_query"`, 1)
	s.log.Warn("answer to a query not waiting for this host", "host", n.Host, "id", id)
}
