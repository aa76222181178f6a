package webreport

import (
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// TestFindingsOrder: with room for one finding, the one shown is the one
// with the most hosts left to triage: a finding triaged on 2 of its 3
// hosts before one triaged on its only host, and one on 2 untriaged
// hosts before one on 1.
func TestFindingsOrder(t *testing.T) {
	change := func(host, hash string) store.Change {
		return store.Change{Host: host, QueryID: "unowned-hooks", RowHash: hash, Row: store.Row{"path": "/etc/" + hash}}
	}
	cases := []struct {
		name    string
		fs      []store.Change
		covered []string
		want    string
	}{
		{"partly before fully triaged",
			[]store.Change{change("h1", "all"), change("h2", "part"), change("h3", "part"), change("h4", "part")},
			[]string{"benign", "benign", "benign", ""}, "/etc/part"},
		{"more untriaged hosts first",
			[]store.Change{change("h1", "one"), change("h2", "two"), change("h3", "two"), change("h4", "two")},
			[]string{"", "benign", "", ""}, "/etc/two"},
	}
	for _, c := range cases {
		p := &Page{}
		p.findings(c.fs, c.covered, Options{MaxFindings: 1})
		if len(p.Findings) != 1 || p.Findings[0].File != c.want {
			t.Errorf("%s: shown %+v, want %s", c.name, p.Findings, c.want)
		}
	}
}
