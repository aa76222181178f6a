package osqserver

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/test/storetest"
)

// replicaEngines are the databases replicas are tested on, each a
// function giving a fresh database for one test.
var replicaEngines = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "shared.db") }},
	{"postgres", func(t *testing.T) string { return storetest.Postgres(t) }},
}

// replicas starts n servers on one fresh database, as serve processes
// are: each with its own store handle; and a store handle of its own for
// the test, as pkgpersist hosts or hunt --enrolled use.
func replicas(t testing.TB, dsn string, n int, opt Options) ([]*testServer, *store.DB) {
	t.Helper()
	dir := t.TempDir()
	var out []*testServer
	for i := 0; i < n; i++ {
		out = append(out, startOn(t, dsn, dir, opt))
	}
	return out, openStore(t, dsn)
}

// eachEngine runs a replica test on every engine.
func eachEngine(t *testing.T, test func(t *testing.T, dsn string)) {
	for _, e := range replicaEngines {
		t.Run(e.name, func(t *testing.T) { test(t, e.dsn(t)) })
	}
}

// to points a host at a replica.
func (o *osqueryd) to(s *testServer) *osqueryd {
	o.base = s.url
	return o
}

// TestRateLimitAcrossReplicas: a host's requests spread over two
// replicas get the one burst, not one each.
func TestRateLimitAcrossReplicas(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		opt := DefaultOptions
		opt.Rate, opt.Burst = 1, 4
		rs, _ := replicas(t, dsn, 2, opt)
		at := time.Now()
		for _, s := range rs {
			s.srv.now = func() time.Time { return at } // the bucket does not refill
		}
		o := newOsqueryd(t, rs[0], "spread")
		o.enroll(secret)
		allowed := 0
		for i := 0; i < 12; i++ {
			code, r := o.to(rs[i%2]).post("config", map[string]any{"node_key": o.nodeKey}, false)
			switch {
			case code == 200:
				allowed++
			case code != 429 || r["node_invalid"] == true:
				t.Fatalf("request %d: %d %v", i, code, r)
			}
		}
		if allowed != opt.Burst {
			t.Errorf("%d requests allowed over two replicas, want the burst of %d", allowed, opt.Burst)
		}
		// an hour on, the bucket is full again, on either replica
		for _, s := range rs {
			s.srv.now = func() time.Time { return at.Add(time.Hour) }
		}
		if code, r := o.to(rs[1]).post("config", map[string]any{"node_key": o.nodeKey}, false); code != 200 {
			t.Errorf("after an hour: %d %v", code, r)
		}
	})
}

// TestRevocationAcrossReplicas: a key stopped through any process (a
// revocation by pkgpersist hosts, an enrollment again through another
// replica) is refused by a replica that cached it within revisionEvery,
// however long its key cache.
func TestRevocationAcrossReplicas(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		opt := DefaultOptions
		opt.KeyCache = time.Hour
		rs, hosts := replicas(t, dsn, 2, opt)
		a, b := rs[0], rs[1]
		refusedWithin := func(o *osqueryd, key string) time.Duration {
			t.Helper()
			start := time.Now()
			for time.Since(start) < 3*revisionEvery {
				_, r := o.to(b).post("config", map[string]any{"node_key": key}, false)
				if r["node_invalid"] == true {
					return time.Since(start)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatalf("%s: a stopped key still served by the other replica after %v", o.host, 3*revisionEvery)
			return 0
		}
		cached := func(o *osqueryd) {
			t.Helper()
			if _, r := o.to(b).post("config", map[string]any{"node_key": o.nodeKey}, false); r["error"] != nil {
				t.Fatalf("%s: %v", o.host, r)
			}
		}

		revoked := newOsqueryd(t, a, "revoked")
		revoked.to(a).enrollAs("U1")
		cached(revoked)
		if err := hosts.Revoke(ctx, "revoked"); err != nil {
			t.Fatal(err)
		}
		if d := refusedWithin(revoked, revoked.nodeKey); d > revisionEvery+500*time.Millisecond {
			t.Errorf("revocation took %v on the other replica, bound %v", d, revisionEvery)
		}

		// an operator lets a host enroll again (reinstalled): its old key
		// stops on every replica once the new one is handed out
		moved := newOsqueryd(t, a, "moved")
		moved.to(a).enrollAs("U2")
		cached(moved)
		old := moved.nodeKey
		if err := hosts.AllowReenroll(ctx, "moved"); err != nil {
			t.Fatal(err)
		}
		if code, r := moved.to(a).enrollAs("U3"); code != 200 {
			t.Fatalf("enroll again: %d %v", code, r)
		}
		if d := refusedWithin(moved, old); d > revisionEvery+500*time.Millisecond {
			t.Errorf("a replaced key took %v to stop on the other replica, bound %v", d, revisionEvery)
		}
		if _, r := moved.to(b).post("config", map[string]any{"node_key": moved.nodeKey}, false); r["error"] != nil {
			t.Errorf("the new key on the other replica: %v", r)
		}
	})
}

// TestReplicas: a host enrolled through one replica is served by the
// other; a log batch sent again to the other replica is stored once; a
// hunt's queries, queued by a process of its own, are handed out by one
// replica and answered through the other, and an answer sent through
// both at once is stored once and acknowledged by both.
func TestReplicas(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		rs, hunter := replicas(t, dsn, 2, DefaultOptions)
		a, b := rs[0], rs[1]
		o := newOsqueryd(t, a, "web-1")
		o.to(a).enroll(secret)
		if r := o.to(b).request("config", map[string]any{}, false); r["schedule"] == nil && r["packs"] == nil {
			t.Errorf("config through the other replica: %v", r)
		}
		var data []any
		for i := 0; i < 7; i++ {
			data = append(data, map[string]any{"name": "pack_pkgpersist_unowned-hooks", "hostIdentifier": o.host,
				"unixTime": 1795377600, "epoch": 0, "counter": 1, "action": "added", "columns": map[string]any{"path": fmt.Sprint("/etc/apt/apt.conf.d/", i)}})
		}
		batch := map[string]any{"log_type": "result", "data": data}
		o.to(a).request("log", batch, false)
		o.to(b).request("log", batch, true) // resent, compressed, elsewhere
		if n, err := hunter.CountLogged(ctx, ""); n != len(data) || err != nil {
			t.Errorf("a batch sent to both replicas: %d rows stored, want %d (%v)", n, len(data), err)
		}
		if o.enrolls != 1 {
			t.Errorf("the host enrolled %d times", o.enrolls)
		}

		nodes, err := hunter.Nodes(ctx)
		if err != nil || len(nodes) != 1 {
			t.Fatalf("nodes: %v %v", nodes, err)
		}
		id := nodes[0].HostID
		queued := []store.Query{{ID: "q1", SQL: "SELECT 1 AS one"}, {ID: "q2", SQL: "SELECT 2 AS two"}}
		if err := hunter.Queue(ctx, "hunt-1", id, queued); err != nil {
			t.Fatal(err)
		}
		read := o.to(a).request("distributed/read", map[string]any{}, false)
		qs, _ := read["queries"].(map[string]any)
		for _, q := range queued {
			if qs[store.DistributedID("hunt-1", q.ID)] == nil {
				t.Fatalf("%s not handed out: %v", q.ID, qs)
			}
		}
		answer := func(query string) map[string]any {
			return map[string]any{"queries": map[string]any{store.DistributedID("hunt-1", query): []map[string]string{{"v": query}}},
				"statuses": map[string]any{store.DistributedID("hunt-1", query): 0}}
		}
		o.to(b).request("distributed/write", answer("q1"), false)
		// q2's answer goes to both replicas at once (osqueryd timed out on
		// one and tried the other)
		var wg sync.WaitGroup
		for _, s := range rs {
			wg.Add(1)
			go func(o *osqueryd) {
				defer wg.Done()
				body := answer("q2")
				body["node_key"] = o.nodeKey
				if code, r, err := o.try("distributed/write", body); err != nil || code != 200 || r["error"] != nil {
					t.Errorf("an answer sent to both replicas: %d %v %v", code, r, err)
				}
			}(&osqueryd{t: t, http: o.http, base: s.url, host: o.host, nodeKey: o.nodeKey, prefix: o.prefix})
		}
		wg.Wait()
		got, pending, err := hunter.Answers(ctx, "hunt-1", id)
		if err != nil || pending != 0 || len(got) != 2 {
			t.Fatalf("answers: %+v, %d pending (%v)", got, pending, err)
		}
		for _, q := range got {
			if len(q.Rows) != 1 || q.Rows[0]["v"] != q.QueryID {
				t.Errorf("%s stored as %+v", q.QueryID, q.Rows)
			}
		}
		if r := o.to(a).request("distributed/read", map[string]any{}, false); len(r["queries"].(map[string]any)) > 1 {
			t.Errorf("answered queries handed out again: %v", r["queries"])
		}
	})
}
