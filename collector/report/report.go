// Package report renders findings — rows that are there, or that appeared
// or disappeared — in the collector's output formats, Elastic Common Schema
// documents included.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Columns of the tabular formats.
var Columns = []string{"host", "query", "change", "run", "time", "row"}

// Write renders changes that cmd reports in format; ecs (with ndjson)
// writes one ECS document per finding.
func Write(w io.Writer, cmd Command, format string, ecs bool, cs []store.Change) error {
	if ecs {
		return WriteECS(w, cmd, cs)
	}
	rows := make([][]string, len(cs))
	for i, c := range cs {
		rows[i] = []string{c.Host, c.QueryID, c.Kind, itoa(c.RunID), c.At.UTC().Format(time.RFC3339), summary(c.Row)}
	}
	return output.Write(w, format, Columns, rows)
}

// summary is the row as "key=value" pairs in key order.
func summary(r store.Row) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if r[k] != "" {
			parts = append(parts, k+"="+r[k])
		}
	}
	return strings.Join(parts, " ")
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// HostStates writes, for each host that is not ok, one line per reason
// ("pkgpersist: HOST: STATE: REASON"), shown through output.Safe: reasons
// carry what hosts sent.
func HostStates(w io.Writer, hosts []store.HostOutcome) {
	for _, h := range hosts {
		if h.State == store.StateOK {
			continue
		}
		reasons := h.Reasons
		if len(reasons) == 0 {
			reasons = []string{"no reason recorded"}
		}
		for _, r := range reasons {
			fmt.Fprintf(w, "pkgpersist: %s: %s: %s\n", output.Safe(h.Host), h.State, output.Safe(r))
		}
	}
}
