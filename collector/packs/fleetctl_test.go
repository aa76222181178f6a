package packs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	ghodss "github.com/ghodss/yaml"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/queries"
)

// This file reads the generated Fleet files the way fleetctl does. It
// follows fleetdm/fleet's pkg/spec/spec.go (SplitYaml, GroupFromBytes) at
// 01fee809ae0188a1665a51bbfddf9e784eb9aa8e, whose split and kind check are
// the same as at b1894e938261 (between 4.69 and 4.70); pkg/spec/gitops.go
// (GitOpsFromFile, expandEnv, getExclusionZones, parseSecrets) at
// 00b32fd0a466724786eeef6c66a9d14d487eed8f and its 4.6x form (top-level keys
// with "queries", secrets required); server/fleet/queries.go (QuerySpec,
// verifyLogging, verifyQueryPlatforms); server/fleet/agent_options.go
// (AgentOptions, osqueryAgentOptions, JSONStrictDecode) and
// server/datastore/mysql/queries.go (ListScheduledQueriesForAgents). YAML is
// decoded with the library fleetctl uses, github.com/ghodss/yaml, at the
// version Fleet pins.

// fleetVersion is the part of a Fleet release the files depend on.
type fleetVersion struct {
	name  string
	kinds []string // the kinds GroupFromBytes knows
	// the GitOps top-level keys GitOpsFromFile knows, after it maps
	// deprecated ones (queries -> reports in newer releases)
	topKeys []string
	renames map[string]string
	// GitOps global files need org_settings.secrets (parseSecrets)
	secretsRequired bool
}

var (
	fleet469 = fleetVersion{
		name:            "Fleet 4.69",
		kinds:           []string{"query", "pack", "label", "policy", "config", "enroll_secret", "user_roles", "team"},
		topKeys:         []string{"name", "team_settings", "org_settings", "agent_options", "controls", "policies", "queries", "software", "labels"},
		secretsRequired: true,
	}
	fleet482 = fleetVersion{
		name:    "Fleet 4.82",
		kinds:   []string{"query", "report", "pack", "label", "policy", "config", "enroll_secret", "user_roles", "team", "fleet"},
		topKeys: []string{"name", "settings", "org_settings", "agent_options", "controls", "policies", "reports", "software", "labels", "custom_host_vitals"},
		renames: map[string]string{"queries": "reports", "team_settings": "settings"},
	}
	fleetVersions = []fleetVersion{fleet469, fleet482}
)

var fleetYAMLSeparator = regexp.MustCompile(`(?m:^---[\t ]*)`)

// fleetSplitYaml is SplitYaml: cut at every line that starts with ---,
// trim, drop empty chunks.
func fleetSplitYaml(in string) []string {
	var out []string
	for _, chunk := range fleetYAMLSeparator.Split(in, -1) {
		if chunk = strings.TrimSpace(chunk); chunk != "" {
			out = append(out, chunk)
		}
	}
	return out
}

type fleetMetadata struct {
	Kind    string          `json:"kind"`
	Version string          `json:"apiVersion"`
	Spec    json.RawMessage `json:"spec"`
}

// fleetQuerySpec is QuerySpec as fleetctl decodes it (json.Unmarshal
// after YAMLToJSON: a wrong type is an error, an unknown key is not; the
// field check in fleet_test.go covers those).
type fleetQuerySpec struct {
	Name               string `json:"name"`
	Description        string `json:"description"`
	Query              string `json:"query"`
	TeamName           string `json:"team"`
	Interval           uint   `json:"interval"`
	ObserverCanRun     bool   `json:"observer_can_run"`
	Platform           string `json:"platform"`
	Logging            string `json:"logging"`
	MinOsqueryVersion  string `json:"min_osquery_version"`
	AutomationsEnabled bool   `json:"automations_enabled"`
	DiscardData        bool   `json:"discard_data"`
}

type fleetPolicySpec struct {
	Name        string `json:"name"`
	Query       string `json:"query"`
	Description string `json:"description"`
	Critical    bool   `json:"critical"`
	Resolution  string `json:"resolution"`
	Team        string `json:"team"`
	Platform    string `json:"platform"`
}

// verify is Query.Verify: a name, SQL, a known logging type and Fleet's
// platform names.
func (q fleetQuerySpec) verify() error {
	switch {
	case strings.TrimSpace(q.Name) == "":
		return errors.New("query name cannot be empty")
	case strings.TrimSpace(q.Query) == "":
		return errors.New("query's SQL query cannot be empty")
	case !slices.Contains([]string{"snapshot", "differential", "differential_ignore_removals"}, q.Logging):
		return fmt.Errorf("invalid logging value %q", q.Logging)
	}
	return fleetVerifyPlatforms(q.Platform)
}

func (p fleetPolicySpec) verify() error {
	if strings.TrimSpace(p.Name) == "" || strings.TrimSpace(p.Query) == "" {
		return errors.New("policy name and query are required")
	}
	return fleetVerifyPlatforms(p.Platform)
}

func fleetVerifyPlatforms(ps string) error {
	if strings.TrimSpace(ps) == "" {
		return nil
	}
	for _, p := range strings.Split(ps, ",") {
		if !slices.Contains(FleetPlatforms, strings.TrimSpace(p)) {
			return fmt.Errorf("platform %q is not one of Fleet's", p)
		}
	}
	return nil
}

// scheduled is ListScheduledQueriesForAgents' condition: Fleet sends a query
// to hosts when it has an interval and either its automations are on or it
// is a snapshot kept as a report (which the server setting
// query_reports_disabled can turn off).
func (q fleetQuerySpec) scheduled(queryReportsDisabled bool) bool {
	logging := q.Logging
	if logging == "" {
		logging = "snapshot"
	}
	return q.Interval > 0 && (q.AutomationsEnabled || (!q.DiscardData && !queryReportsDisabled && logging == "snapshot"))
}

// fleetApply is fleetctl apply's reading of a file (GroupFromBytes, then
// each spec's Verify), for one Fleet version.
func fleetApply(data []byte, v fleetVersion) (qs []fleetQuerySpec, ps []fleetPolicySpec, err error) {
	for _, item := range fleetSplitYaml(string(data)) {
		var s fleetMetadata
		if err := ghodss.Unmarshal([]byte(item), &s); err != nil {
			return nil, nil, fmt.Errorf("failed to unmarshal spec item %w: \n%s", err, item)
		}
		kind := strings.ToLower(s.Kind)
		if s.Spec == nil {
			if kind == "" {
				return nil, nil, errors.New(`Missing required fields ("spec", "kind") on provided configuration.`)
			}
			return nil, nil, fmt.Errorf(`Missing required fields ("spec") on provided %q configuration.`, s.Kind)
		}
		if !slices.Contains(v.kinds, kind) {
			return nil, nil, fmt.Errorf("unknown kind %q", s.Kind)
		}
		switch kind {
		case "query", "report":
			var q fleetQuerySpec
			if err := json.Unmarshal(s.Spec, &q); err != nil {
				return nil, nil, fmt.Errorf("unmarshaling %s spec: %w", kind, err)
			}
			if err := q.verify(); err != nil {
				return nil, nil, fmt.Errorf("%s %q: %w", kind, q.Name, err)
			}
			qs = append(qs, q)
		case "policy":
			var p fleetPolicySpec
			if err := json.Unmarshal(s.Spec, &p); err != nil {
				return nil, nil, fmt.Errorf("unmarshaling %s spec: %w", kind, err)
			}
			if err := p.verify(); err != nil {
				return nil, nil, fmt.Errorf("policy %q: %w", p.Name, err)
			}
			ps = append(ps, p)
		default:
			return nil, nil, fmt.Errorf("kind %q is not one pkgpersist generates", kind)
		}
	}
	return qs, ps, nil
}

func shippedQueries(t *testing.T) []*querydef.Query {
	t.Helper()
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

func readFleetFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(committed, "fleet", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestFleetctlApplyAccepts: fleetctl apply -f takes queries.yml and
// policies.yml on every Fleet version, and reports.yml where Fleet knows
// kind: report (the README and the files' headers say so).
func TestFleetctlApplyAccepts(t *testing.T) {
	qs := shippedQueries(t)
	detections := 0
	for _, q := range qs {
		if q.Kind == "detection" {
			detections++
		}
	}
	for _, v := range fleetVersions {
		for _, file := range []string{"queries.yml", "reports.yml", "policies.yml"} {
			got, pols, err := fleetApply(readFleetFile(t, file), v)
			if file == "reports.yml" && v.name == fleet469.name {
				if err == nil || !strings.Contains(err.Error(), `unknown kind "report"`) {
					t.Errorf("%s: %s: got %v, want unknown kind \"report\"", v.name, file, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: fleetctl apply -f %s: %v", v.name, file, err)
				continue
			}
			want := len(qs)
			if file == "policies.yml" {
				got, want = nil, detections
				if len(pols) != want {
					t.Errorf("%s: %s: %d policies, want %d", v.name, file, len(pols), want)
				}
				continue
			}
			if len(got) != want {
				t.Errorf("%s: %s: %d queries, want %d", v.name, file, len(got), want)
			}
		}
	}
}

// TestFleetctlSplitRejects: the reading above refuses what fleetctl
// refuses, the comment-only first chunk among them.
func TestFleetctlSplitRejects(t *testing.T) {
	good := "apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: SELECT 1\n  logging: snapshot\n"
	if _, _, err := fleetApply([]byte("# header\n"+good), fleet469); err != nil {
		t.Fatalf("a header comment inside the first document was refused: %v", err)
	}
	for what, doc := range map[string]string{
		"comment-only first chunk": "# header\n---\n" + good,
		"a spec without kind":      "apiVersion: v1\nspec:\n  name: a\n",
		"kind without spec":        "apiVersion: v1\nkind: query\n",
		"unknown kind":             strings.Replace(good, "kind: query", "kind: report", 1),
		"interval as text":         good + "  interval: soon\n",
		"bad logging":              strings.Replace(good, "snapshot", "diff", 1),
		"posix platform":           good + "  platform: posix\n",
		"a --- line in the SQL":    "apiVersion: v1\nkind: query\nspec:\n  name: a\n  query: |\n---x\n",
	} {
		if _, _, err := fleetApply([]byte(doc), fleet469); err == nil {
			t.Errorf("%s accepted", what)
		}
	}
}

// fleetQueryLists returns the queries of every generated file that Fleet
// schedules: the apply files and both GitOps files. A file that cannot be
// read is an error, and the others are still returned.
func fleetQueryLists(t *testing.T) map[string][]fleetQuerySpec {
	t.Helper()
	out := map[string][]fleetQuerySpec{}
	for _, file := range []string{"queries.yml", "reports.yml", "gitops.yml", "default.yml"} {
		data, err := os.ReadFile(filepath.Join(committed, "fleet", file))
		var qs []fleetQuerySpec
		if err == nil && strings.HasSuffix(file, "s.yml") && file != "gitops.yml" {
			qs, _, err = fleetApply(data, fleet482)
		} else if err == nil {
			var top map[string]json.RawMessage
			if top, err = gitopsParse(data); err == nil {
				err = json.Unmarshal(top["queries"], &qs)
			}
		}
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		out[file] = qs
	}
	return out
}

// TestFleetSchedulesEveryQuery: every query Fleet stores is also sent to
// hosts, and by the route its kind calls for: detections and events to
// the log destination, snapshot inventories as reports.
func TestFleetSchedulesEveryQuery(t *testing.T) {
	byID := map[string]*querydef.Query{}
	for _, q := range shippedQueries(t) {
		byID[q.ID] = q
	}
	for file, qs := range fleetQueryLists(t) {
		if len(qs) != len(byID) {
			t.Errorf("%s: %d queries, want %d", file, len(qs), len(byID))
		}
		for _, q := range qs {
			if !q.scheduled(false) {
				t.Errorf("%s: %s is stored but never sent to hosts (automations_enabled %t, logging %s, discard_data %t)",
					file, q.Name, q.AutomationsEnabled, q.Logging, q.DiscardData)
			}
			def := byID[q.Name]
			if def == nil {
				t.Errorf("%s: %s is not in queries/", file, q.Name)
				continue
			}
			if (def.Kind == "detection" || def.Kind == "event") && !q.AutomationsEnabled {
				t.Errorf("%s: %s (%s) does not reach the log destination", file, q.Name, def.Kind)
			}
			if q.scheduled(true) != q.AutomationsEnabled {
				t.Errorf("%s: %s depends on reports but is not a snapshot report", file, q.Name)
			}
		}
	}
}

// TestFleetScheduleRejects: the scheduling check fails on what Fleet does
// not schedule, as the four event queries were before.
func TestFleetScheduleRejects(t *testing.T) {
	for what, q := range map[string]fleetQuerySpec{
		"differential without automations": {Interval: 300, Logging: "differential"},
		"snapshot with discarded data":     {Interval: 300, Logging: "snapshot", DiscardData: true},
		"no interval":                      {Logging: "snapshot", AutomationsEnabled: true},
	} {
		if q.scheduled(false) {
			t.Errorf("%s: counted as scheduled", what)
		}
	}
	event := &querydef.Query{ID: "e", Kind: "event", Mode: "differential", Interval: 300}
	if s := FleetScheduleOf(event); !s.Automations || s.Logging != "differential_ignore_removals" {
		t.Errorf("event query: %+v", s)
	}
}

// fleetExpandEnv is fleetctl gitops' expandEnv: \$ is a literal dollar,
// $NAME and ${NAME} come from env (an unset one is an error), except in
// description and resolution values and for FLEET_VAR_ names, which the
// server expands; FLEET_SECRET_ names are refused outside profiles and
// scripts.
func fleetExpandEnv(s string, env map[string]string) (string, error) {
	const prevent = "PREVENT_ESCAPING_0123456789abcdef"
	s = regexp.MustCompile(`(\\+\$)`).ReplaceAllStringFunc(s, func(m string) string {
		if len(m)%2 != 0 {
			return m
		}
		return strings.Repeat(`\`, len(m)/2-1) + "$" + prevent
	})
	var zones [][2]int
	for _, key := range []string{"resolution", "description"} {
		re := regexp.MustCompile(`(?m)^\s*(?:` + key + `:)(.|[\r\n])*?(?:^\s+\w+:|\z)`)
		for _, r := range re.FindAllStringIndex(s, -1) {
			zones = append(zones, [2]int{r[0], r[1]})
		}
	}
	var errs []error
	var buf strings.Builder
	i := 0
	for j := 0; j < len(s); j++ {
		if s[j] != '$' || j+1 >= len(s) {
			continue
		}
		buf.WriteString(s[i:j])
		name, w := shellName(s[j+1:])
		replaced := false
		if name != "" {
			var val string
			val, replaced = func() (string, bool) {
				switch {
				case strings.HasPrefix(name, prevent):
					return "$" + strings.TrimPrefix(name, prevent), true
				case strings.HasPrefix(strings.ToUpper(name), "FLEET_VAR_"):
					return "", false
				case strings.HasPrefix(name, "FLEET_SECRET_"):
					errs = append(errs, fmt.Errorf("%s is only allowed in profiles and scripts", name))
					return "", false
				}
				for _, z := range zones {
					if j >= z[0] && j+w <= z[1] {
						return "", false
					}
				}
				v, ok := env[name]
				if !ok {
					errs = append(errs, fmt.Errorf("environment variable %q not set", name))
				}
				return v, ok
			}()
			if replaced {
				buf.WriteString(val)
			}
		}
		if !replaced {
			w = 0
			buf.WriteByte('$')
		}
		j += w
		i = j + 1
	}
	buf.WriteString(s[i:])
	return buf.String(), errors.Join(errs...)
}

// shellName is os.Expand's getShellName, which Fleet's MaybeExpand uses.
func shellName(s string) (string, int) {
	special := func(c byte) bool { return strings.IndexByte("*#$@!?-0123456789", c) >= 0 }
	alnum := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	switch {
	case s[0] == '{':
		if len(s) > 2 && special(s[1]) && s[2] == '}' {
			return s[1:2], 3
		}
		for i := 1; i < len(s); i++ {
			if s[i] == '}' {
				if i == 1 {
					return "", 2
				}
				return s[1:i], i + 1
			}
		}
		return "", 1
	case special(s[0]):
		return s[0:1], 1
	}
	i := 0
	for i < len(s) && alnum(s[i]) {
		i++
	}
	return s[:i], i
}

var gitopsEnv = map[string]string{
	"FLEET_URL": "https://fleet.example.org", "FLEET_ORG_NAME": "Example", "FLEET_GLOBAL_ENROLL_SECRET": "s3cret",
}

// gitopsTop reads a GitOps file as GitOpsFromFile does up to its top-level
// keys: environment expanded, YAML turned into JSON.
func gitopsTop(t *testing.T, file string) map[string]json.RawMessage {
	t.Helper()
	top, err := gitopsParse(readFleetFile(t, file))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return top
}

func gitopsParse(data []byte) (map[string]json.RawMessage, error) {
	expanded, err := fleetExpandEnv(string(data), gitopsEnv)
	if err != nil {
		return nil, fmt.Errorf("failed to expand environment: %w", err)
	}
	var top map[string]json.RawMessage
	if err := ghodss.Unmarshal([]byte(expanded), &top); err != nil {
		return nil, fmt.Errorf("failed to unmarshal file: %w", err)
	}
	return top, nil
}

// strictDecode is Fleet's JSONStrictDecode: unknown keys are errors.
func strictDecode(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// fleetOptionTypes reads testdata/fleet-agent-options.txt.
func fleetOptionTypes(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/fleet-agent-options.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	types := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			name, typ, _ := strings.Cut(l, " ")
			types[name] = typ
		}
	}
	return types
}

// checkAgentOptions decodes agent_options as Fleet validates them
// (ValidateJSONAgentOptions): known keys only, options of known names and
// types.
func checkAgentOptions(raw json.RawMessage, optionTypes map[string]string) error {
	var ao struct {
		ScriptExecutionTimeout int             `json:"script_execution_timeout"`
		Config                 json.RawMessage `json:"config"`
		Overrides              json.RawMessage `json:"overrides"`
		CommandLineFlags       json.RawMessage `json:"command_line_flags"`
		Extensions             json.RawMessage `json:"extensions"`
		UpdateChannels         json.RawMessage `json:"update_channels"`
	}
	if err := strictDecode(raw, &ao); err != nil {
		return fmt.Errorf("agent_options: %w", err)
	}
	var cfg struct {
		Options               map[string]any      `json:"options"`
		Schedule              json.RawMessage     `json:"schedule"`
		Packs                 json.RawMessage     `json:"packs"`
		FilePaths             map[string][]string `json:"file_paths"`
		FileAccesses          []string            `json:"file_accesses"`
		FilePathsQuery        map[string][]string `json:"file_paths_query"`
		ExcludePaths          map[string][]string `json:"exclude_paths"`
		YARA                  json.RawMessage     `json:"yara"`
		PrometheusTargets     json.RawMessage     `json:"prometheus_targets"`
		Views                 map[string]string   `json:"views"`
		AutoTableConstruction json.RawMessage     `json:"auto_table_construction"`
		Events                json.RawMessage     `json:"events"`
		Decorators            struct {
			Load     []string            `json:"load"`
			Always   []string            `json:"always"`
			Interval map[string][]string `json:"interval"`
		} `json:"decorators"`
	}
	if err := strictDecode(ao.Config, &cfg); err != nil {
		return fmt.Errorf("agent_options.config: %w", err)
	}
	for name, v := range cfg.Options {
		typ, ok := optionTypes[name]
		if !ok {
			return fmt.Errorf("agent_options.config.options: unknown option %q", name)
		}
		var good bool
		switch {
		case typ == "bool":
			_, good = v.(bool)
		case typ == "string":
			_, good = v.(string)
		default:
			n, isNum := v.(float64)
			good = isNum && n == float64(int64(n)) && (n >= 0 || strings.HasPrefix(typ, "int"))
		}
		if !good {
			return fmt.Errorf("agent_options.config.options.%s: %v is not a %s", name, v, typ)
		}
	}
	if s, _ := cfg.Options["logger_tls_endpoint"].(string); s != "" && !strings.HasPrefix(s, "/") {
		return errors.New("options.logger_tls_endpoint must be a path starting with '/'")
	}
	return nil
}

// checkGitOpsGlobal checks a global GitOps file (default.yml) for one
// Fleet version: known top-level keys, org_settings with what apply needs,
// every key whose absence would clear settings present, agent options
// Fleet validates, and queries and policies in Fleet's fields.
func checkGitOpsGlobal(top map[string]json.RawMessage, v fleetVersion, optionTypes map[string]string) error {
	var errs []error
	for k := range top {
		mapped := k
		if r, ok := v.renames[k]; ok {
			mapped = r
		}
		if !slices.Contains(v.topKeys, mapped) {
			errs = append(errs, fmt.Errorf("unknown top-level field: %s", k))
		}
	}
	if _, ok := top["name"]; ok {
		errs = append(errs, errors.New("'org_settings' cannot be used with 'name'"))
	}
	// GitOps sets a missing key to null, which clears it on the server
	for _, k := range []string{"org_settings", "agent_options", "controls", "policies", "queries"} {
		if _, ok := top[k]; !ok {
			errs = append(errs, fmt.Errorf("%s is missing (GitOps would clear it)", k))
		}
	}
	var org struct {
		ServerSettings struct {
			ServerURL string `json:"server_url"`
		} `json:"server_settings"`
		OrgInfo struct {
			OrgName string `json:"org_name"`
		} `json:"org_info"`
		Secrets *[]map[string]any `json:"secrets"`
	}
	if err := json.Unmarshal(top["org_settings"], &org); err != nil {
		errs = append(errs, fmt.Errorf("org_settings: %w", err))
	}
	if org.ServerSettings.ServerURL == "" {
		errs = append(errs, errors.New("org_settings.server_settings.server_url is required"))
	}
	if org.OrgInfo.OrgName == "" {
		errs = append(errs, errors.New("org_settings.org_info.org_name is required"))
	}
	if org.Secrets == nil && v.secretsRequired {
		errs = append(errs, errors.New("'org_settings.secrets' is required"))
	}
	if org.Secrets != nil {
		for _, s := range *org.Secrets {
			if v, _ := s["secret"].(string); v == "" {
				errs = append(errs, errors.New("each item in 'secrets' must have a 'secret' key containing an ASCII string value"))
			}
		}
	}
	if err := checkAgentOptions(top["agent_options"], optionTypes); err != nil {
		errs = append(errs, err)
	}
	var controls map[string]any
	if err := json.Unmarshal(top["controls"], &controls); err != nil {
		errs = append(errs, fmt.Errorf("controls: %w", err))
	}
	errs = append(errs, checkGitOpsLists(top)...)
	return errors.Join(errs...)
}

// checkGitOpsLists checks the queries and policies of a GitOps file
// against Fleet's fields (checkSpec) and Verify.
func checkGitOpsLists(top map[string]json.RawMessage) []error {
	var errs []error
	for key, fields := range map[string]map[string]string{"queries": querySpecFields, "policies": gitopsPolicyFields()} {
		var items []map[string]any
		if err := json.Unmarshal(top[key], &items); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			continue
		}
		for i, item := range items {
			// checkSpec takes YAML's integer type
			if n, ok := item["interval"].(float64); ok {
				item["interval"] = int(n)
			}
			if err := checkSpec(item, fields, true); err != nil {
				errs = append(errs, fmt.Errorf("%s #%d: %w", key, i, err))
			}
		}
	}
	var qs []fleetQuerySpec
	var ps []fleetPolicySpec
	if err := json.Unmarshal(top["queries"], &qs); err != nil {
		errs = append(errs, err)
	}
	if err := json.Unmarshal(top["policies"], &ps); err != nil {
		errs = append(errs, err)
	}
	for _, q := range qs {
		if err := q.verify(); err != nil {
			errs = append(errs, fmt.Errorf("query %s: %w", q.Name, err))
		}
	}
	for _, p := range ps {
		if err := p.verify(); err != nil {
			errs = append(errs, fmt.Errorf("policy %s: %w", p.Name, err))
		}
	}
	return errs
}

// TestGitOpsDefault: default.yml is a complete global GitOps file for both
// Fleet versions, with the SQL's dollars intact after expansion.
func TestGitOpsDefault(t *testing.T) {
	types := fleetOptionTypes(t)
	top := gitopsTop(t, "default.yml")
	for _, v := range fleetVersions {
		if err := checkGitOpsGlobal(top, v, types); err != nil {
			t.Errorf("%s: default.yml: %v", v.name, err)
		}
	}
	if errs := checkGitOpsLists(gitopsTop(t, "gitops.yml")); len(errs) > 0 {
		t.Errorf("gitops.yml: %v", errors.Join(errs...))
	}
	// the queries Fleet stores are the SQL of queries/, dollars included
	sql := map[string]string{}
	for _, q := range shippedQueries(t) {
		sql[q.ID] = strings.TrimSpace(q.SQL)
	}
	for _, file := range []string{"default.yml", "gitops.yml"} {
		var qs []fleetQuerySpec
		if err := json.Unmarshal(gitopsTop(t, file)[("queries")], &qs); err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if strings.TrimSpace(q.Query) != sql[q.Name] {
				t.Errorf("%s: %s: Fleet would store\n%s\nwant\n%s", file, q.Name, q.Query, sql[q.Name])
			}
		}
	}
}

// TestGitOpsCheckRejects: the GitOps check fails on what Fleet refuses or
// on what would clear a setting.
func TestGitOpsCheckRejects(t *testing.T) {
	types := fleetOptionTypes(t)
	good := readFleetFile(t, "default.yml")
	for what, edit := range map[string]func(string) string{
		"no secrets":        func(s string) string { return regexp.MustCompile(`(?m)^  secrets:\n.*\n`).ReplaceAllString(s, "") },
		"no server_url":     func(s string) string { return strings.Replace(s, "server_url:", "server_urls:", 1) },
		"no agent_options":  func(s string) string { return strings.Replace(s, "agent_options:", "agent_optionz:", 1) },
		"an unknown option": func(s string) string { return strings.Replace(s, "events_expiry:", "event_expiry:", 1) },
		"an option as text": func(s string) string { return strings.Replace(s, "events_expiry: 3600", `events_expiry: "3600"`, 1) },
		"a CLI-only option": func(s string) string { return strings.Replace(s, "events_expiry:", "extensions_require:", 1) },
		"no controls":       func(s string) string { return strings.Replace(s, "controls: {}", "", 1) },
		"an unset $VAR": func(s string) string {
			return strings.Replace(s, "SELECT name, path,", "SELECT '$NOT_SET' AS x, name, path,", 1)
		},
		"an unknown top key": func(s string) string { return s + "packs: []\n" },
	} {
		changed := edit(string(good))
		if changed == string(good) {
			t.Errorf("%s: the edit changed nothing", what)
			continue
		}
		top, err := gitopsParse([]byte(changed))
		if err == nil {
			err = checkGitOpsGlobal(top, fleet469, types)
		}
		if err == nil {
			t.Errorf("%s accepted", what)
		}
	}
}
