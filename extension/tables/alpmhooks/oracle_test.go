package alpmhooks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/aptoracle"
	"github.com/pkgpersist/pkgpersist/test/need"
)

const rootsDir = "../../../test/roots"

// pacmanRoot is a copy of a fixture root that Debian's pacman can run
// hooks in: a static busybox for the hooks' commands (pacman runs them
// chrooted into the root), a directory for their markers, and pacman's
// database directories.
type pacmanRoot struct {
	t       *testing.T
	dir     string // the temporary directory holding the root
	root    string
	conf    string // pacman.conf with HookDir pointed into the root
	pacman  string
	markers string
}

// newPacmanRoot copies the fixture root (none for an empty root).
func newPacmanRoot(t *testing.T, fixture string) *pacmanRoot {
	t.Helper()
	p := &pacmanRoot{t: t, dir: t.TempDir(), pacman: need.Program(t, "pacman")}
	busybox := need.Program(t, "busybox")
	p.root = filepath.Join(p.dir, "root")
	p.markers = filepath.Join(p.root, "markers")
	if fixture != "" {
		must(t, aptoracle.CopyTree(filepath.Join(rootsDir, fixture), p.root))
	}
	for _, d := range []string{"bin", "markers", "var/lib/pacman", "var/cache/pacman/pkg", "var/log"} {
		must(t, os.MkdirAll(filepath.Join(p.root, d), 0o755))
	}
	bb, err := os.ReadFile(busybox)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(p.root, "bin/busybox"), bb, 0o755))
	// pacman does not put the root before HookDir (src/pacman/conf.c):
	// the fixture's entries, or the default, are given as host paths
	conf := "[options]\nHookDir = /etc/pacman.d/hooks/\n"
	if data, err := os.ReadFile(filepath.Join(p.root, "etc/pacman.conf")); err == nil {
		conf = string(data)
	}
	var lines []string
	for _, l := range strings.Split(conf, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == "HookDir" {
			var dirs []string
			for _, d := range strings.Fields(v) {
				dirs = append(dirs, filepath.Join(p.root, d)+"/")
			}
			l = "HookDir = " + strings.Join(dirs, " ")
		}
		lines = append(lines, l)
	}
	if !strings.Contains(conf, "SigLevel") {
		lines = append(lines, "SigLevel = Never")
	}
	p.conf = filepath.Join(p.dir, "pacman.conf")
	must(t, os.WriteFile(p.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return p
}

// run runs pacman on the root; ok is whether it succeeded.
func (p *pacmanRoot) run(args ...string) (string, bool) {
	p.t.Helper()
	args = append([]string{"--config", p.conf, "--root", p.root, "--dbpath", filepath.Join(p.root, "var/lib/pacman") + "/",
		"--cachedir", filepath.Join(p.root, "var/cache/pacman/pkg"), "--logfile", filepath.Join(p.root, "var/log/pacman.log"),
		"--noconfirm"}, args...)
	cmd := exec.Command(p.pacman, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// ran lists the markers the hooks left, sorted.
func (p *pacmanRoot) ran() []string {
	names, err := os.ReadDir(p.markers)
	must(p.t, err)
	var out []string
	for _, n := range names {
		out = append(out, n.Name())
	}
	sort.Strings(out)
	return out
}

// buildPackage writes fixturepkg by hand: a gzip'ed tar of .PKGINFO and
// its files (libalpm reads packages through libarchive, any compression).
// It ships usr/share/fixture/file, which the fixture's Path triggers
// match, and a hook of its own that no transaction of the test triggers.
func buildPackage(t *testing.T, dir string) string {
	t.Helper()
	tree := filepath.Join(dir, "pkgtree")
	files := map[string]string{
		".PKGINFO":                            "pkgname = fixturepkg\npkgver = 1.0-1\npkgdesc = pkgpersist fixture\narch = any\nsize = 3\n",
		"usr/share/fixture/file":              "hi\n",
		"usr/share/libalpm/hooks/80-pkg.hook": "[Trigger]\nOperation = Upgrade\nType = Package\nTarget = fixturepkg\n\n[Action]\nWhen = PostTransaction\nExec = /bin/busybox touch /markers/80-pkg\n",
	}
	for name, data := range files {
		p := filepath.Join(tree, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(data), 0o644))
	}
	pkg := filepath.Join(dir, "fixturepkg-1.0-1-any.pkg.tar.gz")
	cmd := exec.Command("tar", "-czf", pkg, ".PKGINFO", "usr")
	cmd.Dir = tree
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	return pkg
}

// effective lists the marker names of the hooks the table says run: the
// file names without .hook.
func effective(t *testing.T, root string) ([]string, []table.Row) {
	t.Helper()
	rows, err := Rows(context.Background(), root)
	must(t, err)
	var out []string
	for _, r := range rows {
		if r["effective"] == "1" {
			out = append(out, marker(r["exec"]))
		}
	}
	sort.Strings(out)
	return out, rows
}

// marker is the marker file a fixture hook's command writes: its last
// word names it (/markers/NAME).
func marker(execJSON string) string {
	i := strings.LastIndex(execJSON, "/markers/")
	if i < 0 {
		return execJSON
	}
	return strings.TrimRight(execJSON[i+len("/markers/"):], `"]`)
}

// TestOraclePacman: Debian's pacman installs a package into the fixture
// root and removes it again; the hooks whose markers appear are exactly
// the rows the table says are effective (every effective hook of the
// fixture triggers on one of the two transactions). After the install,
// the hook the package shipped is a row owned by it.
func TestOraclePacman(t *testing.T) {
	p := newPacmanRoot(t, "alpm")
	want, rows := effective(t, p.root)
	pkg := buildPackage(t, p.dir)
	if out, ok := p.run("-U", pkg); !ok {
		t.Fatalf("pacman -U failed:\n%s", out)
	}
	afterInstall, rows2 := effective(t, p.root)
	if out, ok := p.run("-R", "fixturepkg"); !ok {
		t.Fatalf("pacman -R failed:\n%s", out)
	}
	if got := p.ran(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("pacman ran %v\ntable says effective %v\n%s", got, want, dump(rows))
	}
	if !contains(afterInstall, "80-pkg") {
		t.Fatalf("after the install the packaged hook is not effective: %v", afterInstall)
	}
	owned := false
	for _, r := range rows2 {
		if r["path"] == "/usr/share/libalpm/hooks/80-pkg.hook" {
			owned = r["package"] == "fixturepkg"
		} else if r["package"] != "" {
			t.Errorf("%s: package %q, but no package owns it", r["path"], r["package"])
		}
	}
	if !owned {
		t.Fatalf("80-pkg.hook is not owned by fixturepkg:\n%s", dump(rows2))
	}
}

// TestOraclePacmanBroken: one invalid hook file makes pacman abort the
// transaction before any hook runs; the table says no hook is effective,
// and why.
func TestOraclePacmanBroken(t *testing.T) {
	p := newPacmanRoot(t, "alpm-broken")
	want, rows := effective(t, p.root)
	out, ok := p.run("-U", buildPackage(t, p.dir))
	if ok {
		t.Fatalf("pacman -U succeeded despite an invalid hook:\n%s", out)
	}
	if got := p.ran(); len(got) != 0 || len(want) != 0 {
		t.Fatalf("pacman ran %v\ntable says effective %v\n%s\n%s", got, want, out, dump(rows))
	}
	for _, r := range rows {
		if r["path"] == "/usr/share/libalpm/hooks/10-valid.hook" && !strings.Contains(r["reason"], "aborts every transaction") {
			t.Fatalf("10-valid.hook: reason %q", r["reason"])
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func dump(rows []table.Row) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r["path"] + " effective=" + r["effective"] + " reason=" + r["reason"] + " exec=" + r["exec"] + "\n")
	}
	return b.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
