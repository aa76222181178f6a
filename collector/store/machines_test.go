package store

import (
	"context"
	"fmt"
	"sort"
	"testing"
)

func hostNames(t *testing.T, s *DB) []string {
	t.Helper()
	rs, err := s.db.Query(`SELECT h.name, coalesce(h.machine, ''), coalesce(a.alias, '') FROM hosts h
		LEFT JOIN host_aliases a ON a.host_id = h.id ORDER BY h.name, a.alias`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	last := ""
	for rs.Next() {
		var name, machine, alias string
		if err := rs.Scan(&name, &machine, &alias); err != nil {
			t.Fatal(err)
		}
		if name != last || len(out) == 0 {
			n := name
			if machine != "" {
				n += " = " + machine
			}
			out = append(out, n+" <- "+alias)
			last = name
			continue
		}
		out[len(out)-1] += "," + alias
	}
	return out
}

// TestMigrateMergesOneMachine: a store where one machine was hunted
// under three names (and an enrolled osqueryd host besides) becomes one
// host once hunts identify the machine: its history merged, each change
// once, the names kept as aliases, and the next hunt that sees the same
// rows records nothing new. The enrolled host stays its own.
func TestMigrateMergesOneMachine(t *testing.T) {
	path, old := storeBefore(t, machinesSchema)
	names := []string{"vm", "root@127.0.0.1:22", "127.0.0.1:22"}
	var hs []HostResult
	for _, n := range names {
		hs = append(hs, host(n, rows("x", "y")))
	}
	run(t, old, hs...)
	// the machine as seen later by two of its names: y went, z came
	run(t, old, host("vm", rows("x", "z")), host("127.0.0.1:22", rows("x", "z")))
	ctx := context.Background()
	if _, err := old.EnrollNode(ctx, Enrollment{Identifier: "vm", KeyHash: "k"}); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := fmt.Sprint(hostNames(t, s)), "[127.0.0.1:22 <- 127.0.0.1:22 enrolled:vm <-  root@127.0.0.1:22 <- root@127.0.0.1:22 vm <- vm]"; got != want {
		t.Fatalf("migrated hosts:\n got %s\nwant %s", got, want)
	}
	m := Machine{ID: "machine-id:0123", Hostname: "vm", Root: "/"}
	// the first identified keeps its name while another host has the
	// machine's; merged, that host gives it up
	for _, step := range [][2]string{{"127.0.0.1:22", "127.0.0.1:22"}, {"vm", "vm"}, {"root@127.0.0.1:22", "vm"}, {"vm", "vm"}} {
		got, err := s.ResolveHost(ctx, HostKey{Alias: step[0], Machine: m})
		if err != nil || got != step[1] {
			t.Fatalf("ResolveHost(%s) = %q, %v; want %s", step[0], got, err, step[1])
		}
	}
	if got, want := fmt.Sprint(hostNames(t, s)), "[enrolled:vm <-  vm = machine-id:0123 <- 127.0.0.1:22,root@127.0.0.1:22,vm]"; got != want {
		t.Fatalf("hosts after identifying them:\n got %s\nwant %s", got, want)
	}
	var changes []string
	for _, c := range must(s.Diff(ctx, Window{Host: "root@127.0.0.1:22"})) {
		changes = append(changes, fmt.Sprintf("%d %s %s %s", c.RunID, c.Host, c.Kind, c.Row["command"]))
	}
	sort.Strings(changes)
	if got, want := fmt.Sprint(changes), "[1 vm new x 1 vm new y 2 vm gone y 2 vm new z]"; got != want {
		t.Fatalf("merged history:\n got %s\nwant %s", got, want)
	}
	r := run(t, s, host("vm", rows("x", "z")))
	if cs := must(s.Diff(ctx, Window{Run: r})); len(cs) != 0 {
		t.Fatalf("the next hunt of the same rows records changes: %+v", cs)
	}
	cur := must(s.Current(ctx, "127.0.0.1:22", "q1"))
	if len(cur) != 2 || cur[0].Host != "vm" || cur[0].HostName != "vm" || cur[0].Root != "/" {
		t.Fatalf("current rows by an alias: %+v", cur)
	}
}

// TestResolveHost: the machine decides which host a target reached,
// whatever name reached it; a name goes with the machine last reached
// by it; without an identity the name alone decides.
func TestResolveHost(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		resolve := func(alias, id, hostname, root string) string {
			t.Helper()
			n, err := s.ResolveHost(ctx, HostKey{Alias: alias, Machine: Machine{ID: id, Hostname: hostname, Root: root}})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		steps := []struct{ alias, id, hostname, root, want string }{
			{"10.0.0.5", "machine-id:a", "web", "/", "web"},
			{"web.example", "machine-id:a", "web", "/", "web"},
			// another machine took the address, and the host name
			{"10.0.0.5", "machine-id:b", "web", "/", "web [machine-id:b]"},
			// a root on the machine without an identity of its own
			{"10.0.0.5?root=/srv/img", "machine-id:b root /srv/img", "web", "/srv/img", "web:/srv/img"},
			// an image with its own machine-id and host name
			{"web:/mnt/db", "machine-id:c", "db", "/mnt/db", "db"},
			// unreachable: no identity, the name decides
			{"10.0.0.5", "", "", "", "web [machine-id:b]"},
			{"10.0.0.9", "", "", "", "10.0.0.9"},
			// reached later: the host first stored by its name is the machine's
			{"10.0.0.9", "product-uuid:d", "mail", "/", "mail"},
		}
		for _, st := range steps {
			got := resolve(st.alias, st.id, st.hostname, st.root)
			if got != st.want {
				t.Errorf("%s (%s): %q, want %q", st.alias, st.id, got, st.want)
			}
			if st.alias == "10.0.0.9" && st.id == "" {
				run(t, s, host(got, rows("x"))) // stored under its name
			}
		}
		if cur := must(s.Current(ctx, "mail", "q1")); len(cur) != 1 || cur[0].Row["command"] != "x" || cur[0].HostName != "mail" {
			t.Errorf("the host stored by its name before it was identified: %+v", cur)
		}
		want := "[db = machine-id:c <- web:/mnt/db mail = product-uuid:d <- 10.0.0.9 web = machine-id:a <- web.example " +
			"web [machine-id:b] = machine-id:b <- 10.0.0.5 web:/srv/img = machine-id:b root /srv/img <- 10.0.0.5?root=/srv/img]"
		if got := fmt.Sprint(hostNames(t, s)); got != want {
			t.Fatalf("hosts:\n got %s\nwant %s", got, want)
		}
	})
}
