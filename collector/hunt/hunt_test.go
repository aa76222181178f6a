package hunt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// host stands in for a remote host: it answers what answer returns for
// the queries asked. It is the untrusted party a hunt must judge.
type host struct {
	name    string
	answer  func(qs []hunt.BatchQuery) []hunt.BatchResult
	err     error
	machine store.Machine // what it says of its machine
}

func (h host) Name() string { return h.name }
func (h host) Hunt(_ context.Context, qs []hunt.BatchQuery) (hunt.Answer, error) {
	if h.err != nil {
		return hunt.Answer{}, h.err
	}
	return hunt.Answer{Results: h.answer(qs), Machine: h.machine}, nil
}

var hooksQ = &querydef.Query{ID: "hooks", Title: "hooks", Kind: "detection", SQL: "SELECT 1", File: "hooks.sql"}

func hookRows(host string) []map[string]string {
	return []map[string]string{{"command": "curl x|sh", "host": host}, {"command": "echo hi", "host": host}}
}

// complete answers every query as a healthy host does, then lets edit
// change the answers.
func complete(name string, edit func([]hunt.BatchResult) []hunt.BatchResult) host {
	return host{name: name, answer: func(qs []hunt.BatchQuery) []hunt.BatchResult {
		var out []hunt.BatchResult
		for _, q := range qs {
			r := hunt.BatchResult{ID: q.ID}
			switch q.ID {
			case hunt.CoverageID:
				r.Rows = []map[string]string{{"source": "apt_hooks", "path": "", "status": "complete", "cause": "", "reason": ""}}
			case "hooks":
				r.Rows = hookRows(name)
			}
			out = append(out, r)
		}
		if edit != nil {
			out = edit(out)
		}
		return out
	}}
}

// setHooks changes the hooks answer.
func setHooks(f func(*hunt.BatchResult)) func([]hunt.BatchResult) []hunt.BatchResult {
	return func(rs []hunt.BatchResult) []hunt.BatchResult {
		for i := range rs {
			if rs[i].ID == "hooks" {
				f(&rs[i])
			}
		}
		return rs
	}
}

func openStore(t *testing.T) *store.DB {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "p.db"))
	must(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// TestStates: each way a host can answer gives it its state and reason;
// every host is reported and stored whatever the others answered; the
// findings of the hosts stored are new, then present.
func TestStates(t *testing.T) {
	cases := []struct {
		host   host
		state  string
		reason string
	}{
		{complete("clean", nil), "ok", ""},
		{host{name: "empty", answer: func(qs []hunt.BatchQuery) []hunt.BatchResult {
			var out []hunt.BatchResult
			for _, q := range qs {
				out = append(out, hunt.BatchResult{ID: q.ID})
			}
			return out
		}}, "incomplete", "answered nothing to the coverage query, which always returns rows"},
		{complete("coverage-unreadable", func(rs []hunt.BatchResult) []hunt.BatchResult {
			rs[0].Rows = append(rs[0].Rows, map[string]string{"source": "apt_hooks", "path": "/etc/apt/apt.conf.d/99x", "status": "unreadable", "cause": "permission", "reason": "open: permission denied"})
			return rs
		}), "incomplete", `coverage: apt_hooks /etc/apt/apt.conf.d/99x is "unreadable" (permission): open: permission denied: run as root`},
		{complete("coverage-unevaluated", func(rs []hunt.BatchResult) []hunt.BatchResult {
			rs[0].Rows[0]["status"] = "unevaluated"
			return rs
		}), "incomplete", `coverage: apt_hooks is "unevaluated"`},
		{complete("unreadable", setHooks(func(r *hunt.BatchResult) {
			r.Problems = []store.Problem{{Path: "/etc/apt/apt.conf.d/99x", Cause: "permission", Detail: "open /etc/apt/apt.conf.d/99x: permission denied"}}
		})), "incomplete", "could not read /etc/apt/apt.conf.d/99x (permission: open /etc/apt/apt.conf.d/99x: permission denied): run as root"},
		{complete("io-error", setHooks(func(r *hunt.BatchResult) {
			r.Problems = []store.Problem{{Path: "/var/lib/dpkg/status", Cause: "io", Detail: "read: input/output error"}}
		})), "incomplete", "could not read /var/lib/dpkg/status (io: read: input/output error)"},
		// a bound reached is a finding the tables report as rows, stored
		// with the problems; the host was looked at in full
		{complete("padded", setHooks(func(r *hunt.BatchResult) {
			r.Problems = []store.Problem{{Path: "/etc/apt/apt.conf.d/00pad", Cause: "limit", Detail: "over 1 MiB"}}
		})), "ok", ""},
		{complete("unknown-id", func(rs []hunt.BatchResult) []hunt.BatchResult {
			return append(rs, hunt.BatchResult{ID: "not-asked", Rows: []map[string]string{{"a": "b"}}})
		}), "incomplete", `answer to a query that was not asked: "not-asked"`},
		{complete("duplicate-id", func(rs []hunt.BatchResult) []hunt.BatchResult {
			return append(rs, hunt.BatchResult{ID: "hooks", Rows: []map[string]string{{"command": "third"}}})
		}), "incomplete", "query hooks answered 2 times"},
		{complete("missing-id", func(rs []hunt.BatchResult) []hunt.BatchResult { return rs[:1] }), "incomplete", "no answer to query hooks"},
		{complete("query-failed", setHooks(func(r *hunt.BatchResult) { r.Rows, r.Error = nil, "no such table: apt_hooks" })),
			"incomplete", "query hooks failed: no such table: apt_hooks"},
		{complete("all-failed", func(rs []hunt.BatchResult) []hunt.BatchResult {
			for i := range rs {
				rs[i].Rows, rs[i].Error = nil, "root /nope: no such file or directory"
			}
			return rs
		}), "failed", "query hooks failed: root /nope: no such file or directory"},
		{host{name: "silent", answer: func([]hunt.BatchQuery) []hunt.BatchResult { return nil }}, "failed", "no answer to query " + hunt.CoverageID},
		{host{name: "unreachable", err: errors.New("ssh: connect to host x port 22: Connection refused")}, "failed", "Connection refused"},
	}
	var targets []hunt.Target
	for _, c := range cases {
		targets = append(targets, c.host)
	}
	st := openStore(t)
	ctx := context.Background()
	sum, err := hunt.Run(ctx, st, targets, []*querydef.Query{hooksQ}, hunt.Options{Parallel: 3})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	stored, err := st.HostOutcomes(ctx, sum.RunID)
	must(t, err)
	byHost := map[string]store.HostOutcome{}
	for _, o := range stored {
		byHost[o.Host] = o
	}
	for i, c := range cases {
		h := sum.Hosts[i]
		reasons := strings.Join(h.Reasons, "\n")
		if h.Host != c.host.name || h.State != c.state || !strings.Contains(reasons, c.reason) || (c.reason == "") != (reasons == "") {
			t.Errorf("%s: %s %q, want %s %q", c.host.name, h.State, h.Reasons, c.state, c.reason)
		}
		if s := byHost[c.host.name]; !h.Stored || s.State != h.State || strings.Join(s.Reasons, "\n") != reasons {
			t.Errorf("%s: stored %+v (stored %v)", c.host.name, s, h.Stored)
		}
	}
	if ok, incomplete, failed := sum.Count(); ok != 2 || incomplete != 9 || failed != 3 || sum.Clean() {
		t.Errorf("count: %d ok, %d incomplete, %d failed", ok, incomplete, failed)
	}
	// every problem is stored, the finding ones too
	if p := byHost["padded"].Problems; len(p) != 1 || p[0].QueryID != "hooks" || p[0].Cause != "limit" {
		t.Errorf("padded: stored problems %+v", p)
	}
	kinds := func(sum hunt.Summary) map[string]string {
		t.Helper()
		fs, _, err := hunt.Findings(ctx, st, sum, []*querydef.Query{hooksQ})
		must(t, err)
		k := map[string]string{}
		for _, f := range fs {
			k[f.Host+" "+f.Row["command"]] = f.Kind
		}
		return k
	}
	first := kinds(sum)
	for _, h := range []string{"clean", "coverage-unreadable", "unreadable", "unknown-id", "duplicate-id", "padded"} {
		if first[h+" curl x|sh"] != "new" {
			t.Errorf("first run: %s's finding is %q, want new (%v)", h, first[h+" curl x|sh"], first)
		}
	}
	if first["duplicate-id third"] != "new" {
		t.Errorf("first run: the second answer's row is lost: %v", first)
	}
	sum, err = hunt.Run(ctx, st, targets, []*querydef.Query{hooksQ}, hunt.Options{Parallel: 3})
	must(t, err)
	second := kinds(sum)
	for h := range first {
		if second[h] != "present" {
			t.Errorf("second run: %s is %q, want present", h, second[h])
		}
	}
}

// failingStore refuses to save some hosts, as a full disk or a locked
// database would.
type failingStore struct {
	store.Store
	fail map[string]bool
}

func (f failingStore) SaveHost(ctx context.Context, runID int64, h store.HostResult) error {
	if f.fail[h.Host] {
		return errors.New("disk I/O error")
	}
	return f.Store.SaveHost(ctx, runID, h)
}

// TestSaveHostFails: every host the store refuses is failed, "not stored",
// whichever it is; the others are stored, ok, and their findings shown.
func TestSaveHostFails(t *testing.T) {
	st := openStore(t)
	fs := failingStore{Store: st, fail: map[string]bool{"b": true, "c": true}}
	var targets []hunt.Target
	for _, n := range []string{"a", "b", "c", "d"} {
		targets = append(targets, complete(n, nil))
	}
	ctx := context.Background()
	sum, err := hunt.Run(ctx, fs, targets, []*querydef.Query{hooksQ}, hunt.Options{Parallel: 4})
	must(t, err)
	got := map[string]string{}
	for _, h := range sum.Hosts {
		got[h.Host] = fmt.Sprintf("%s %v %q", h.State, h.Stored, h.Reasons)
	}
	want := map[string]string{
		"a": `ok true []`,
		"b": `failed false ["not stored: disk I/O error" "nor is the failure recorded: disk I/O error"]`,
		"c": `failed false ["not stored: disk I/O error" "nor is the failure recorded: disk I/O error"]`,
		"d": `ok true []`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hosts:\n got %v\nwant %v", got, want)
	}
	findings, _, err := hunt.Findings(ctx, st, sum, []*querydef.Query{hooksQ})
	must(t, err)
	hosts := map[string]int{}
	for _, f := range findings {
		hosts[f.Host]++
	}
	if fmt.Sprint(hosts) != "map[a:2 d:2]" {
		t.Fatalf("findings by host: %v", hosts)
	}
}

// TestRunRefusesDuplicates: two targets with one name, or a query that
// takes the coverage query's id, stop the run before it begins.
func TestRunRefusesDuplicates(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if _, err := hunt.Run(ctx, st, []hunt.Target{complete("a", nil), complete("a", nil)}, []*querydef.Query{hooksQ}, hunt.Options{}); err == nil || !strings.Contains(err.Error(), "a (given 2 times)") {
		t.Errorf("duplicate target: %v", err)
	}
	own := &querydef.Query{ID: hunt.CoverageID, SQL: "SELECT 1", File: "mine.sql"}
	if _, err := hunt.Run(ctx, st, []hunt.Target{complete("a", nil)}, []*querydef.Query{own}, hunt.Options{}); err == nil || !strings.Contains(err.Error(), "mine.sql") {
		t.Errorf("coverage id taken: %v", err)
	}
	if out, err := st.HostOutcomes(ctx, 1); err != nil || len(out) != 0 {
		t.Errorf("a run was stored: %v %v", out, err)
	}
	ts, dups := hunt.Dedup([]hunt.Target{complete("a", nil), complete("b", nil), complete("a", nil)})
	if len(ts) != 2 || ts[0].Name() != "a" || ts[1].Name() != "b" || fmt.Sprint(dups) != "[a (given 2 times)]" {
		t.Errorf("Dedup: %v %v", ts, dups)
	}
}

// TestDecodeBatch: a host's answer that is not what pkgpersist batch
// prints is that query's error; the good answers stand.
func TestDecodeBatch(t *testing.T) {
	res, err := hunt.DecodeBatch([]byte(`[
		{"id":"a","rows":[{"x":"1"}],"problems":[{"path":"/p","cause":"permission","detail":"d"}]},
		{"id":"b","rows":[{"x":1}]},
		{"id":"c","rows":[null]},
		5,
		{"id":"d","rows":{"x":"1"}},
		{"id":"e","problems":"x","error":"boom"},
		{"id":"f"}
	]`))
	must(t, err)
	got := make([]string, len(res))
	for i, r := range res {
		got[i] = fmt.Sprintf("%s|%v|%v|%s", r.ID, r.Rows, r.Problems, r.Error)
	}
	want := []string{
		"a|[map[x:1]]|[{/p permission d}]|",
		"b|[]|[]|malformed rows: row 1 is not an object of strings",
		"c|[]|[]|malformed rows: row 1 is not an object of strings",
		"|[]|[]|malformed answer: a number, not an object",
		"d|[]|[]|malformed rows: an object, not a list",
		"e|[]|[]|boom; malformed problems: json: cannot unmarshal string into Go value of type []store.Problem",
		"f|[]|[]|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("decoded:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := hunt.DecodeBatch([]byte("Welcome to web1!\n[]")); err == nil {
		t.Error("output that is not JSON was taken")
	}
}

// TestBatchCarriesProblems: what the embedded engine could not read
// travels with the query's answer through pkgpersist batch's JSON.
func TestBatchCarriesProblems(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc/apt/apt.conf.d")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, syscall.Mkfifo(filepath.Join(dir, "50fifo"), 0o644))
	var out strings.Builder
	in := strings.NewReader(`[{"id":"hooks","sql":"SELECT hook FROM apt_hooks"}]`)
	must(t, hunt.ServeBatch(context.Background(), root, nil, in, &out, false))
	res, err := hunt.DecodeBatch([]byte(out.String()))
	must(t, err)
	if len(res) != 1 || res[0].Error != "" {
		t.Fatalf("batch: %s", out.String())
	}
	found := false
	for _, p := range res[0].Problems {
		if p.Path == "/etc/apt/apt.conf.d/50fifo" && p.Cause == "special" {
			found = true
		}
	}
	if !found {
		t.Fatalf("the FIFO is not among the problems: %s", out.String())
	}
}

// countingStore counts the questions for current rows.
type countingStore struct {
	store.Store
	current int
}

func (c *countingStore) Current(ctx context.Context, host, query string) ([]store.Change, error) {
	c.current++
	return c.Store.Current(ctx, host, query)
}

// TestFindingsOneQuestionAQuery: the findings of a run ask the store once
// a detection query, however many hosts (a fleet is tens of thousands),
// and still give each host its own.
func TestFindingsOneQuestionAQuery(t *testing.T) {
	st := &countingStore{Store: openStore(t)}
	var targets []hunt.Target
	for i := 0; i < 20; i++ {
		targets = append(targets, complete(fmt.Sprint("h", i), nil))
	}
	ctx := context.Background()
	sum, err := hunt.Run(ctx, st, targets, []*querydef.Query{hooksQ}, hunt.Options{Parallel: 4})
	must(t, err)
	findings, _, err := hunt.Findings(ctx, st, sum, []*querydef.Query{hooksQ})
	must(t, err)
	if st.current != 1 {
		t.Errorf("%d questions for current rows for one query over 20 hosts", st.current)
	}
	hosts := map[string]int{}
	for _, f := range findings {
		hosts[f.Host]++
	}
	if len(hosts) != 20 || hosts["h7"] != 2 {
		t.Errorf("findings by host: %v", hosts)
	}
}
