// Package triage holds analysts' decisions about findings — "this row is
// benign, because…" — and applies them: a finding a decision covers is
// hidden (or, asked for all, shown marked) until the decision expires,
// and a row that changes is a new row no decision covers.
//
// A decision is either recorded by an analyst (pkgpersist triage), keyed
// by the row's identity (store.Row.Identity), or one of the defaults
// shipped in defaults.json, keyed by column values: known benign rows
// such as the APT hook Docker's Debian images ship.
package triage

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Decision covers the rows of a query on one host (or every host, Host
// "") with one identity (Hash), or whose columns have the values of
// Match.
type Decision struct {
	ID     int64             `json:"-"` // the stored decision's id; 0 for a default
	Query  string            `json:"query"`
	Host   string            `json:"host,omitempty"`
	Hash   string            `json:"hash,omitempty"`
	Match  map[string]string `json:"match,omitempty"`
	Reason string            `json:"reason"`
	Source string            `json:"source,omitempty"` // where a default's facts come from
	Who    string            `json:"-"`
	Until  time.Time         `json:"-"` // zero: never expires (defaults)
}

// Covers tells whether the decision covers the change at now.
func (d Decision) Covers(c store.Change, now time.Time) bool {
	if d.Query != c.QueryID || (d.Host != "" && d.Host != c.Host) || (d.Hash != "" && d.Hash != c.RowHash) {
		return false
	}
	if !d.Until.IsZero() && !now.Before(d.Until) {
		return false
	}
	for k, v := range d.Match {
		if got, ok := c.Row[k]; !ok || got != v {
			return false
		}
	}
	return d.Hash != "" || len(d.Match) > 0
}

// Mark is how a covered finding is shown with all: the row's "triaged"
// column.
func (d Decision) Mark() string {
	who := d.Who
	if d.ID == 0 {
		who = "default"
	}
	if d.Until.IsZero() {
		return fmt.Sprintf("benign: %s (%s)", d.Reason, who)
	}
	return fmt.Sprintf("benign: %s (%s, until %s)", d.Reason, who, d.Until.UTC().Format(time.RFC3339))
}

//go:embed defaults.json
var defaultsJSON []byte

// Defaults are the decisions shipped with pkgpersist.
func Defaults() ([]Decision, error) {
	var ds []Decision
	if err := json.Unmarshal(defaultsJSON, &ds); err != nil {
		return nil, fmt.Errorf("triage defaults: %w", err)
	}
	for i, d := range ds {
		if d.Query == "" || d.Reason == "" || len(d.Match) == 0 || d.Hash != "" {
			return nil, fmt.Errorf("triage default %d: a query, a reason and columns to match are required", i+1)
		}
	}
	return ds, nil
}

// FromStore is a stored decision.
func FromStore(t store.Triage) Decision {
	return Decision{ID: t.ID, Query: t.QueryID, Host: t.Host, Hash: t.Hash, Reason: t.Reason, Who: t.Who, Until: t.Until}
}

// Set is the decisions in force.
type Set []Decision

// Apply splits findings at now into those no decision covers and the
// number covered. With all the covered ones are kept too, each with its
// decision in the row's "triaged" column (a copy: the stored row is
// untouched).
func (s Set) Apply(cs []store.Change, now time.Time, all bool) (kept []store.Change, covered int) {
	for _, c := range cs {
		d, ok := s.Cover(c, now)
		if !ok {
			kept = append(kept, c)
			continue
		}
		covered++
		if all {
			row := make(store.Row, len(c.Row)+1)
			for k, v := range c.Row {
				row[k] = v
			}
			row["triaged"] = d.Mark()
			c.Row = row
			kept = append(kept, c)
		}
	}
	return kept, covered
}

// Cover is the first decision that covers the change at now.
func (s Set) Cover(c store.Change, now time.Time) (Decision, bool) {
	for _, d := range s {
		if d.Covers(c, now) {
			return d, true
		}
	}
	return Decision{}, false
}
