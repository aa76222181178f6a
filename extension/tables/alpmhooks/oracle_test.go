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
	"github.com/pkgpersist/pkgpersist/test/need"
	"github.com/pkgpersist/pkgpersist/test/pacmanoracle"
)

const rootsDir = "../../../test/roots"

// pacmanRoot is a copy of a fixture root that Debian's pacman can run
// hooks in: a static busybox for the hooks' commands (pacman runs them
// chrooted into the root) and a directory for their markers.
type pacmanRoot struct {
	*pacmanoracle.Root
	t       *testing.T
	markers string
}

// newPacmanRoot copies the fixture root (none for an empty root).
func newPacmanRoot(t *testing.T, fixture string) *pacmanRoot {
	t.Helper()
	if fixture != "" {
		fixture = filepath.Join(rootsDir, fixture)
	}
	p := &pacmanRoot{Root: pacmanoracle.New(t, fixture), t: t}
	busybox := need.Program(t, "busybox")
	p.markers = filepath.Join(p.Path, "markers")
	for _, d := range []string{"bin", "markers"} {
		must(t, os.MkdirAll(filepath.Join(p.Path, d), 0o755))
	}
	bb, err := os.ReadFile(busybox)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(p.Path, "bin/busybox"), bb, 0o755))
	return p
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
// every row's package is the one pacman -Qo names (the hook the package
// shipped is owned by it; the fixture's database owns two more) and
// package_modified is whether pacman -Qkk finds its checksum changed.
func TestOraclePacman(t *testing.T) {
	p := newPacmanRoot(t, "alpm")
	want, rows := effective(t, p.Path)
	pkg := buildPackage(t, p.Dir)
	if out, ok := p.Run("-U", pkg); !ok {
		t.Fatalf("pacman -U failed:\n%s", out)
	}
	afterInstall, rows2 := effective(t, p.Path)
	modified, qkk := p.ChecksumMismatches()
	owners := map[string]string{}
	for _, r := range rows2 {
		owners[r["path"]] = p.Owner(r["path"])
	}
	if out, ok := p.Run("-R", "fixturepkg"); !ok {
		t.Fatalf("pacman -R failed:\n%s", out)
	}
	if got := p.ran(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("pacman ran %v\ntable says effective %v\n%s", got, want, dump(rows))
	}
	if !contains(afterInstall, "80-pkg") {
		t.Fatalf("after the install the packaged hook is not effective: %v", afterInstall)
	}
	if owners["/usr/share/libalpm/hooks/80-pkg.hook"] != "fixturepkg" || !modified["/usr/share/libalpm/hooks/40-pre.hook"] {
		t.Fatalf("pacman does not own 80-pkg.hook or find 40-pre.hook modified: %v\n%s", owners, qkk)
	}
	for _, r := range rows2 {
		if r["package"] != owners[r["path"]] || r["package_modified"] != table.Bool(modified[r["path"]]) {
			t.Errorf("%s: package %q modified %s; pacman -Qo %q, -Qkk modified %v", r["path"], r["package"], r["package_modified"], owners[r["path"]], modified[r["path"]])
		}
	}
}

// TestOraclePacmanBroken: one invalid hook file makes pacman abort the
// transaction before any hook runs; the table says no hook is effective,
// and why.
func TestOraclePacmanBroken(t *testing.T) {
	p := newPacmanRoot(t, "alpm-broken")
	want, rows := effective(t, p.Path)
	out, ok := p.Run("-U", buildPackage(t, p.Dir))
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
