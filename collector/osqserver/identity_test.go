package osqserver

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// enrollAs enrolls o with a hardware uuid of its own choosing.
func (o *osqueryd) enrollAs(uuid string) (int, map[string]any) {
	o.t.Helper()
	code, r := o.post("enroll", map[string]any{
		"enroll_secret": secret, "host_identifier": o.host,
		"host_details": map[string]any{"system_info": map[string]string{"uuid": uuid, "hardware_serial": "S-" + uuid}},
	}, false)
	if k, _ := r["node_key"].(string); k != "" {
		o.nodeKey = k
	}
	return code, r
}

// TestIdentityTakeover: whoever holds the enroll secret cannot take a
// host's identity. An enrolled host is stored apart from the local or
// SSH host of the same name; a second enrollment under a live
// identifier is refused (and alerted) while the real host keeps its key;
// after the server answered the host node_invalid it may enroll again,
// recorded, unless its hardware changed, which only an operator allows.
func TestIdentityTakeover(t *testing.T) {
	ctx := context.Background()
	opt := DefaultOptions
	opt.KeyCache = 0 // revocations below take effect at once
	s := start(t, opt)
	// a local hunt of /path stored a row under "vm:/path"
	run, err := s.st.BeginRun(ctx, store.Run{Started: time.Now(), Transport: "local"}, []store.Query{{ID: "q", SQL: "SELECT 1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.st.SaveHost(ctx, run, store.HostResult{Host: "vm:/path", State: store.StateOK, Queries: []store.QueryResult{{QueryID: "q", Rows: []store.Row{{"a": "1"}}}}}); err != nil {
		t.Fatal(err)
	}
	real := newOsqueryd(t, s, "vm:/path")
	if code, r := real.enrollAs("U1"); code != 200 {
		t.Fatalf("enroll: %d %v", code, r)
	}
	if cur, _ := s.st.Current(ctx, "vm:/path", ""); len(cur) != 1 {
		t.Errorf("the local host's rows after an enrollment of its name: %+v", cur)
	}
	nodes, _ := s.st.Nodes(ctx)
	if len(nodes) != 1 || nodes[0].Host != "vm:/path" {
		t.Fatalf("nodes: %+v", nodes)
	}

	thief := newOsqueryd(t, s, "vm:/path")
	if code, r := thief.enrollAs("U1"); code != http.StatusForbidden || r["node_key"] != nil {
		t.Errorf("second enrollment of a live identifier: %d %v", code, r)
	}
	if n := s.srv.Metrics.Get("pkgpersist_alerts_total", `kind="reenroll_unsolicited"`); n != 1 {
		t.Errorf("%d alerts", n)
	}
	if _, r := real.post("config", map[string]any{"node_key": real.nodeKey}, false); r["error"] != nil {
		t.Errorf("the real host lost its key: %v", r)
	}

	// the server says node_invalid (revoked, then unrevoked): the host may
	// enroll again, but not as another machine
	s.st.Revoke(ctx, "vm:/path")
	s.st.Unrevoke(ctx, "vm:/path")
	if _, r := real.post("config", map[string]any{"node_key": real.nodeKey}, false); r["node_invalid"] != true {
		t.Fatalf("retired key: %v", r)
	}
	if code, r := thief.enrollAs("U2"); code != http.StatusForbidden || s.srv.Metrics.Get("pkgpersist_alerts_total", `kind="hardware_changed"`) != 1 {
		t.Errorf("new hardware under a known identifier: %d %v", code, r)
	}
	if code, r := real.enrollAs("U1"); code != 200 {
		t.Errorf("re-enrollment after node_invalid: %d %v", code, r)
	}
	// an operator vouches for new hardware
	if err := s.st.AllowReenroll(ctx, "vm:/path"); err != nil {
		t.Fatal(err)
	}
	if code, r := real.enrollAs("U3"); code != 200 {
		t.Errorf("allowed re-enrollment on new hardware: %d %v", code, r)
	}
	if code, _ := thief.enrollAs("U3"); code != http.StatusForbidden {
		t.Error("the operator's leave was good for more than one enrollment")
	}
}

// TestNewHostRate: enrollments of new identifiers are limited fleet-wide;
// known hosts are not held back by them.
func TestNewHostRate(t *testing.T) {
	opt := DefaultOptions
	opt.NewHostRate, opt.NewHostBurst = 0.001, 3
	s := start(t, opt)
	codes := ""
	for _, h := range []string{"n1", "n2", "n3", "n4", "n5"} {
		code, _ := newOsqueryd(t, s, h).enrollAs("U-" + h)
		codes += http.StatusText(code) + ","
	}
	if codes != "OK,OK,OK,Too Many Requests,Too Many Requests," {
		t.Errorf("enrollments: %s", codes)
	}
	if s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="enroll_rate"`) != 2 {
		t.Error("enroll_rate not counted")
	}
}

// TestDisappearancesAfterReenrollHeld: a host that enrolled again a short
// while ago answering a hunt without rows it had is held, not applied:
// the query is an error saying so, and nothing disappears.
func TestDisappearancesAfterReenrollHeld(t *testing.T) {
	ctx := context.Background()
	opt := DefaultOptions
	opt.KeyCache = 0 // revocations below take effect at once
	s := start(t, opt)
	o := newOsqueryd(t, s, "g")
	o.enrollAs("U1")
	run, _ := s.st.BeginRun(ctx, store.Run{Started: time.Now()}, []store.Query{{ID: "q", SQL: "SELECT 1"}, {ID: "r", SQL: "SELECT 2"}})
	if err := s.st.SaveHost(ctx, run, store.HostResult{Host: store.EnrolledHost("g"), State: store.StateOK, Queries: []store.QueryResult{
		{QueryID: "q", Rows: []store.Row{{"hook": "curl|sh"}, {"hook": "ok"}}}, {QueryID: "r", Rows: []store.Row{{"x": "1"}}}}}); err != nil {
		t.Fatal(err)
	}
	s.st.Revoke(ctx, "g")
	s.st.Unrevoke(ctx, "g")
	o.post("config", map[string]any{"node_key": o.nodeKey}, false)
	if code, _ := o.enrollAs("U1"); code != 200 {
		t.Fatal("re-enrollment refused")
	}
	nodes, _ := s.st.Nodes(ctx)
	target := &hunt.Enrolled{Queue: s.st, Host: store.EnrolledHost("g"), HostID: nodes[0].HostID, Poll: 5 * time.Millisecond,
		Identity: s.st, Hold: 30 * time.Minute}
	done := make(chan []hunt.BatchResult)
	go func() {
		a, err := target.Hunt(ctx, []hunt.BatchQuery{{ID: "q", SQL: "SELECT 1"}, {ID: "r", SQL: "SELECT 2"}})
		res := a.Results
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	var res []hunt.BatchResult
	for res == nil {
		r := o.request("distributed/read", map[string]any{}, false)
		qs, _ := r["queries"].(map[string]any)
		answers := map[string]any{}
		for id := range qs {
			if _, qid, ok := store.ParseDistributedID(id); ok {
				answers[id] = map[string][]map[string]string{"q": {{"hook": "ok"}}, "r": {{"x": "1"}, {"x": "2"}}}[qid]
			}
		}
		if len(answers) > 0 {
			o.request("distributed/write", map[string]any{"queries": answers, "statuses": map[string]any{}}, false)
		}
		select {
		case res = <-done:
		case <-time.After(20 * time.Millisecond):
		}
	}
	byID := map[string]hunt.BatchResult{}
	for _, r := range res {
		byID[r.ID] = r
	}
	if q := byID["q"]; q.Error == "" || len(q.Rows) != 0 {
		t.Errorf("disappearance after re-enrollment applied: %+v", q)
	}
	if r := byID["r"]; r.Error != "" || len(r.Rows) != 2 {
		t.Errorf("a query where nothing disappears was held: %+v", r)
	}
}

// TestRevocationWithinKeyCache: a key that checked out is trusted for
// KeyCache, no longer: a revocation takes effect within it.
func TestRevocationWithinKeyCache(t *testing.T) {
	opt := DefaultOptions
	opt.KeyCache = 200 * time.Millisecond
	s := start(t, opt)
	o := newOsqueryd(t, s, "cached")
	o.enrollAs("U1")
	if _, r := o.post("config", map[string]any{"node_key": o.nodeKey}, false); r["error"] != nil {
		t.Fatal(r)
	}
	s.st.Revoke(context.Background(), "cached")
	time.Sleep(300 * time.Millisecond)
	if _, r := o.post("config", map[string]any{"node_key": o.nodeKey}, false); r["node_invalid"] != true {
		t.Errorf("revoked key still served after the key cache: %v", r)
	}
}
