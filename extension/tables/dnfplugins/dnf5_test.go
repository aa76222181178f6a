package dnfplugins

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Hand-written expectations for DNF 5 (no dnf5 is packaged for Debian 12),
// from rpm-software-management/dnf5: libdnf5/plugin/plugins.cpp
// (Plugins::load_plugins, find_plugin_library), libdnf5/base/base.cpp
// (Base::load_plugin_config), libdnf5/utils/fs/utils.cpp
// (create_sorted_file_list) and dnf5/plugins.cpp (command-line plugins).
// test/roots/dnf5*.expected.md walk through each decision.
func TestDNF5(t *testing.T) {
	type want struct {
		enabled, imported string
		reason            string
	}
	cases := map[string]map[string]want{
		"dnf5": {
			"actions":           {"1", "1", ""},
			"backdoor":          {"1", "1", ""},                    // planted, enabled=yes
			"local":             {"0", "0", "disabled: enabled=0"}, // a boolean spelling
			"notify":            {"0", "0", "disabled: enabled=Off"},
			"orphan":            {"0", "0", "libdnf5 never loads it"}, // no .conf
			"sneaky_cmd_plugin": {"1", "1", ""},                       // command-line plugins load unconditionally
		},
		"dnf5-broken": {
			// zz-ghost.conf enables a plugin whose library is missing: dnf5
			// stops after loading the plugins whose confs sort earlier
			"actions":  {"0", "1", "cannot find plugin library /usr/lib64/libdnf5/plugins/ghost.so"},
			"backdoor": {"0", "1", "cannot find plugin library"},
			"local":    {"0", "0", "disabled: enabled=0"},
			"ghost":    {"0", "0", "cannot find plugin library"},
		},
	}
	for root, plugins := range cases {
		rows, err := Rows(context.Background(), filepath.Join(rootsDir, root))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]want{}
		var names []string
		for _, r := range rows {
			if r["manager"] == "dnf5" {
				got[r["name"]] = want{r["enabled"], r["imported"], r["reason"]}
				names = append(names, r["name"])
			}
		}
		sort.Strings(names)
		for name, w := range plugins {
			g, ok := got[name]
			if !ok {
				t.Errorf("%s: no row for %s (rows: %v)", root, name, names)
				continue
			}
			if g.enabled != w.enabled || g.imported != w.imported || !strings.Contains(g.reason, w.reason) {
				t.Errorf("%s: %s = %+v, want %+v", root, name, g, w)
			}
		}
	}
}
