package ecscheck

import (
	"strings"
	"testing"
)

const good = `{"@timestamp":"2026-11-22T11:51:00Z","ecs":{"version":"9.4.0"},
"event":{"kind":"alert","category":["configuration"],"type":["creation"],"dataset":"pkgpersist.hunt","severity":73},
"host":{"name":"web1"},"process":{"pid":12,"args":["sh","-c","id"]},
"threat":{"framework":"MITRE ATT&CK","technique":{"id":["T1546"],"subtechnique":{"id":["T1546.016"]}}},
"pkgpersist":{"row":{"anything":"goes"},"run":3}}`

// TestValidate: a conforming document has no violation, and each kind of
// violation is found (one mutation of the good document each).
func TestValidate(t *testing.T) {
	s, err := Load(Dir(), "pkgpersist")
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "9.4.0" || len(s.Fields) < 1000 {
		t.Fatalf("version %q, %d fields", s.Version, len(s.Fields))
	}
	if v := s.ValidateJSON([]byte(good)); len(v) != 0 {
		t.Fatalf("good document: %v", v)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"ecs":{"version":"9.4.0"},`, ``, "ecs.version: required by ECS, missing"},
		{`"@timestamp":"2026-11-22T11:51:00Z",`, ``, "@timestamp: required by ECS, missing"},
		{`"9.4.0"`, `"8.17.0"`, "ecs.version: 8.17.0, but the documents are validated against ECS 9.4.0"},
		{`"2026-11-22T11:51:00Z"`, `"yesterday"`, "@timestamp: yesterday (string): not an RFC 3339 date"},
		{`"kind":"alert"`, `"kind":"finding"`, `event.kind: "finding" is not an allowed value`},
		{`"type":["creation"]`, `"type":["start"]`, "event.type: start is not expected with event.category [configuration]"},
		{`"category":["configuration"]`, `"category":"configuration"`, "event.category: one value, but ECS expects an array"},
		{`"kind":"alert"`, `"kind":["alert"]`, "event.kind: an array, but ECS expects one value"},
		{`"severity":73`, `"severity":"high"`, "event.severity: high (string): not an integer"},
		{`"severity":73`, `"severity":7.5`, "event.severity: 7.5 (json.Number): not an integer"},
		{`"pid":12`, `"pid":"12"`, "process.pid: 12 (string): not an integer"},
		{`"name":"web1"`, `"name":{"full":"web1"}`, "host.name: an object, but ECS type is keyword"},
		{`"host":{"name":"web1"}`, `"host":{"name":"web1","root":"/mnt"}`, "host.root: not an ECS field"},
		{`"id":["T1546"]`, `"id":"T1546"`, "threat.technique.id: one value, but ECS expects an array"},
		{`"framework":"MITRE ATT&CK"`, `"framework":1`, "threat.framework: 1 (json.Number): not a string"},
		{`"host":{"name":"web1"}`, `"host":[{"name":"web1"}]`, "host.name: reached through an array, but ECS expects one value"},
		{`"host":{"name":"web1"}`, `"host":{"name":"web1","mac":["aa:bb"]}`, `host.mac: "aa:bb" does not match`},
		{`"host":{"name":"web1"}`, `"host":{"name":"web1","os":{"type":"plan9"}}`, `host.os.type: "plan9" is not an expected value`},
		{`"host":{"name":"web1"}`, `"host":{"name":"web1","ip":["300.1.1.1"]}`, "host.ip: 300.1.1.1 (string): not an IP address"},
	} {
		doc := strings.Replace(good, c.from, c.to, 1)
		if doc == good {
			t.Fatalf("mutation %q not applied", c.from)
		}
		v := s.ValidateJSON([]byte(doc))
		if len(v) != 1 || !strings.HasPrefix(v[0], c.want) {
			t.Errorf("%s -> %s:\n got %q\nwant %q", c.from, c.to, v, c.want)
		}
	}
}

// TestCustomNamespaceMustBeFree: a namespace ECS uses cannot hold custom
// fields.
func TestCustomNamespaceMustBeFree(t *testing.T) {
	if _, err := Load(Dir(), "process"); err == nil {
		t.Fatal("process accepted as a custom namespace")
	}
}
