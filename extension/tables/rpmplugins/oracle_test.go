package rpmplugins

import (
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
	"github.com/pkgpersist/pkgpersist/test/rpmtest"
)

var (
	dlopenFailed  = regexp.MustCompile(`(?m)^error: Failed to dlopen (\S+) `)
	notConfigured = regexp.MustCompile(`(?m)^D: Plugin %__transaction_(\S+) not configured$`)
)

// transaction adds a package to a transaction (rpm -i --test, into an
// empty root) with Debian's rpm at -vv, args first, and returns what it
// tried to dlopen and the plugins it found not configured
// (rpmtsSetupTransactionPlugins runs when the first package is added).
func transaction(t *testing.T, args ...string) (attempts, unconfigured []string) {
	t.Helper()
	dir := t.TempDir()
	pkg := rpmtest.Build(t, dir, rpmtest.Spec{Name: "p", Version: "1", Release: "1", Body: rpmtest.Noarch})
	args = append(args, "-vv", "--root", filepath.Join(dir, "root"), "--dbpath", filepath.Join(dir, "db"), "-i", "--test", pkg)
	cmd := exec.Command(need.Program(t, "rpm"), args...)
	cmd.Env = []string{"HOME=" + filepath.Join(dir, "home"), "LC_ALL=C", "PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput() // rpm fails when a plugin does not load
	for _, m := range dlopenFailed.FindAllStringSubmatch(string(out), -1) {
		attempts = append(attempts, m[1])
	}
	for _, m := range notConfigured.FindAllStringSubmatch(string(out), -1) {
		unconfigured = append(unconfigured, m[1])
	}
	if !strings.Contains(string(out), "D: ") {
		t.Fatalf("rpm -vv printed no debug output:\n%s", out)
	}
	return attempts, unconfigured
}

// compare: the shared objects rpm tried to load are the rows it loads or
// fails to load (paths inside root mapped by inRoot), plus one for each
// value only rpm computes; the plugins rpm finds not configured are the
// rows disabled or without a macro.
func compare(t *testing.T, rows []table.Row, attempts, unconfigured []string, inRoot func(string) string) {
	t.Helper()
	var want, wantUnconf []string
	unknown := 0
	for _, r := range rows {
		switch {
		case r["loaded"] == "1" || strings.HasPrefix(r["reason"], "rpm cannot dlopen"):
			want = append(want, r["path"])
		case strings.Contains(r["reason"], "computed when rpm runs") && !strings.HasPrefix(r["reason"], "not set up"):
			unknown++
		case strings.HasPrefix(r["reason"], "not configured") || strings.HasPrefix(r["reason"], "disabled"):
			wantUnconf = append(wantUnconf, r["name"])
		}
	}
	var got []string
	for _, a := range attempts {
		got = append(got, inRoot(a))
	}
	sort.Strings(want)
	sort.Strings(got)
	sort.Strings(wantUnconf)
	sort.Strings(unconfigured)
	if len(got) != len(want)+unknown {
		t.Errorf("rpm tried to dlopen %v; the table loads %v and %d computed at run time", got, want, unknown)
	}
	for _, w := range want {
		if i := sort.SearchStrings(got, w); i == len(got) || got[i] != w {
			t.Errorf("the table loads %s, rpm did not try it (tried %v)", w, got)
		}
	}
	if strings.Join(unconfigured, " ") != strings.Join(wantUnconf, " ") {
		t.Errorf("not configured: rpm %v, table %v", unconfigured, wantUnconf)
	}
}

// TestOracleFixture: Debian's rpm with the fixture's macro files and its
// plugin directory (%__plugindir defined to the directory inside the root,
// so that the plugin macros built on it point inside the root too) tries
// to dlopen what the table loads (the placeholders are no shared objects,
// so every attempt is an error that names the path).
func TestOracleFixture(t *testing.T) {
	abs, _ := filepath.Abs("../../../test/roots/rpm-plugins")
	rows, err := Rows(context.Background(), abs)
	if err != nil {
		t.Fatal(err)
	}
	dir := rows[0]["plugin_dir"]
	attempts, unconfigured := transaction(t, "--macros", abs+"/usr/lib/rpm/macros:"+abs+"/etc/rpm/macros.*", "--define", "__plugindir "+abs+dir)
	compare(t, rows, attempts, unconfigured, func(p string) string { return strings.TrimPrefix(p, abs) })
	if len(attempts) < 4 {
		t.Errorf("the fixture should make rpm try four plugins, it tried %v", attempts)
	}
}

// TestOracleHost: on this machine, what rpm tries to load when it adds a
// package is what the table loads; its %{__plugindir} is the table's.
func TestOracleHost(t *testing.T) {
	rows, err := Rows(context.Background(), "/")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(need.Program(t, "rpm"), "--eval", "%{__plugindir}").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r["plugin_dir"] != strings.TrimSpace(string(out)) {
			t.Errorf("%s: plugin_dir %q, rpm --eval %q", r["name"], r["plugin_dir"], out)
		}
	}
	attempts, unconfigured := transaction(t)
	compare(t, rows, attempts, unconfigured, func(p string) string { return p })
}
