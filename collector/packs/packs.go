// Package packs generates, from queries/ and the extension's tables, what
// osquery managers deploy: osquery packs, an example osqueryd configuration
// (FIM paths, decorators, the packs), and Fleet YAML for fleetctl apply and
// GitOps. The output is deterministic, so the committed files can be checked
// against a fresh generation.
package packs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/queries/fimpaths"
)

// MaxInterval is osquery's largest schedule interval (config/packs.cpp
// kMaxQueryInterval: larger, or 0, and the query is dropped with a warning).
const MaxInterval = 604800

// Platforms are the platform tokens osquery's checkPlatform knows. It
// matches by substring, so anything else risks matching by accident.
var Platforms = []string{"linux", "darwin", "windows", "posix", "any", "all"}

// Discovery makes the extension pack run only where osqueryd loaded
// pkgpersist: a host without it skips the pack instead of failing its
// queries.
const Discovery = "SELECT 1 FROM osquery_extensions WHERE name = 'pkgpersist'"

// Decorators add the host's identity to every result, as a collector needs.
var Decorators = []string{
	"SELECT uuid AS host_uuid FROM system_info;",
	"SELECT hostname AS hostname FROM system_info;",
}

// FIMCategory is the file_paths category the FIM paths go in; the
// pm-file-events query selects it.
const FIMCategory = "package_manager"

// Output is the generated files, by path relative to packs/.
type Output map[string][]byte

// Validate checks the rules osquery enforces on packs, and ours: a name
// ending in epoch or counter (or starting with "query.") would share
// osquery's result-store keys with another query's (core/query.cpp keeps
// name+"epoch", name+"counter" and "query."+name beside name).
func Validate(qs []*querydef.Query) error {
	for _, q := range qs {
		switch {
		case q.Interval <= 0 || q.Interval > MaxInterval:
			return fmt.Errorf("%s: interval %d is outside 1..%d", q.ID, q.Interval, MaxInterval)
		case strings.HasSuffix(q.ID, "epoch") || strings.HasSuffix(q.ID, "counter") || strings.HasPrefix(q.ID, "query."):
			return fmt.Errorf("%s: a query name may not end in epoch or counter or start with query. (osquery stores those keys beside each query's results)", q.ID)
		case !isASCII(q.ID):
			return fmt.Errorf("%s: Fleet needs ASCII query names", q.ID)
		}
		for _, p := range strings.Split(q.Platform, ",") {
			if !slices.Contains(Platforms, strings.TrimSpace(p)) {
				return fmt.Errorf("%s: platform %q is not one osquery knows (%s)", q.ID, p, strings.Join(Platforms, ", "))
			}
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// NeedsExtension reports whether a query reads a pkgpersist table.
func NeedsExtension(q *querydef.Query, ext []*table.Table) bool {
	for _, t := range ext {
		if regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(t.Name) + `\b`).MatchString(q.SQL) {
			return true
		}
	}
	return false
}

// The packs' names: the queries that need the extension, and the others.
const (
	ExtensionPack = "pkgpersist"
	CorePack      = "pkgpersist-core"
)

// LoggedName is the name osqueryd logs q's scheduled results under with
// these packs: pack_<pack>_<query id> (ServerConfig fixes the delimiter).
func LoggedName(q *querydef.Query, ext []*table.Table) string {
	pack := CorePack
	if NeedsExtension(q, ext) {
		pack = ExtensionPack
	}
	return "pack_" + pack + "_" + q.ID
}

// split parts the queries that need the extension from the others.
func split(qs []*querydef.Query, ext []*table.Table) (withExt, core []*querydef.Query) {
	for _, q := range qs {
		if NeedsExtension(q, ext) {
			withExt = append(withExt, q)
		} else {
			core = append(core, q)
		}
	}
	return withExt, core
}

// Generate builds every file.
func Generate(qs []*querydef.Query, ext []*table.Table) (Output, error) {
	if err := Validate(qs); err != nil {
		return nil, err
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].ID < qs[j].ID })
	out := Output{}
	// the example loads the packs from files, as osquery's filesystem
	// config plugin does
	paths := map[string]any{}
	var err error
	for name, p := range packSet(qs, ext) {
		if out[name+".conf"], err = marshal(p); err != nil {
			return nil, err
		}
		paths[name] = "/etc/osquery/packs/" + name + ".conf"
	}
	if out["osquery.conf.example"], err = config(qs, map[string]any{"host_identifier": "uuid", "schedule_splay_percent": 10}, paths); err != nil {
		return nil, err
	}
	if out[ConfFragment], err = marshal(fragment(qs, paths)); err != nil {
		return nil, err
	}
	out["osquery.flags.example"] = flagsExample()
	out[ExtensionFlags] = flagLines(extensionFlagsHeader, extensionFlags)
	out[EventFlags] = flagLines(eventFlagsHeader, eventOptions)
	if err := fleetFiles(out, qs); err != nil {
		return nil, err
	}
	return out, nil
}

// pack is an osquery pack.
type pack struct {
	Discovery []string             `json:"discovery,omitempty"`
	Platform  string               `json:"platform"`
	Queries   map[string]packQuery `json:"queries"`
}

type packQuery struct {
	Query       string `json:"query"`
	Interval    int    `json:"interval"`
	Platform    string `json:"platform"`
	Version     string `json:"version,omitempty"`
	Snapshot    bool   `json:"snapshot,omitempty"`
	Removed     *bool  `json:"removed,omitempty"`
	Description string `json:"description"`
	Value       string `json:"value"`
}

// MinVersion is the oldest osquery the queries are written for (5.x: the
// denylist key, hidden columns, process_events' cwd).
const MinVersion = "5.0.0"

func packQueries(qs []*querydef.Query) map[string]packQuery {
	m := map[string]packQuery{}
	for _, q := range qs {
		pq := packQuery{Query: strings.TrimSpace(q.SQL), Interval: q.Interval, Platform: q.Platform, Version: MinVersion,
			Description: q.Title + ". " + q.Description, Value: q.FalsePositives}
		if q.Mode == "snapshot" {
			pq.Snapshot = true
		} else {
			// Inventories report both ways. A detection's row that goes
			// away is not news, and an event query's earlier rows always
			// "go away" (each run returns only new events), so both log
			// additions only.
			removed := q.Kind == "inventory"
			pq.Removed = &removed
		}
		m[q.ID] = pq
	}
	return m
}

// packSet is the two packs by name: the queries that need the extension,
// gated by discovery, and the others.
func packSet(qs []*querydef.Query, ext []*table.Table) map[string]pack {
	withExt, core := split(qs, ext)
	return map[string]pack{
		ExtensionPack: {Discovery: []string{Discovery}, Platform: "linux", Queries: packQueries(withExt)},
		CorePack:      {Platform: "linux", Queries: packQueries(core)},
	}
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// FIMPaths are the file_paths patterns of the queries' file reads
// (fimpaths, which the extension's fanotify capture watches too).
func FIMPaths(qs []*querydef.Query) []string {
	sqls := make([]string, len(qs))
	for i, q := range qs {
		sqls[i] = q.SQL
	}
	return fimpaths.FromSQL(sqls)
}

// flag is an osqueryd flag as a flagfile line sets it: --name=value.
type flag struct {
	name  string
	value any
}

// extensionFlags load and require the extension. osquery reads them only
// from the command line or a flagfile, never from a config's options.
var extensionFlags = []flag{
	{"extensions_autoload", "/etc/osquery/extensions.load"},
	{"extensions_require", "pkgpersist"}, // the name the extension registers
	{"extensions_timeout", 10},
}

// eventOptions turn on the evented tables the event queries read. osquery
// reads them from the config too, but they only take effect at startup, so
// the flag files repeat them.
var eventOptions = []flag{
	{"disable_events", false},
	{"events_expiry", 3600},
	{"enable_file_events", true},
	{"disable_audit", false},
	{"audit_allow_config", true},
	{"audit_persist", true},
	{"audit_allow_process_events", true},
	{"audit_allow_fim_events", true},
}

// What a host that already runs osqueryd adds to its own files, apart
// from the complete examples: a conf.d fragment (osquery's filesystem
// config plugin reads <config_path>.d/*.conf beside the main file and
// keeps each file's packs and FIM paths as its own) and the flagfile lines
// to add, the extension's apart from the event switches (these turn on
// osquery's audit netlink, which auditd may hold).
const (
	ConfFragment   = "osquery.conf.d/pkgpersist.conf"
	ExtensionFlags = "pkgpersist.flags"
	EventFlags     = "pkgpersist-events.flags"
)

const (
	extensionFlagsHeader = `# osqueryd flagfile lines that load and require the pkgpersist extension
# (generated by make packs: do not edit). Add each line whose flag your
# flagfile does not set yet (README: "Adding pkgpersist to a host's
# osqueryd"); a flag it already sets otherwise is yours to reconcile.
`
	eventFlagsHeader = `# osqueryd flagfile lines for the event queries of the pkgpersist-core pack
# and the FIM paths (generated by make packs: do not edit). They turn on
# osquery's audit-based process events, which need auditd stopped. Add each
# line whose flag your flagfile does not set yet (README: "Adding
# pkgpersist to a host's osqueryd").
`
)

// fragment is the conf.d file: the packs and the FIM paths, nothing that
// would change the host's own options or decorations.
func fragment(qs []*querydef.Query, packs map[string]any) map[string]any {
	return map[string]any{
		"packs":      packs,
		"file_paths": map[string]any{FIMCategory: FIMPaths(qs)},
	}
}

func writeFlags(b *strings.Builder, flags []flag) {
	for _, f := range flags {
		fmt.Fprintf(b, "--%s=%v\n", f.name, f.value)
	}
}

// flagLines is a flag file of the given flags under a header.
func flagLines(header string, flags []flag) []byte {
	var b strings.Builder
	b.WriteString(header)
	writeFlags(&b, flags)
	return []byte(b.String())
}

// osqueryConfig is what every configuration pkgpersist writes holds:
// options (plus the event options), the decorators and the FIM paths.
func osqueryConfig(qs []*querydef.Query, options map[string]any) map[string]any {
	for _, o := range eventOptions {
		options[o.name] = o.value
	}
	return map[string]any{
		"options":    options,
		"decorators": map[string]any{"load": Decorators},
		"file_paths": map[string]any{FIMCategory: FIMPaths(qs)},
	}
}

// config is an osqueryd configuration with the packs, inline or by path.
func config(qs []*querydef.Query, options map[string]any, packs map[string]any) ([]byte, error) {
	c := osqueryConfig(qs, options)
	c["packs"] = packs
	return marshal(c)
}

// flagsExample is a whole osqueryd flagfile for a host that has none: the
// config path, the extension flags and the event switches.
func flagsExample() []byte {
	var b strings.Builder
	b.WriteString(`# osqueryd flagfile for pkgpersist (generated by make packs: do not edit).
# A whole flagfile for a host that has none, as /etc/osquery/osquery.flags
# (the osquery packages' osqueryd.service passes that file as --flagfile).
# On a host with a flagfile of its own, add pkgpersist.flags and
# pkgpersist-events.flags to it instead.
--config_path=/etc/osquery/osquery.conf
`)
	writeFlags(&b, extensionFlags)
	writeFlags(&b, eventOptions)
	return []byte(b.String())
}

// Write writes out under dir, creating directories.
func (o Output) Write(dir string) error {
	for name, data := range o {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Names lists the files, sorted.
func (o Output) Names() []string {
	var n []string
	for k := range o {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Stale lists, sorted, the files under dir that differ from o: changed or
// missing ones, and files o does not generate (packs/ is wholly generated).
func (o Output) Stale(dir string) ([]string, error) {
	var stale []string
	for name, data := range o {
		have, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if err != nil || !bytes.Equal(have, data) {
			stale = append(stale, name)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !d.IsDir() && o[filepath.ToSlash(rel)] == nil {
			stale = append(stale, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(stale)
	return stale, err
}

// ServerConfig is the configuration the collector serves to enrolled
// osqueryd hosts: both packs inline, the FIM paths, the decorators, and
// how often to ask for distributed queries.
func ServerConfig(qs []*querydef.Query, ext []*table.Table, distributedInterval int) ([]byte, error) {
	if err := Validate(qs); err != nil {
		return nil, err
	}
	inline := map[string]any{}
	for name, p := range packSet(qs, ext) {
		inline[name] = p
	}
	// pack_delimiter fixed, so the names hosts log are pack_<pack>_<query>
	// whatever their flags say (osquery's default is "_", Fleet's "/")
	return config(qs, map[string]any{"distributed_interval": distributedInterval, "pack_delimiter": "_"}, inline)
}
