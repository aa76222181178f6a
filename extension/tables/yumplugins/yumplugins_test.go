package yumplugins

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Hand-written expectations (no YUM is packaged for Debian 12), from
// rpm-software-management/yum yum/plugins.py (_importplugins, _loadplugin,
// _getpluginconf), yum/config.py (BoolOption, YumConf defaults); see
// test/roots/yum.expected.md for each decision.
func TestYUM(t *testing.T) {
	type want struct{ enabled, imported, hooks, reason string }
	cases := map[string]map[string]want{
		"yum": {
			"backdoor":                 {"1", "1", "pretrans_hook", ""},
			"hooksdemo":                {"1", "1", "config_hook,init_hook,postreposetup_hook,close_hook", ""},
			"noconf":                   {"0", "0", "pretrans_hook", "no noconf.conf"},
			"offplug":                  {"0", "0", "init_hook", "disabled: enabled=0"},
			"post-transaction-actions": {"1", "1", "posttrans_hook", ""},
		},
		"yum-off": {
			"backdoor":  {"0", "0", "pretrans_hook", "plugins are off"},
			"hooksdemo": {"0", "0", "config_hook,init_hook,postreposetup_hook,close_hook", "plugins are off"},
		},
	}
	for root, plugins := range cases {
		rows, err := Rows(context.Background(), filepath.Join("../../../test/roots", root))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]want{}
		for _, r := range rows {
			got[r["name"]] = want{r["enabled"], r["imported"], r["hooks"], r["reason"]}
		}
		for name, w := range plugins {
			g, ok := got[name]
			if !ok {
				t.Errorf("%s: no row for %s", root, name)
				continue
			}
			if g.enabled != w.enabled || g.imported != w.imported || g.hooks != w.hooks || !strings.Contains(g.reason, w.reason) {
				t.Errorf("%s: %s = %+v, want %+v", root, name, g, w)
			}
		}
	}
}

func TestBool(t *testing.T) {
	for v, want := range map[string][2]bool{"1": {true, true}, "True": {true, true}, "no": {false, true}, "on": {false, false}, "off": {false, false}} {
		b, ok := Bool(v)
		if b != want[0] || ok != want[1] {
			t.Errorf("Bool(%q) = %v %v", v, b, ok)
		}
	}
}
