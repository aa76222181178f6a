package hunt_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// TestOneMachineStoredOnce: targets of one run that reach one machine
// store it once, under its host name; one that claims the machine's
// identity under another host name (a clone that kept its machine-id)
// fails rather than hide or be hidden. The next run's findings are
// present, none new.
func TestOneMachineStoredOnce(t *testing.T) {
	st := openStore(t)
	m := store.Machine{ID: "machine-id:0123456789abcdef0123456789abcdef", Hostname: "vm", Root: "/"}
	clone := m
	clone.Hostname = "vm2"
	sameRows := setHooks(func(r *hunt.BatchResult) { r.Rows = hookRows("vm") })
	var targets []hunt.Target
	for _, n := range []string{"vm", "root@127.0.0.1:22", "127.0.0.1:22"} {
		h := complete(n, sameRows)
		h.machine = m
		targets = append(targets, h)
	}
	c := complete("10.0.0.7", sameRows)
	c.machine = clone
	targets = append(targets, c)
	ctx := context.Background()
	for round, want := range []string{"new", "present"} {
		// one at a time: the first target is the one stored
		sum, err := hunt.Run(ctx, st, targets, []*querydef.Query{hooksQ}, hunt.Options{Parallel: 1})
		must(t, err)
		got := map[string]string{}
		for _, h := range sum.Hosts {
			got[h.Target] = fmt.Sprintf("%s %s %v %q", h.Host, h.State, h.Stored, h.Reasons)
		}
		wantHosts := map[string]string{
			"vm":                `vm ok true []`,
			"root@127.0.0.1:22": `vm ok false ["not stored: the same machine as vm, stored once"]`,
			"127.0.0.1:22":      `vm ok false ["not stored: the same machine as vm, stored once"]`,
			"10.0.0.7": `vm failed false ["not stored: it claims the identity of vm (machine-id:0123456789abcdef0123456789abcdef), ` +
				`but its host name is vm2, not vm: a clone that kept its machine-id?"]`,
		}
		if fmt.Sprint(got) != fmt.Sprint(wantHosts) {
			t.Fatalf("round %d:\n got %v\nwant %v", round+1, got, wantHosts)
		}
		findings, _, err := hunt.Findings(ctx, st, sum, []*querydef.Query{hooksQ})
		must(t, err)
		if len(findings) != 2 {
			t.Fatalf("round %d: %d findings, want the machine's 2", round+1, len(findings))
		}
		for _, f := range findings {
			if f.Host != "vm" || f.Kind != want {
				t.Errorf("round %d: %s %s, want vm %s", round+1, f.Host, f.Kind, want)
			}
		}
	}
}
