package packs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
)

// FleetSchedule is how Fleet runs a query on its hosts. Fleet sends a
// scheduled query to hosts only when its automations are on (every result
// goes to the log destination) or when it is a snapshot whose latest result
// Fleet keeps as a report (ListScheduledQueriesForAgents in
// server/datastore/mysql/queries.go: interval > 0 AND (automations_enabled
// OR (NOT discard_data AND NOT query_reports_disabled AND logging =
// 'snapshot'))). Detections and events are streams to alert on, so they go
// to the log destination; a snapshot inventory is a state to look at, so it
// is a report. Fleet stores no report of a differential query, so a
// differential inventory goes to the log destination too.
type FleetSchedule struct {
	Automations bool
	Logging     string
}

// FleetScheduleOf decides a query's Fleet schedule from its kind and mode.
func FleetScheduleOf(q *querydef.Query) FleetSchedule {
	switch {
	case q.Kind == "inventory" && q.Mode == "snapshot":
		return FleetSchedule{Automations: false, Logging: "snapshot"}
	case q.Kind == "inventory":
		return FleetSchedule{Automations: true, Logging: "differential"}
	case q.Mode == "snapshot":
		return FleetSchedule{Automations: true, Logging: "snapshot"}
	}
	// a detection's row that goes away is no news, and an event query's
	// earlier events always "go away"
	return FleetSchedule{Automations: true, Logging: "differential_ignore_removals"}
}

// FleetPlatforms are the platforms Fleet accepts on queries and policies
// (a comma list; empty means all).
var FleetPlatforms = []string{"darwin", "linux", "windows", "chrome"}

// fleetPlatform turns osquery's platform tokens into Fleet's, which has no
// posix, any or all.
func fleetPlatform(p string) string {
	var out []string
	add := func(ps ...string) {
		for _, x := range ps {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	for _, t := range strings.Split(p, ",") {
		switch t = strings.TrimSpace(t); t {
		case "any", "all", "":
			return ""
		case "posix":
			add("darwin", "linux")
		default:
			add(t)
		}
	}
	return strings.Join(out, ",")
}

// yamlString writes a double-quoted YAML scalar (JSON's string syntax is a
// subset of YAML's).
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// block writes a literal block scalar at the given indentation.
func block(s string, indent string) string {
	var b strings.Builder
	b.WriteString("|\n")
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(indent + l + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// queryFields are a query's (or report's) fields, one "key: value" a line.
func queryFields(q *querydef.Query, indent string, sql func(string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sname: %s\n", indent, yamlString(q.ID))
	fmt.Fprintf(&b, "%sdescription: %s\n", indent, yamlString(q.Title+". "+q.Description))
	fmt.Fprintf(&b, "%squery: %s\n", indent, block(sql(q.SQL), indent+"  "))
	fmt.Fprintf(&b, "%sinterval: %d\n", indent, q.Interval)
	fmt.Fprintf(&b, "%splatform: %s\n", indent, yamlString(fleetPlatform(q.Platform)))
	fmt.Fprintf(&b, "%smin_osquery_version: %s\n", indent, yamlString(MinVersion))
	sched := FleetScheduleOf(q)
	fmt.Fprintf(&b, "%sautomations_enabled: %t\n", indent, sched.Automations)
	fmt.Fprintf(&b, "%slogging: %s\n", indent, sched.Logging)
	fmt.Fprintf(&b, "%sdiscard_data: false\n", indent)
	fmt.Fprintf(&b, "%sobserver_can_run: true\n", indent)
	return b.String()
}

// PolicySQL turns a detection into a Fleet policy, which passes when its
// query returns a row: the host passes while the detection finds nothing.
func PolicySQL(q *querydef.Query) string {
	return "SELECT 1 WHERE NOT EXISTS (\n" + strings.TrimRight(q.SQL, "; \n") + "\n)"
}

func policyFields(q *querydef.Query, indent string, sql func(string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sname: %s\n", indent, yamlString("pkgpersist: "+q.Title))
	fmt.Fprintf(&b, "%sdescription: %s\n", indent, yamlString(q.Description+" Passes while the detection "+q.ID+" finds nothing."))
	fmt.Fprintf(&b, "%squery: %s\n", indent, block(sql(PolicySQL(q)), indent+"  "))
	fmt.Fprintf(&b, "%sresolution: %s\n", indent, yamlString(resolution(q)))
	fmt.Fprintf(&b, "%splatform: %s\n", indent, yamlString(fleetPlatform(q.Platform)))
	fmt.Fprintf(&b, "%scritical: false\n", indent)
	return b.String()
}

// resolution tells a Fleet user what to do about a failing policy; the
// queries are built into pkgpersist, so explain works on any host.
func resolution(q *querydef.Query) string {
	r := "Run the query " + q.ID + " in Fleet (pkgpersist: " + q.Title + ") to see the rows. "
	if q.Next != "" {
		r += "Next step: " + q.Next + ". "
	}
	return r + "`pkgpersist explain " + q.ID + "` prints what it finds, its false positives and its SQL. False positives: " + q.FalsePositives
}

// Which Fleet takes which file, said in the README and in each file.
const (
	generated    = "# Generated by `make packs` from queries/: do not edit.\n"
	queriesNote  = "# fleetctl apply -f queries.yml: every Fleet version (4.82 and later accept\n# kind: query with a deprecation notice). reports.yml is the same for Fleet\n# 4.82 and later only; older Fleet refuses kind: report.\n"
	policiesNote = "# fleetctl apply -f policies.yml: every Fleet version. A policy passes while\n# its detection finds nothing.\n"
	gitopsNote   = `# Merge into a Fleet GitOps file (default.yml or a fleet/team file); for a
# complete file to start from, see default.yml. GitOps replaces a list that is
# left out, so keep both keys. "queries:" is the name every Fleet version
# reads (newer ones call it "reports:"; use one, not both). fleetctl gitops
# expands environment variables in the file, so every dollar sign in the SQL
# is written with a backslash before it.
`
	defaultNote = `# A complete Fleet GitOps file (fleetctl gitops -f default.yml [--dry-run])
# for a Fleet that runs only pkgpersist's queries and policies. It needs
# FLEET_URL, FLEET_ORG_NAME and FLEET_GLOBAL_ENROLL_SECRET in the environment.
# GitOps replaces whatever a file leaves out: agent_options keeps Fleet's
# defaults and adds the event switches and FIM paths the event queries need;
# controls is empty (no MDM). To add pkgpersist to an existing GitOps
# repository, merge gitops.yml's lists instead.
`
)

// applyFile joins fleetctl apply documents. The header comment sits at the
// top of the first document: fleetctl's pkg/spec.SplitYaml cuts at every
// line starting with ---, and a chunk holding only a comment fails with
// 'Missing required fields ("spec", "kind")'.
func applyFile(header string, docs []string) []byte {
	return []byte(header + strings.Join(docs, "---\n"))
}

// fleetFiles writes the Fleet YAML: queries for fleetctl apply before Fleet
// 4.82 (kind: query) and after (kind: report), policies for the detections,
// a GitOps fragment, and a complete GitOps file.
func fleetFiles(out Output, qs []*querydef.Query) error {
	var queries, reports, policies []string
	var lists strings.Builder
	lists.WriteString("queries:\n")
	for _, q := range qs {
		queries = append(queries, "apiVersion: v1\nkind: query\nspec:\n"+queryFields(q, "  ", plain))
		reports = append(reports, "apiVersion: v1\nkind: report\nspec:\n"+queryFields(q, "  ", plain))
		lists.WriteString("  - " + strings.TrimPrefix(queryFields(q, "    ", gitopsEscape), "    "))
	}
	lists.WriteString("policies:\n")
	for _, q := range qs {
		if q.Kind != "detection" {
			continue
		}
		policies = append(policies, "apiVersion: v1\nkind: policy\nspec:\n"+policyFields(q, "  ", plain))
		lists.WriteString("  - " + strings.TrimPrefix(policyFields(q, "    ", gitopsEscape), "    "))
	}
	settings, err := gitopsSettings(qs)
	if err != nil {
		return err
	}
	out["fleet/queries.yml"] = applyFile(generated+queriesNote, queries)
	out["fleet/reports.yml"] = applyFile(generated+queriesNote, reports)
	out["fleet/policies.yml"] = applyFile(generated+policiesNote, policies)
	out["fleet/gitops.yml"] = []byte(generated + gitopsNote + lists.String())
	out["fleet/default.yml"] = []byte(generated + defaultNote + settings + lists.String())
	return nil
}

// fleetDefaultOptions are the osquery options Fleet gives a new
// installation (its default agent options). GitOps replaces agent_options
// whole, so the complete file keeps them.
var fleetDefaultOptions = map[string]any{
	"pack_delimiter":               "/",
	"logger_tls_period":            10,
	"distributed_plugin":           "tls",
	"disable_distributed":          false,
	"logger_tls_endpoint":          "/api/osquery/log",
	"distributed_interval":         10,
	"distributed_tls_max_attempts": 3,
}

// gitopsSettings is the settings part of default.yml: the organisation
// (from the environment, as Fleet's own GitOps template does), the agent
// options and empty controls.
func gitopsSettings(qs []*querydef.Query) (string, error) {
	options := map[string]any{}
	for k, v := range fleetDefaultOptions {
		options[k] = v
	}
	doc := struct {
		OrgSettings struct {
			ServerSettings map[string]string   `yaml:"server_settings"`
			OrgInfo        map[string]string   `yaml:"org_info"`
			Secrets        []map[string]string `yaml:"secrets"`
		} `yaml:"org_settings"`
		AgentOptions struct {
			Config map[string]any `yaml:"config"`
		} `yaml:"agent_options"`
		Controls map[string]any `yaml:"controls"`
	}{Controls: map[string]any{}}
	doc.OrgSettings.ServerSettings = map[string]string{"server_url": "$FLEET_URL"}
	doc.OrgSettings.OrgInfo = map[string]string{"org_name": "$FLEET_ORG_NAME"}
	doc.OrgSettings.Secrets = []map[string]string{{"secret": "$FLEET_GLOBAL_ENROLL_SECRET"}}
	doc.AgentOptions.Config = osqueryConfig(qs, options)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", fmt.Errorf("default.yml: %w", err)
	}
	return b.String(), enc.Close()
}

func plain(s string) string { return s }

// gitopsEscape protects literal dollar signs in SQL from fleetctl gitops,
// which expands $VAR and ${VAR} in the whole file (and fails on unset ones)
// except in description and resolution.
func gitopsEscape(s string) string {
	return strings.ReplaceAll(s, "$", `\$`)
}
