package dnfplugins

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// marker is module-level code that proves the import: it leaves a file
// named after the module in the oracle's marker directory.
const marker = `import os, sys
_d = os.environ.get('PKGPERSIST_MARKER_DIR')
if _d:
    open(os.path.join(_d, __name__.rsplit('.', 1)[-1]), 'w').close()
import dnf
`

// oracleModules are plugin modules whose plugin classes sit where only an
// evaluation of the import finds them; each case says what real dnf does.
var oracleModules = map[string]string{
	// the class, then more than 1 MiB of comment: the old table read at
	// most 1 MiB and reported nothing imported
	"padded.py": marker + "class Padded(dnf.Plugin):\n    name = 'padded'\n#" + strings.Repeat("padding ", 140<<10) + "\n",
	// the class after more than 1 MiB of string literal
	"padded_string.py": marker + "_pad = '" + strings.Repeat("A", 1200<<10) + "'\nclass PaddedString(dnf.Plugin):\n    name = 'padded-string'\n",
	"in_try.py": marker + `try:
    import dnf.cli
    class InTry(dnf.Plugin):
        name = 'in-try'
except ImportError:
    pass
`,
	"in_except.py": marker + `try:
    import dnf_no_such_module
except ImportError:
    class InExcept(dnf.Plugin):
        name = 'in-except'
`,
	"in_if.py": marker + `if sys.version_info[0] >= 3:
    class InIf(dnf.Plugin):
        name = 'in-if'
else:
    class InElse(dnf.Plugin):
        name = 'in-else'
if __name__ == '__main__':
    class InMain(dnf.Plugin):
        name = 'in-main'
if 0:
    class InDead(dnf.Plugin):
        name = 'in-dead'
`,
	"in_with_for.py": marker + `with open(os.devnull) as _f:
    class InWith(dnf.Plugin):
        name = 'in-with'
for _i in [1]:
    class InFor(dnf.Plugin):
        name = 'in-for'
for _i in ():
    class InEmptyFor(dnf.Plugin):
        name = 'in-empty-for'
`,
	"nested_class.py": marker + `class Outer(object):
    class Inner(dnf.Plugin):
        name = 'inner'
def factory():
    class InDef(dnf.Plugin):
        name = 'in-def'
    return InDef
`,
	"exec_class.py": marker + `exec("class Execd(dnf.Plugin):\n    name = 'execd'\n")
`,
	// a module-level function the import calls makes the class
	"in_func.py": marker + `def make():
    class Made(dnf.Plugin):
        name = 'made'
    return Made
def register(cls):
    return cls
_made = register(make())
`,
	// Python 2 syntax: DNF's Python 3 cannot import it
	"python2.py": marker + `class Py2(dnf.Plugin):
    name = 'py2'
    def transaction(self):
        try:
            print "done", ` + "`self`" + `
        except OSError, e:
            pass
`,
}

// TestOracleDNF4Modules: dnf's "Loaded plugins:" line and the modules'
// import markers against the table, on modules whose plugin classes sit
// past 1 MiB, inside try/except/if/with/for and class bodies, in exec'd
// code, and in Python 2 syntax.
func TestOracleDNF4Modules(t *testing.T) {
	root := t.TempDir()
	lib := filepath.Join(root, "usr/lib/python3/dist-packages")
	constPy, err := os.ReadFile(filepath.Join(rootsDir, "dnf4/usr/lib/python3/dist-packages/dnf/const.py"))
	if err != nil {
		t.Fatal(err)
	}
	for dir, files := range map[string]map[string]string{
		filepath.Join(lib, "dnf"):         {"const.py": string(constPy)},
		filepath.Join(lib, "dnf-plugins"): oracleModules,
		filepath.Join(root, "etc/dnf"):    {"dnf.conf": "[main]\n"},
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows, err := Rows(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	enabled, imported := dnf4View(rows)
	for _, r := range rows {
		if r["sha256"] == "" || r["size"] == "" {
			t.Errorf("%s: no provenance: %v", r["path"], r)
		}
	}
	loaded, ok, markers, out := runDNF(t, root)
	if !ok {
		t.Fatalf("dnf did not run:\n%s", tail(out))
	}
	if strings.Join(loaded, ",") != strings.Join(enabled, ",") {
		t.Errorf("dnf loaded %v\ntable enables %v", loaded, enabled)
	}
	for name := range oracleModules {
		mod := strings.TrimSuffix(name, ".py")
		_, err := os.Stat(filepath.Join(markers, mod))
		if (err == nil) != imported[mod] {
			t.Errorf("%s: dnf imported it: %v; table imported=%v", mod, err == nil, imported[mod])
		}
	}
	// the expectations this oracle run confirms, for a reader
	want := []string{"execd", "in-except", "in-for", "in-if", "in-try", "in-with", "inner", "made", "padded", "padded-string"}
	if strings.Join(enabled, ",") != strings.Join(want, ",") {
		t.Errorf("table enables %v, want %v", enabled, want)
	}
}

// TestPANIXDNF: PANIX's DNF persistence (test/roots/panix-dnf.expected.md
// explains each value). Not run through dnf: its plugin calls os.system
// when DNF instantiates it.
func TestPANIXDNF(t *testing.T) {
	rows, err := Rows(context.Background(), filepath.Join(rootsDir, "panix-dnf"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ name, enabled, imported, conf, reason, calls string }
	want := map[string]row{
		"dnfcon.py": {"dnfcon", "1", "1", "/etc/dnf/plugins/dnfcon.conf", "",
			"5 def:execute_dnfcon os.system setsid /usr/lib/python3.9/site-packages/dnfcon 2>/dev/null &"},
		"notify.py": {"notify", "1", "1", "/etc/dnf/plugins/notify.conf", "", ""},
	}
	if len(rows) != len(want) {
		t.Errorf("%d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		g := row{r["name"], r["enabled"], r["imported"], r["conf_path"], r["reason"], r["calls"]}
		if w := want[filepath.Base(r["path"])]; g != w {
			t.Errorf("%s:\n got %+v\nwant %+v", r["path"], g, w)
		}
		if r["plugin_dir"] != "/usr/lib/python3.9/site-packages/dnf-plugins" || r["sha256"] == "" {
			t.Errorf("%s: plugin_dir %s sha256 %q", r["path"], r["plugin_dir"], r["sha256"])
		}
	}
}
