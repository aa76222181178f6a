package newterms

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/test/storetest"
)

// randomInstalls are n logged process rows around now on hosts
// h0..h<hosts-1>: installs and not (rpm -q, dpkg -l, other programs), by
// exact argv or cmdline, parents few or missing, the process start time
// present, zero, garbage or missing, logged through both queries (a host
// may log both), every action.
func randomInstalls(rng *rand.Rand, hosts, n int) map[string][]store.Logged {
	argvs := [][]string{{"rpm", "-ivh", "a.rpm"}, {"rpm", "-q", "bash"}, {"/usr/bin/rpm", "-U", "b.rpm"}, {"dpkg", "-i", "c.deb"},
		{"dpkg", "--unpack", "d.deb"}, {"dpkg", "-l"}, {"/usr/bin/curl", "-i"}, {"rpm", "-i", "x -q.rpm"}}
	parents := []string{"/usr/bin/dnf", "/usr/bin/apt-get", ""}
	for i := 0; i < 40; i++ {
		parents = append(parents, fmt.Sprintf("/opt/p%d", i))
	}
	var ats []int64
	names := []string{"pack_pkgpersist-core_pm-installs", "pack_pkgpersist-core_pkg-installs", "pack/pkgpersist/pkg-installs", "pm-installs"}
	actions := []string{"added", "added", "snapshot", "removed"}
	out := map[string][]store.Logged{}
	base := now.Unix() - 6*86400
	for i := 0; i < n; i++ {
		h := fmt.Sprintf("h%d", rng.IntN(hosts))
		a := argvs[rng.IntN(len(argvs))]
		// most events near the look-back, so that terms meet
		var at int64
		if rng.IntN(3) == 0 {
			at = now.Unix() - rng.Int64N(1800) + 120
		} else {
			at = base + rng.Int64N(6*86400+600)
		}
		// installs at the same second, for the order of ties
		if len(ats) > 0 && rng.IntN(5) == 0 {
			at = ats[rng.IntN(len(ats))]
		}
		ats = append(ats, at)
		r := store.Row{"parent_path": parents[rng.IntN(len(parents))], "pid": fmt.Sprint(i)}
		if rng.IntN(2) == 0 {
			b, _ := json.Marshal(a)
			r["argv"] = string(b)
			r["path"] = a[0]
		} else {
			r["cmdline"] = fmt.Sprint(a)[1 : len(fmt.Sprint(a))-1]
		}
		logged := at + rng.Int64N(300)
		switch rng.IntN(4) {
		case 0:
			r["time"] = fmt.Sprint(at)
		case 1:
			r["time"] = "0"
		case 2:
			r["time"] = "soon"
		}
		if _, ok := r["time"]; !ok || r["time"] == "0" || r["time"] == "soon" {
			logged = at
		}
		out[h] = append(out[h], store.Logged{Name: names[rng.IntN(len(names))], Action: actions[rng.IntN(len(actions))],
			UnixTime: logged, Counter: int64(rng.IntN(2)), Row: r})
	}
	return out
}

// TestFindIsDetect: the alerts from the store's install terms are the
// alerts Detect finds in every event, for runs at times with and without
// fractions of a second, fleet-wide and per host, under and over the cap,
// for rows stored before the terms were kept and after, and batches sent
// twice.
func TestFindIsDetect(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	rng := rand.New(rand.NewPCG(18, 2))
	ids := map[string]int64{}
	var sent []map[string][]store.Logged
	add := func(b map[string][]store.Logged) {
		if _, err := st.SaveLogsByHost(ctx, b, ids); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		b := randomInstalls(rng, 10, 400)
		sent = append(sent, b)
		add(b)
	}
	compare := func(stage string) {
		t.Helper()
		// install times, to put window edges on
		all, err := Load(ctx, st, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		var ats []time.Time
		for _, e := range all {
			if term, ok := store.TermOf(e.Row, e.Logged.Unix()); ok {
				ats = append(ats, time.Unix(term.At, 0))
			}
		}
		alerted := 0
		for i := 0; i < 80; i++ {
			o := Defaults
			if i%5 == 0 {
				o.Lookback, o.History = time.Hour, 2*24*time.Hour+7*time.Second
			}
			o.Now = now.Add(time.Duration(rng.Int64N(int64(40*time.Minute))) - 20*time.Minute)
			switch at := ats[rng.IntN(len(ats))]; i % 4 {
			case 1: // an install at the look-back's start
				o.Now = at.Add(o.Lookback)
			case 2: // at the history's start
				for at.Add(o.Lookback + o.History).After(now.Add(20 * time.Minute)) {
					at = ats[rng.IntN(len(ats))]
				}
				o.Now = at.Add(o.Lookback + o.History)
			case 3: // at the run
				o.Now = at
			}
			if i/4%2 == 0 {
				o.Now = o.Now.Add(time.Duration(rng.Int64N(int64(time.Second))))
			}
			o.PerHost = i%3 == 0
			o.MaxAlerts = []int{100, 2, 5}[i%3]
			evs, err := Load(ctx, st, o.Now.Add(-o.Lookback-o.History))
			if err != nil {
				t.Fatal(err)
			}
			want := Detect(evs, o)
			got, err := Find(ctx, st, o)
			if err != nil || got.Fallback != nil {
				t.Fatal(err, got.Fallback)
			}
			if fmt.Sprint(got.Alerts) != fmt.Sprint(want) {
				t.Fatalf("%s: run at %s %+v:\n got %s\nwant %s", stage, o.Now, o, summary(got.Alerts), summary(want))
			}
			alerted += len(want)
		}
		if alerted == 0 {
			t.Fatalf("%s: no run alerted: the comparison is empty", stage)
		}
	}
	compare("stored before")
	for i := 0; i < 3; i++ {
		add(randomInstalls(rng, 14, 400))
		add(sent[i])
	}
	compare("kept by writes")
}

// TestFindEdges: an install at the history's first second makes its term
// old; installs at the same second are taken in Detect's order, the
// preferred query's first.
func TestFindEdges(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	o := Defaults
	o.Now = now
	old := now.Add(-o.Lookback - o.History).Unix()
	at := now.Add(-time.Minute).Unix()
	install := func(query, parent string, at, logged int64) store.Logged {
		return store.Logged{Name: "pack_pkgpersist-core_" + query, Action: "added", UnixTime: logged,
			Row: store.Row{"cmdline": "rpm -i x.rpm", "path": "/usr/bin/rpm", "parent_path": parent, "time": fmt.Sprint(at)}}
	}
	if _, err := st.SaveLogsByHost(ctx, map[string][]store.Logged{
		"hostA": {install("pm-installs", "/opt/edge", old, old+5), install("pm-installs", "/opt/edge", at, at)},
		// hostB logs its install first, through the other query
		"hostB": {install("pkg-installs", "/opt/tie", at, at+1)},
		"hostC": {install("pm-installs", "/opt/tie", at, at+2)},
	}, map[string]int64{}); err != nil {
		t.Fatal(err)
	}
	evs, err := Load(ctx, st, now.Add(-o.Lookback-o.History))
	if err != nil {
		t.Fatal(err)
	}
	want := "2026-11-22T11:59:00Z hostC pkgpersist-rpm-unusual-parent /opt/tie -i true\n"
	if got := summary(Detect(evs, o)); got != want {
		t.Fatalf("Detect:\n%s\nwant\n%s", got, want)
	}
	got, err := Find(ctx, st, o)
	if err != nil {
		t.Fatal(err)
	}
	if summary(got.Alerts) != want {
		t.Errorf("Find:\n%s\nwant\n%s", summary(got.Alerts), want)
	}
}
