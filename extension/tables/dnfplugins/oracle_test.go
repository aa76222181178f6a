package dnfplugins

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/need"
)

const rootsDir = "../../../test/roots"

// dnf4Roots are the fixture roots with a DNF 4 installation (a dnf/const.py).
func dnf4Roots(t *testing.T) []string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(rootsDir, "*", "usr/lib/python3/dist-packages/dnf/const.py"))
	var roots []string
	for _, m := range matches {
		roots = append(roots, strings.TrimSuffix(m, "/usr/lib/python3/dist-packages/dnf/const.py"))
	}
	if len(roots) < 3 {
		t.Fatalf("expected DNF 4 fixture roots, found %v", roots)
	}
	return roots
}

var (
	constPluginPath = regexp.MustCompile(`(?m)^PLUGINPATH\s*=\s*'([^']*)'`)
	listKey         = regexp.MustCompile(`(?m)^(pluginpath|pluginconfpath)(\s*=\s*)(.*)$`)
	loadedLine      = regexp.MustCompile(`(?m)^Loaded plugins: (.*)$`)
)

// reroot prefixes every entry of a dnf.conf path list with root.
func reroot(root, list string) string {
	var out []string
	for _, e := range regexp.MustCompile(`[ ,]+`).Split(strings.TrimSpace(list), -1) {
		if e != "" {
			out = append(out, filepath.Join(root, e))
		}
	}
	return strings.Join(out, ",")
}

// runDNF runs Debian's dnf on the fixture: its dnf.conf, with the plugin
// directories it names (or DNF's defaults from the fixture's const.py)
// pointed into the root. It returns the plugin names dnf reports loaded,
// whether dnf ran, and the directory where planted modules leave markers.
func runDNF(t *testing.T, root string) (loaded []string, ok bool, markers string, out string) {
	t.Helper()
	dnf := need.Program(t, "dnf")
	abs, _ := filepath.Abs(root)
	constPy, err := os.ReadFile(filepath.Join(abs, "usr/lib/python3/dist-packages/dnf/const.py"))
	if err != nil {
		t.Fatal(err)
	}
	m := constPluginPath.FindSubmatch(constPy)
	if m == nil {
		t.Fatal("no PLUGINPATH in the fixture's const.py")
	}
	conf := []byte("[main]\n")
	if data, err := os.ReadFile(filepath.Join(abs, "etc/dnf/dnf.conf")); err == nil {
		conf = data
	}
	args := []string{"-v"}
	if !listKey.Match(conf) || !bytes.Contains(conf, []byte("pluginpath")) {
		args = append(args, "--setopt=pluginpath="+filepath.Join(abs, string(m[1])))
	}
	if !bytes.Contains(conf, []byte("pluginconfpath")) {
		args = append(args, "--setopt=pluginconfpath="+filepath.Join(abs, "etc/dnf/plugins"))
	}
	conf = listKey.ReplaceAllFunc(conf, func(line []byte) []byte {
		sm := listKey.FindSubmatch(line)
		return []byte(string(sm[1]) + string(sm[2]) + reroot(abs, string(sm[3])))
	})
	tmp := t.TempDir()
	confPath := filepath.Join(tmp, "dnf.conf")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	markers = filepath.Join(tmp, "markers")
	_ = os.Mkdir(markers, 0o755)
	args = append([]string{"-c", confPath}, args...)
	args = append(args, "--setopt=reposdir=/nonexistent", "--installroot="+filepath.Join(tmp, "installroot"), "--releasever=1", "help")
	cmd := exec.Command(dnf, args...)
	cmd.Env = append(os.Environ(), "PKGPERSIST_MARKER_DIR="+markers, "LC_ALL=C")
	b, err := cmd.CombinedOutput()
	out = string(b)
	if err != nil {
		return nil, false, markers, out
	}
	if lm := loadedLine.FindStringSubmatch(out); lm != nil {
		loaded = strings.Split(strings.TrimSpace(lm[1]), ", ")
	}
	return loaded, true, markers, out
}

// TestOracleDNF4: the names in dnf's "Loaded plugins:" line are the
// enabled=1 rows; a module dnf imports although its plugin is disabled
// leaves its marker and is imported=1; when dnf refuses to start nothing is
// enabled.
func TestOracleDNF4(t *testing.T) {
	for _, root := range dnf4Roots(t) {
		t.Run(filepath.Base(root), func(t *testing.T) {
			rows, err := Rows(context.Background(), root)
			if err != nil {
				t.Fatal(err)
			}
			enabled, imported := dnf4View(rows)
			loaded, ok, markers, out := runDNF(t, root)
			if !ok {
				if len(enabled) != 0 {
					t.Fatalf("dnf refuses to start but the table enables %v\n%s", enabled, tail(out))
				}
				if !anyReason(rows, "dnf runs no plugin") {
					t.Fatalf("no row says why dnf refuses to start:\n%s", tail(out))
				}
			} else if strings.Join(loaded, ",") != strings.Join(enabled, ",") {
				t.Fatalf("dnf loaded %v\ntable enables %v", loaded, enabled)
			}
			if len(loaded) == 0 && ok && len(enabled) == 0 && !strings.Contains(root, "off") {
				t.Fatalf("fixture loads no plugin; dnf said:\n%s", tail(out))
			}
			// the module-level marker proves the import
			_, statErr := os.Stat(filepath.Join(markers, "planted_disabled-imported"))
			if _, err := os.Stat(filepath.Join(root, "usr/lib/python3/dist-packages/dnf-plugins/planted_disabled.py")); err == nil {
				if (statErr == nil) != imported["planted_disabled"] {
					t.Fatalf("dnf imported planted_disabled.py: %v; table imported=%v", statErr == nil, imported["planted_disabled"])
				}
			}
		})
	}
}

// dnf4View is what the table says of DNF 4: the enabled plugin names,
// sorted, and the modules (file names without .py) it imports.
func dnf4View(rows []table.Row) (enabled []string, imported map[string]bool) {
	imported = map[string]bool{}
	for _, r := range rows {
		if r["manager"] != "dnf" {
			continue
		}
		if r["enabled"] == "1" {
			enabled = append(enabled, r["name"])
		}
		if r["imported"] == "1" {
			imported[strings.TrimSuffix(filepath.Base(r["path"]), ".py")] = true
		}
	}
	sort.Strings(enabled)
	return enabled, imported
}

func anyReason(rows []table.Row, s string) bool {
	for _, r := range rows {
		if strings.Contains(r["reason"], s) {
			return true
		}
	}
	return false
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}
