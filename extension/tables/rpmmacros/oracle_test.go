package rpmmacros

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmmacro"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/need"
)

const rootsDir = "../../../test/roots"

// entry is one macro of rpm's table as `rpm --showrc` prints it.
type entry struct {
	level string
	opts  string
	param bool
	body  string
}

var header = regexp.MustCompile(`^ *(-?\d+)[:=] ([A-Za-z_][A-Za-z0-9_]*)(\(([^)]*)\))?(\t(.*))?$`)

// showrc runs Debian's rpm with the given macro path (and rpmrc files when
// rcfile is set) and HOME, and returns its macro table by name.
func showrc(t *testing.T, macroPath, rcfile, home string) (map[string]entry, []string) {
	t.Helper()
	rpm := need.Program(t, "rpm")
	args := []string{"--showrc"}
	if macroPath != "" {
		args = append([]string{"--macros", macroPath}, args...)
	}
	if rcfile != "" {
		args = append([]string{"--rcfile", rcfile}, args...)
	}
	cmd := exec.Command(rpm, args...)
	cmd.Env = []string{"HOME=" + home, "LC_ALL=C", "PATH=" + os.Getenv("PATH")}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	// rpm exits 1 when a macro file has a line it rejects, after it
	// printed its table
	out, err := cmd.Output()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("rpm %v: %v\n%s", args, err, stderr.String())
	}
	s := string(out)
	start := strings.Index(s, "========================\n")
	end := strings.LastIndex(s, "\n======================== active")
	if start < 0 || end < start {
		t.Fatalf("no macro table in rpm --showrc:\n%s", s)
	}
	table := map[string]entry{}
	var cur string
	for _, l := range strings.Split(s[start+25:end], "\n") {
		if m := header.FindStringSubmatch(l); m != nil {
			cur = m[2]
			table[cur] = entry{level: m[1], opts: m[4], param: m[3] != "", body: m[6]}
			continue
		}
		e := table[cur]
		e.body += "\n" + l
		table[cur] = e
	}
	var rejected []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if m := rejectedLine.FindStringSubmatch(l); m != nil {
			rejected = append(rejected, m[1]+": "+m[2])
		}
	}
	return table, rejected
}

// rejectedLine is rpm's error for a macro file line it defines nothing from.
var rejectedLine = regexp.MustCompile(`^error: (.*): line \d+: (Macro .*)$`)

// compareRejected checks that every line rpm rejects is a row with rpm's
// reason, and that no other row claims rpm rejects it.
func compareRejected(t *testing.T, root string, rows []table.Row, rejected []string) {
	t.Helper()
	for i := range rejected {
		if root != "/" {
			rejected[i] = strings.TrimPrefix(rejected[i], root)
		}
	}
	var got []string
	for _, r := range rows {
		if msg, ok := strings.CutPrefix(r["reason"], "rpm defines nothing from this line: "); ok && r["loaded"] == "1" {
			got = append(got, r["path"]+": "+msg)
		}
	}
	sort.Strings(got)
	sort.Strings(rejected)
	if strings.Join(got, "\n") != strings.Join(rejected, "\n") {
		t.Errorf("lines rpm rejects:\n%s\ntable:\n%s", strings.Join(rejected, "\n"), strings.Join(got, "\n"))
	}
}

// rootedPath is rpm's default macro path with every file inside root
// (%{_target} left for rpm to expand).
func rootedPath(root, vendor string) string {
	var p []string
	for _, e := range macroPath("%{_target}", vendor) {
		if e.home {
			p = append(p, e.pattern)
			continue
		}
		p = append(p, filepath.Join(root, e.pattern))
	}
	return strings.Join(p, ":")
}

// compare checks the effective rows of rpm's own load (loaded, not a
// user's file) against rpm's table: every macro a file defines at level
// -13 is an effective row with the same options and body, and every
// effective row is rpm's macro of that name.
func compare(t *testing.T, rows []table.Row, rpm map[string]entry) {
	t.Helper()
	eff := map[string]table.Row{}
	for _, r := range rows {
		if r["effective"] != "1" || r["users"] != "" && !strings.Contains(","+r["users"]+",", ",root,") {
			continue
		}
		if prev, dup := eff[r["name"]]; dup {
			t.Errorf("%s effective twice: %s:%s and %s:%s", r["name"], prev["path"], prev["line"], r["path"], r["line"])
		}
		eff[r["name"]] = r
	}
	var names []string
	for n, e := range rpm {
		if e.level == "-13" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		e := rpm[n]
		r, ok := eff[n]
		if !ok {
			t.Errorf("rpm defines %%%s from a macro file (%q) but no row is effective", n, e.body)
			continue
		}
		// --showrc prints no "()" for a parametric macro without options
		if r["value"] != e.body || r["options"] != e.opts || e.param && r["parametric"] != "1" {
			t.Errorf("%%%s at %s:%s: table (%q, %q, parametric %s), rpm (%q, %q, %v)", n, r["path"], r["line"], r["options"], r["value"], r["parametric"], e.opts, e.body, e.param)
		}
	}
	for n, r := range eff {
		if e, ok := rpm[n]; !ok || e.level != "-13" {
			t.Errorf("effective row %%%s at %s:%s is not rpm's macro from a file (rpm: %+v)", n, r["path"], r["line"], e)
		}
	}
}

// TestOracleShowrcFixtures: Debian's rpm 4.18, given the fixture's macro
// path (--macros, every file inside the root), its rpmrc (--rcfile) and
// HOME at the root's root home, holds exactly the effective rows.
// `rpm --root R` is no oracle here: rpm reads its configuration and
// macros from the host before it enters the root (rpmcliInit reads them
// before --root is applied to the transaction).
func TestOracleShowrcFixtures(t *testing.T) {
	root := filepath.Join(rootsDir, "rpm-macros")
	abs, _ := filepath.Abs(root)
	rows, err := Rows(context.Background(), abs)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := fsroot.Open(abs)
	if err != nil {
		t.Fatal(err)
	}
	ven, _ := vendor(fs)
	fs.Close()
	rpm, rejected := showrc(t, rootedPath(abs, ven), filepath.Join(abs, "usr/lib/rpm/rpmrc"), filepath.Join(abs, "root"))
	compare(t, rows, rpm)
	compareRejected(t, abs, rows, rejected)
	if len(rejected) < 8 {
		t.Errorf("the fixture should make rpm reject its hostile lines, rpm rejected %v", rejected)
	}
}

// TestOracleShowrcHost: on this machine (root "/"), the effective rows are
// rpm's own macros from files, as `rpm --showrc` prints them for root.
func TestOracleShowrcHost(t *testing.T) {
	need.Program(t, "rpm")
	if _, err := os.Stat("/usr/lib/rpm/macros"); err != nil {
		need.Missing(t, "rpm's macro files are not installed")
	}
	rows, err := Rows(context.Background(), "/")
	if err != nil {
		t.Fatal(err)
	}
	home := "/root"
	for _, r := range rows {
		if strings.HasSuffix(r["path"], "/.rpmmacros") && strings.Contains(","+r["users"]+",", ",root,") {
			home = filepath.Dir(r["path"])
		}
	}
	rpm, rejected := showrc(t, "", "", home)
	compare(t, rows, rpm)
	compareRejected(t, "/", rows, rejected)
}

// TestOracleExpandHost: the expansion of plain references (what
// rpm_plugins relies on) equals `rpm --eval` for this machine's effective
// single-line macros that need no run-time evaluation.
func TestOracleExpandHost(t *testing.T) {
	rpmPath := need.Program(t, "rpm")
	fs, err := fsroot.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	macros, _, tgt := Evaluate(context.Background(), fs)
	m := Defined(macros, tgt)
	var names, want []string
	for _, n := range m.Names() {
		d, _ := m.Lookup(n)
		v, err := m.Expand("%{" + n + "}")
		if err != nil || d.Parametric || strings.ContainsAny(v, "\n") || strings.Contains(v, "%") {
			continue
		}
		names = append(names, n)
		want = append(want, v)
	}
	if len(names) < 50 {
		t.Fatalf("only %d macros to compare", len(names))
	}
	args := []string{}
	for _, n := range names {
		args = append(args, "--eval", "%{"+n+"}")
	}
	cmd := exec.Command(rpmPath, args...)
	cmd.Env = []string{"HOME=/root", "LC_ALL=C", "PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(names) {
		t.Fatalf("rpm printed %d lines for %d macros", len(got), len(names))
	}
	for i, n := range names {
		if got[i] != want[i] {
			t.Errorf("%%{%s}: table %q, rpm --eval %q", n, want[i], got[i])
		}
	}
}

// TestOracleParserCorpus: for every input of the macro reader's fuzz
// corpus, loaded alone as rpm's macro path (--macros), rpm's table of
// file macros is the last accepted definition of each name, with its
// options and body, and rpm rejects exactly the lines the reader rejects.
func TestOracleParserCorpus(t *testing.T) {
	need.Program(t, "rpm")
	seeds, _ := filepath.Glob("../../rpmmacro/testdata/fuzz/FuzzAll/*")
	if len(seeds) < 20 {
		t.Fatalf("only %d seeds", len(seeds))
	}
	dir := t.TempDir()
	for _, seed := range seeds {
		raw, err := os.ReadFile(seed)
		if err != nil {
			t.Fatal(err)
		}
		_, lit, _ := strings.Cut(strings.TrimSpace(string(raw)), "[]byte(")
		data, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Fatalf("%s: %v", seed, err)
		}
		file := filepath.Join(dir, "macros")
		if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		defs, err := rpmmacro.All(strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		rows := effective([]*File{{path: file, defs: defs}}, "")
		var trows []table.Row
		for _, m := range rows {
			trows = append(trows, table.Row{"name": m.Name, "value": m.Body, "options": m.Opts, "parametric": table.Bool(m.Parametric),
				"effective": table.Bool(m.Effective && !replacedAfterLoad[m.Name] && m.Name != "optflags"), "reason": m.Reason, "loaded": "1", "path": file})
		}
		rpm, rejected := showrc(t, file, "", dir)
		for _, n := range []string{"_target", "_target_cpu", "_target_os", "optflags"} {
			delete(rpm, n)
		}
		t.Run(filepath.Base(seed), func(t *testing.T) {
			compare(t, trows, rpm)
			compareRejected(t, "/", trows, rejected)
		})
	}
}

// TestOracleRunsCode: Debian's rpm expands macro files whose values run
// code in each of the ways FlagsWith and ShellCommandsWith follow (and
// some that run nothing); the shell commands touch a marker named after
// the macro. rpm ran a macro's shell exactly when the table says so, and
// the command hook_targets lists for it is the one that ran.
func TestOracleRunsCode(t *testing.T) {
	rpm := need.Program(t, "rpm")
	dir := t.TempDir()
	sh := func(name string) string { return "touch${IFS}" + dir + "/" + name }
	defs := map[string]string{
		"direct":     "%(" + sh("direct") + ")",
		"escaped":    "%%(" + sh("escaped") + ")",
		"expandc":    "%{expand:%%(" + sh("expandc") + ")}",
		"expandb":    "%{expand %%(" + sh("expandb") + ")}",
		"expandnb":   "%expand %%(" + sh("expandnb") + ")",
		"twice":      "%{expand:%%%%(" + sh("twice") + ")}",
		"nested":     "%{expand:%{expand:%%%%(" + sh("nested") + ")}}",
		"viaglobal":  "%{global _g_x %%(" + sh("viaglobal") + ")}%{_g_x}",
		"viadefine":  "%{define _d_x %%(" + sh("viadefine") + ")}%{_d_x}",
		"useesc":     "%{expand:%useesc_a}",
		"useesc_a":   "%%(" + sh("useesc") + ")",
		"plainref":   "%plainref_a",
		"plainref_a": "%%(" + sh("plainref") + ")",
		"tab":        "%{expand\t%%(" + sh("tab") + ")}",
	}
	var file strings.Builder
	var names []string
	for n, body := range defs {
		file.WriteString("%" + n + "\t" + body + "\n")
		names = append(names, n)
	}
	sort.Strings(names)
	mf := filepath.Join(dir, "macros")
	if err := os.WriteFile(mf, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Macros{defs: map[string]Macro{}}
	for n, body := range defs {
		m.defs[n] = Macro{Def: rpmmacro.Def{Name: n, Body: body}}
	}
	runs := 0
	for _, n := range names {
		if strings.HasSuffix(n, "_a") {
			continue
		}
		cmd := exec.Command(rpm, "--macros", mf, "--eval", "%"+n)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, _ := cmd.CombinedOutput()
		_, err := os.Stat(filepath.Join(dir, n))
		ran := err == nil
		if got := FlagsWith(defs[n], m).Shell; got != ran {
			t.Errorf("%%%s: rpm ran its shell: %v; the table says shell = %v (rpm: %q)", n, ran, got, out)
		}
		cmds := ShellCommandsWith(defs[n], m)
		if ran != slices.Contains(cmds, sh(n)) {
			t.Errorf("%%%s: rpm ran %v; shell commands %q", n, ran, cmds)
		}
		if ran {
			runs++
		}
	}
	// direct, expandc, expandb, expandnb, nested, viaglobal, useesc
	if runs != 7 {
		t.Errorf("rpm ran %d of the macros' shells, want 7", runs)
	}
}
