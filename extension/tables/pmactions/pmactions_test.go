package pmactions

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Hand-written expectations, from dnf-plugins-core
// plugins/post-transaction-actions.py, dnf5 libdnf5-plugins/actions/actions.cpp
// and yum-utils plugins/post-transaction-actions/post-transaction-actions.py;
// test/roots/{dnf-actions,dnf5,yum}.expected.md explain each line.
func TestActions(t *testing.T) {
	type want struct{ enabled, trigger, reason string }
	cases := map[string]map[string]want{
		"dnf-actions": {
			"benign.action:5":  {"1", "in", ""},
			"planted.action:3": {"1", "any", ""},
			"misc.action:3":    {"0", "", "bad action line"},
			"misc.action:5":    {"0", "install", "unknown state"},
		},
		"dnf5": {
			"10-benign.actions:7":  {"1", "post_transaction:in", ""},
			"50-planted.actions:5": {"1", "post_transaction", ""},
			"50-planted.actions:8": {"1", "pre_transaction", ""},
		},
		"dnf5-badaction": {
			"50-planted.actions:5":   {"0", "post_transaction", "dnf5 runs nothing"},
			"90-malformed.actions:5": {"0", "", "rejects this line"},
		},
		"yum": {
			"benign.action:5":  {"1", "install", ""},
			"planted.action:2": {"1", "any", ""},
			"planted.action:5": {"1", "update", ""},
			"misc.action:2":    {"0", "", "bad action line"},
			"misc.action:4":    {"0", "in", "unknown state"},
			"misc.action:6":    {"0", "any", "matches nothing"},
		},
		"yum-off": {
			"planted.action:2": {"0", "any", "not enabled"},
		},
	}
	for root, lines := range cases {
		rows, err := Rows(context.Background(), filepath.Join("../../../test/roots", root))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]want{}
		for _, r := range rows {
			got[filepath.Base(r["path"])+":"+r["line"]] = want{r["enabled"], r["trigger"], r["reason"]}
		}
		for key, w := range lines {
			g, ok := got[key]
			if !ok {
				t.Errorf("%s: no row for %s (have %v)", root, key, got)
				continue
			}
			if g.enabled != w.enabled || g.trigger != w.trigger || !strings.Contains(g.reason, w.reason) {
				t.Errorf("%s: %s = %+v, want %+v", root, key, g, w)
			}
		}
	}
}
