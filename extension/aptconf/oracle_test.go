package aptconf

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/aptoracle"
)

var (
	baselineOnce sync.Once
	baseline     []aptoracle.Item
)

// aptDefaults is what apt-config dump prints for an empty root: apt's
// defaults, plus the keys apt-config sets after reading (architectures, its
// command line), which the comparison replays before reading the fixture.
// RootDir, which the oracle sets, is left out.
func aptDefaults(t *testing.T) []aptoracle.Item {
	baselineOnce.Do(func() {
		items, err := aptoracle.Dump(t, t.TempDir())
		if err != nil {
			t.Fatalf("apt-config on an empty root: %v", err)
		}
		for _, it := range items {
			if !strings.EqualFold(it.Tag, "RootDir") {
				baseline = append(baseline, it)
			}
		}
	})
	if baseline == nil {
		t.Fatal("no baseline")
	}
	return baseline
}

// split separates a dump into the items it shares with the baseline (a
// multiset: apt sets some of them after reading, so their order differs)
// and the sequence of the others, in dump order.
func split(items, base []aptoracle.Item) (shared map[string]int, rest []string) {
	avail := map[string]int{}
	for _, it := range base {
		avail[it.Tag+"\x00"+it.Value]++
	}
	shared = map[string]int{}
	for _, it := range items {
		if strings.EqualFold(it.Tag, "RootDir") {
			continue
		}
		k := it.Tag + "\x00" + it.Value
		if avail[k] > 0 {
			avail[k]--
			shared[k]++
			continue
		}
		rest = append(rest, QuoteString(it.Tag, "=\"\n")+" "+QuoteString(it.Value, "=\"\n"))
	}
	return shared, rest
}

var aptSyntaxError = regexp.MustCompile(`E: Syntax error (\S+):(\d+):`)

// compareWithApt loads root with this package and with apt-config and
// fails on any difference in the resulting tree, or in whether (and
// where) apt refuses the configuration.
func compareWithApt(t *testing.T, root string) {
	t.Helper()
	conf := New()
	base := aptDefaults(t)
	for _, it := range base {
		conf.Set(it.Tag, it.Value, Origin{})
	}
	res := LoadInto(conf, fsroot.New(root), "", nil)
	items, aptErr := aptoracle.Dump(t, root)
	if aptErr != nil || res.Failed != nil {
		if aptErr == nil || res.Failed == nil {
			t.Fatalf("apt error: %v; our error: %v", aptErr, res.Failed)
		}
		if m := aptSyntaxError.FindStringSubmatch(aptErr.Error()); m != nil && strings.HasPrefix(res.Failed.Msg, "syntax error") {
			if filepath.Base(m[1]) != filepath.Base(res.Failed.Path) || m[2] != itoa(res.Failed.Line) {
				t.Fatalf("apt fails at %s:%s, we at %s", filepath.Base(m[1]), m[2], res.Failed)
			}
		}
		return
	}
	var gotItems []aptoracle.Item
	conf.Walk(func(it *Item, tag string) { gotItems = append(gotItems, aptoracle.Item{Tag: tag, Value: it.Value}) })
	wantShared, wantRest := split(items, base)
	gotShared, gotRest := split(gotItems, base)
	if want, got := strings.Join(wantRest, "\n"), strings.Join(gotRest, "\n"); want != got {
		t.Fatalf("tree differs from apt-config dump:\n%s", lineDiff(want, got))
	}
	for k, n := range wantShared {
		if gotShared[k] != n {
			t.Fatalf("default %q: apt keeps %d, we keep %d", k, n, gotShared[k])
		}
	}
	for k, n := range gotShared {
		if wantShared[k] != n {
			t.Fatalf("default %q: apt keeps %d, we keep %d", k, wantShared[k], n)
		}
	}
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			lo := max(0, i-2)
			return "first difference at line " + itoa(i+1) + ":\napt:  " + strings.Join(w[lo:min(len(w), i+3)], "\n      ") + "\nours: " + strings.Join(g[lo:min(len(g), i+3)], "\n      ")
		}
	}
	return ""
}

// writeRoot makes a root whose apt.conf.d holds the given files.
func writeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if !strings.Contains(name, "/") {
			p = filepath.Join(root, "etc/apt/apt.conf.d", name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// grammarCases exercise apt.conf(5) and the corners of apt's reader.
var grammarCases = map[string]map[string]string{
	"scalar":                 {"10a.conf": `APT::Foo "bar";` + "\n"},
	"nested scopes":          {"10a.conf": "DPkg {\n  Post-Invoke {\n    \"echo one\";\n    \"echo two\";\n  };\n};\n"},
	"list append":            {"10a.conf": "DPkg::Post-Invoke:: \"a\";\nDPkg::Post-Invoke:: \"b\";\n"},
	"case insensitive":       {"10a.conf": "dpkg::post-invoke:: \"a\";\nDPKG::POST-INVOKE:: \"b\";\nDpkg::Post-invoke::named \"c\";\ndpkg::post-invoke::NAMED \"d\";\n"},
	"comments":               {"10a.conf": "// line comment\n# hash comment\nA \"x // not a comment\"; // a comment\nB \"y # not either\"; # but this is\n/* block\n C \"z\";\n*/ D \"w\"; /* inline */ E \"v\";\n"},
	"clear":                  {"10a.conf": "DPkg::Post-Invoke:: \"a\";\n", "20b.conf": "#clear DPkg::Post-Invoke;\nDPkg::Post-Invoke:: \"b\";\n"},
	"clear defaults":         {"10a.conf": "#clear Dir::Bin::solvers;\nDir::Bin::solvers:: \"/opt/s\";\n"},
	"include":                {"10a.conf": "#include \"etc/apt/inc.txt\";\n", "etc/apt/inc.txt": "Included \"yes\";\n"},
	"include dir":            {"10a.conf": "#include etc/apt/incdir/;\n", "etc/apt/incdir/a.conf": "A \"1\";\n", "etc/apt/incdir/b": "B \"2\";\n", "etc/apt/incdir/c.txt": "C \"3\";\n"},
	"include missing":        {"10a.conf": "#include \"etc/apt/nope\";\n"},
	"percent escapes":        {"10a.conf": "A \"%41%2\";\nB %41%42;\nC { \"%41\"; };\nD:: x%20y;\n"},
	"odd quoting":            {"10a.conf": "A \"a\" \"b\"   \"c\";\nB \"x\"y;\nC x\"y z\"w;\n\"D::E\" \"f\";\nF [a b];\n"},
	"multi line":             {"10a.conf": "A\n\"value\"\n;\nB \"one\ntwo\";\n\"\";\n"},
	"semicolons":             {"10a.conf": "A \"x\";;;\nB { C \"y\"; } ; D \"z\";\n{\n"},
	"block no name":          {"10a.conf": "{ A \"x\"; };\n"},
	"extra junk":             {"10a.conf": "A \"x\" y \"z\";\n"},
	"unterminated":           {"10a.conf": "A \"x;\n"},
	"unterminated comment":   {"10a.conf": "A \"x\";\n/* never closed\nB \"y\";\n"},
	"directive scope":        {"10a.conf": "X { #clear Y; };\n"},
	"unknown directive":      {"10a.conf": "#frobnicate x;\n"},
	"clear no arg":           {"10a.conf": "#clear;\n"},
	"junk at eof":            {"10a.conf": "A \"x\";\nB \"y\"\n"},
	"junk at eof no newline": {"10a.conf": "A \"x\";\nB \"y\""},
	"colons":                 {"10a.conf": "A:::B \"1\";\nC::::D \"2\";\nE:: \"3\";\n::F \"4\";\n"},
	"tabs and cr":            {"10a.conf": "A\t\"x\ty\";\r\nB \"z\";\r\n"},
	"nul byte":               {"10a.conf": "A \"x\x00y\";\nB \"z\";\n"},
	"high bytes":             {"10a.conf": "A \"caf\xc3\xa9\";\n\xc3\xa9 \"x\";\n"},
	"long value":             {"10a.conf": "A \"" + strings.Repeat("v", 1500) + "\";\nB " + strings.Repeat("w", 5000) + ";\n"},
	"long line":              {"10a.conf": strings.Repeat(" ", 4090) + "A \"x\";\n"},
	"braces in quotes":       {"10a.conf": "A \"{;}\";\nB { \"}\"; };\n"},
	"main file":              {"10a.conf": "A \"parts\";\n", "etc/apt/apt.conf": "A \"main\";\nB \"main\";\n"},
	"parts override":         {"10a.conf": "Dir::Etc::main \"other.conf\";\n", "etc/apt/other.conf": "Other \"read\";\n", "etc/apt/apt.conf": "Main \"not read\";\n"},
	"ignored names":          {"10a.conf": "A \"1\";\n", "20b.bak": "B \"2\";\n", "30c": "C \"3\";\n", "40d.": "D \"4\";\n", "50e~": "E \"5\";\n", ".60f.conf": "F \"6\";\n", "70g.conf.dpkg-old": "G \"7\";\n", "80h h.conf": "H \"8\";\n", "90i:j.conf": "I \"9\";\n", "a.b.conf": "J \"10\";\n"},
	"order":                  {"b.conf": "L:: \"b\";\n", "A.conf": "L:: \"A\";\n", "10.conf": "L:: \"10\";\n", "_x.conf": "L:: \"_x\";\n", "9.conf": "L:: \"9\";\n"},
	"deep nesting":           {"10a.conf": strings.Repeat("a {", 300) + "b \"c\";" + strings.Repeat("};", 300) + "\n"},
	"empty file":             {"10a.conf": ""},
	"only newline":           {"10a.conf": "\n"},
}

func TestGrammarAgainstApt(t *testing.T) {
	for name, files := range grammarCases {
		t.Run(name, func(t *testing.T) {
			compareWithApt(t, writeRoot(t, files))
		})
	}
}

// TestDefaultsAreApts checks the built-in defaults this package starts from
// against the apt on this machine.
func TestDefaultsAreApts(t *testing.T) {
	apt := New()
	for _, it := range aptDefaults(t) {
		apt.Set(it.Tag, it.Value, Origin{})
	}
	for _, d := range Defaults {
		name := strings.TrimSuffix(d[0], "::")
		if strings.HasSuffix(d[0], "::") {
			found := false
			for _, v := range apt.FindVector(name) {
				found = found || v == d[1]
			}
			if !found {
				t.Errorf("apt has no %s entry %q", name, d[1])
			}
			continue
		}
		if got := apt.Find(name); got != d[1] {
			t.Errorf("%s: apt's default is %q, ours %q", name, got, d[1])
		}
	}
}
