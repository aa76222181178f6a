package packs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
)

// Fleet's documented fields (fleetdm/fleet server/fleet/queries.go
// QuerySpec, server/fleet/policies.go PolicySpec, pkg/spec/gitops.go for
// the GitOps top-level keys and GitOpsPolicySpec), with the YAML type each
// decodes into.
var (
	querySpecFields = map[string]string{
		"name": "string", "query": "string", "description": "string", "team": "string",
		"interval": "uint", "observer_can_run": "bool", "platform": "platform",
		"min_osquery_version": "string", "automations_enabled": "bool",
		"logging": "logging", "discard_data": "bool",
	}
	policySpecFields = map[string]string{
		"name": "string", "query": "string", "description": "string", "critical": "bool",
		"resolution": "string", "team": "string", "platform": "platform",
		"calendar_events_enabled": "bool", "software_title_id": "uint", "script_id": "uint",
		"labels_include_any": "list", "labels_include_all": "list",
		"labels_exclude_any": "list", "labels_exclude_all": "list",
		"conditional_access_enabled": "bool", "continuous_automations_enabled": "bool",
		"type": "string", "fleet_maintained_app_slug": "string",
	}
	gitopsPolicyOnly = map[string]string{"run_script": "map", "install_software": "map", "webhooks_and_tickets_enabled": "bool"}
	gitopsTopKeys    = []string{"name", "settings", "org_settings", "agent_options", "controls", "policies", "reports", "queries", "software", "labels"}
	fleetLoggings    = []string{"snapshot", "differential", "differential_ignore_removals"}
)

// gitopsPolicyFields are a GitOps policy's fields: PolicySpec's and
// GitOpsPolicySpec's own.
func gitopsPolicyFields() map[string]string {
	m := map[string]string{}
	for k, v := range policySpecFields {
		m[k] = v
	}
	for k, v := range gitopsPolicyOnly {
		m[k] = v
	}
	return m
}

// checkSpec checks one spec against fields; the GitOps form has no team
// (the file decides it) and needs ASCII report names.
func checkSpec(spec map[string]any, fields map[string]string, gitops bool) error {
	for _, req := range []string{"name", "query"} {
		if s, _ := spec[req].(string); strings.TrimSpace(s) == "" {
			return fmt.Errorf("%s is required", req)
		}
	}
	keys := make([]string, 0, len(spec))
	for k := range spec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := spec[k]
		typ, ok := fields[k]
		if !ok {
			return fmt.Errorf("unknown field %q", k)
		}
		if gitops && k == "team" {
			return errors.New("team in a GitOps item (the file decides it)")
		}
		bad := false
		switch typ {
		case "string":
			_, ok := v.(string)
			bad = !ok
		case "bool":
			_, ok := v.(bool)
			bad = !ok
		case "uint":
			n, ok := v.(int)
			bad = !ok || n < 0
		case "list":
			_, ok := v.([]any)
			bad = !ok
		case "map":
			_, ok := v.(map[string]any)
			bad = !ok
		case "logging":
			s, _ := v.(string)
			bad = !slices.Contains(fleetLoggings, s)
		case "platform":
			s, ok := v.(string)
			bad = !ok
			for _, p := range strings.Split(s, ",") {
				bad = bad || (s != "" && !slices.Contains(FleetPlatforms, strings.TrimSpace(p)))
			}
		}
		if bad {
			return fmt.Errorf("%s: %v is not a valid %s", k, v, typ)
		}
	}
	return nil
}

// fleetDocs decodes the apply file's documents.
func fleetDocs(t *testing.T, name string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(committed, "fleet", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, d)
	}
	return docs
}

// fleetQueries returns each query's name and SQL as Fleet runs it.
func fleetQueries(t *testing.T, name string) [][2]string {
	t.Helper()
	var specs []any
	if name == "gitops.yml" {
		top := fleetDocs(t, name)[0]
		specs = append(asList(top["queries"]), asList(top["policies"])...)
	} else {
		for _, d := range fleetDocs(t, name) {
			specs = append(specs, d["spec"])
		}
	}
	var out [][2]string
	for _, s := range specs {
		m := s.(map[string]any)
		out = append(out, [2]string{m["name"].(string), strings.ReplaceAll(m["query"].(string), `\$`, "$")})
	}
	return out
}

// TestFleetYAML checks every document of the fleetctl apply files and the
// GitOps fragment against Fleet's documented fields, for kind query, kind
// report and kind policy.
func TestFleetYAML(t *testing.T) {
	for file, kind := range map[string]string{"queries.yml": "query", "reports.yml": "report", "policies.yml": "policy"} {
		docs := fleetDocs(t, file)
		if len(docs) == 0 {
			t.Errorf("%s: no documents", file)
		}
		fields := querySpecFields
		if kind == "policy" {
			fields = policySpecFields
		}
		for i, d := range docs {
			if d["apiVersion"] != "v1" || d["kind"] != kind || len(d) != 3 {
				t.Errorf("%s #%d: header %v, want apiVersion v1, kind %s, spec", file, i, d, kind)
			}
			spec, _ := d["spec"].(map[string]any)
			if err := checkSpec(spec, fields, false); err != nil {
				t.Errorf("%s #%d: %v", file, i, err)
			}
			// hosts have no queries/ directory: the resolution names the
			// command that explains a detection
			if r, _ := spec["resolution"].(string); kind == "policy" && (!strings.Contains(r, "`pkgpersist explain ") || strings.Contains(r, "queries/")) {
				t.Errorf("%s #%d: resolution %q does not point to pkgpersist explain", file, i, r)
			}
		}
	}
	top := fleetDocs(t, "gitops.yml")[0]
	for k := range top {
		if !slices.Contains(gitopsTopKeys, k) {
			t.Errorf("gitops.yml: unknown top-level key %q", k)
		}
	}
	if top["queries"] == nil || top["policies"] == nil {
		t.Error("gitops.yml must hold both queries and policies (GitOps clears a missing list)")
	}
	for key, fields := range map[string]map[string]string{"queries": querySpecFields, "policies": gitopsPolicyFields()} {
		for i, item := range asList(top[key]) {
			spec := item.(map[string]any)
			if err := checkSpec(spec, fields, true); err != nil {
				t.Errorf("gitops.yml %s #%d: %v", key, i, err)
			}
			// fleetctl gitops expands $VAR in the query text
			if regexp.MustCompile(`(^|[^\\])\$`).MatchString(spec["query"].(string)) {
				t.Errorf("gitops.yml %s #%d: unescaped $ in query", key, i)
			}
		}
	}
	if len(fleetQueries(t, "queries.yml")) != len(asList(top["queries"])) ||
		len(fleetQueries(t, "policies.yml")) != len(asList(top["policies"])) {
		t.Error("gitops.yml and the apply files hold different queries")
	}
}

// TestCheckSpecRejects: the field check fails on what Fleet refuses.
func TestCheckSpecRejects(t *testing.T) {
	good := map[string]any{"name": "q", "query": "SELECT 1", "platform": "linux", "logging": "snapshot", "interval": 60}
	if err := checkSpec(good, querySpecFields, true); err != nil {
		t.Fatalf("good spec rejected: %v", err)
	}
	for what, change := range map[string][2]any{
		"unknown field": {"shard", 1}, "posix platform": {"platform", "posix"},
		"bad logging": {"logging", "diff"}, "empty query": {"query", " "},
		"negative interval": {"interval", -1}, "bool as string": {"observer_can_run", "yes"},
		"team in gitops": {"team", "x"},
	} {
		spec := map[string]any{}
		for k, v := range good {
			spec[k] = v
		}
		spec[change[0].(string)] = change[1]
		if checkSpec(spec, querySpecFields, true) == nil {
			t.Errorf("%s accepted", what)
		}
	}
}

// TestGitopsEscapesDollars: a query with $ (json paths, regexps) keeps it
// in the apply files and escapes it in the GitOps fragment only.
func TestGitopsEscapesDollars(t *testing.T) {
	out := Output{}
	q := testQuery()
	fleetFiles(out, []*querydef.Query{q})
	if !strings.Contains(string(out["fleet/queries.yml"]), "'$.a'") {
		t.Errorf("queries.yml changed the $: %s", out["fleet/queries.yml"])
	}
	g := string(out["fleet/gitops.yml"])
	if !strings.Contains(g, `'\$.a'`) || !strings.Contains(g, "Costs $5") {
		t.Errorf("gitops.yml: SQL not escaped or description escaped: %s", g)
	}
}

func testQuery() *querydef.Query {
	return &querydef.Query{ID: "j", Title: "J", Description: "Costs $5.", Kind: "detection", Mode: "differential",
		Interval: 60, Platform: "linux", SQL: "SELECT json_extract(x, '$.a') FROM t"}
}
