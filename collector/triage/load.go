package triage

import (
	"context"
	"fmt"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Store is where decisions are kept, and the rows they are made about.
type Store interface {
	Triages(ctx context.Context) ([]store.Triage, error)
	AddTriage(ctx context.Context, t store.Triage) (int64, error)
	Current(ctx context.Context, host, query string) ([]store.Change, error)
}

// Load returns the defaults and the stored decisions (expired ones too:
// Covers checks the time).
func Load(ctx context.Context, st Store) (Set, error) {
	ds, err := Defaults()
	if err != nil {
		return nil, err
	}
	ts, err := st.Triages(ctx)
	if err != nil {
		return nil, fmt.Errorf("triage decisions: %w", err)
	}
	for _, t := range ts {
		ds = append(ds, FromStore(t))
	}
	return ds, nil
}

// Request is a decision to record: the rows of Query that hosts returned
// in their latest run whose columns have the values of Match (one host's
// rows, or every host's), benign for Reason until Until.
type Request struct {
	Query   string
	Match   map[string]string
	Host    string // only this host's rows, and the decision for it alone ("" every host)
	Reason  string
	Who     string
	Until   time.Time
	Created time.Time
}

// Record stores one decision per distinct row identity the request
// matches, and returns them; a request that matches no row is an error.
func Record(ctx context.Context, st Store, r Request) ([]store.Triage, error) {
	switch {
	case r.Reason == "":
		return nil, fmt.Errorf("a reason is required")
	case !r.Until.After(r.Created):
		return nil, fmt.Errorf("until %s is not after now", r.Until.UTC().Format(time.RFC3339))
	case len(r.Match) == 0:
		return nil, fmt.Errorf("no column values to match (--match COLUMN=VALUE)")
	}
	cur, err := st.Current(ctx, r.Host, r.Query)
	if err != nil {
		return nil, err
	}
	match := Decision{Query: r.Query, Match: r.Match}
	var out []store.Triage
	seen := map[string]bool{}
	for _, c := range cur {
		if !match.Covers(c, r.Created) || seen[c.RowHash] {
			continue
		}
		seen[c.RowHash] = true
		t := store.Triage{QueryID: r.Query, Hash: c.RowHash, Host: r.Host, Row: c.Row, Verdict: "benign",
			Reason: r.Reason, Who: r.Who, Created: r.Created, Until: r.Until}
		if t.ID, err = st.AddTriage(ctx, t); err != nil {
			return out, err
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no row of %s in the hosts' latest runs has those values", r.Query)
	}
	return out, nil
}
