// Package pacmanoracle runs Debian's pacman on a copy of a fixture root,
// for tests that compare pkgpersist with what pacman itself does and says
// of that root: a static busybox for the hooks' commands (pacman runs them
// chrooted into the root), a directory for their markers, and pacman's
// database directories.
package pacmanoracle

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/aptoracle"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// Root is a copy of a fixture root pacman can run hooks in.
type Root struct {
	t       testing.TB
	Dir     string // the temporary directory holding the root
	Path    string // the root
	conf    string // pacman.conf with HookDir pointed into the root
	pacman  string
	Markers string
}

// New copies the fixture root (an empty root when fixture is "").
func New(t testing.TB, fixture string) *Root {
	t.Helper()
	p := &Root{t: t, Dir: t.TempDir(), pacman: need.Program(t, "pacman")}
	busybox := need.Program(t, "busybox")
	p.Path = filepath.Join(p.Dir, "root")
	p.Markers = filepath.Join(p.Path, "markers")
	if fixture != "" {
		must(t, aptoracle.CopyTree(fixture, p.Path))
		must(t, keepExecBits(fixture, p.Path))
	}
	for _, d := range []string{"bin", "markers", "var/lib/pacman", "var/cache/pacman/pkg", "var/log"} {
		must(t, os.MkdirAll(filepath.Join(p.Path, d), 0o755))
	}
	bb, err := os.ReadFile(busybox)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(p.Path, "bin/busybox"), bb, 0o755))
	// pacman does not put the root before HookDir (src/pacman/conf.c):
	// the fixture's entries, or the default, are given as host paths
	conf := "[options]\nHookDir = /etc/pacman.d/hooks/\n"
	if data, err := os.ReadFile(filepath.Join(p.Path, "etc/pacman.conf")); err == nil {
		conf = string(data)
	}
	var lines []string
	for _, l := range strings.Split(conf, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == "HookDir" {
			var dirs []string
			for _, d := range strings.Fields(v) {
				dirs = append(dirs, filepath.Join(p.Path, d)+"/")
			}
			l = "HookDir = " + strings.Join(dirs, " ")
		}
		lines = append(lines, l)
	}
	if !strings.Contains(conf, "SigLevel") {
		lines = append(lines, "SigLevel = Never")
	}
	p.conf = filepath.Join(p.Dir, "pacman.conf")
	must(t, os.WriteFile(p.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return p
}

// keepExecBits gives the copies of the fixture's executable files their
// modes back (CopyTree writes every file 0644): a hook's program must be
// executable for execv.
func keepExecBits(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil || fi.Mode().Perm()&0o111 == 0 {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		return os.Chmod(filepath.Join(dst, rel), fi.Mode().Perm())
	})
}

// Run runs pacman on the root; ok is whether it succeeded.
func (p *Root) Run(args ...string) (string, bool) {
	p.t.Helper()
	args = append([]string{"--config", p.conf, "--root", p.Path, "--dbpath", filepath.Join(p.Path, "var/lib/pacman") + "/",
		"--cachedir", filepath.Join(p.Path, "var/cache/pacman/pkg"), "--logfile", filepath.Join(p.Path, "var/log/pacman.log"),
		"--noconfirm"}, args...)
	cmd := exec.Command(p.pacman, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// Ran lists the markers the hooks left, sorted.
func (p *Root) Ran() []string {
	names, err := os.ReadDir(p.Markers)
	must(p.t, err)
	var out []string
	for _, n := range names {
		out = append(out, n.Name())
	}
	sort.Strings(out)
	return out
}

// Owner is the package pacman -Qo names for a path inside the root ("" when
// it names none).
func (p *Root) Owner(path string) string {
	p.t.Helper()
	out, ok := p.Run("-Qqo", filepath.Join(p.Path, path))
	if !ok {
		return ""
	}
	return strings.TrimSpace(out)
}

// Modified are the paths (inside the root) of the installed packages'
// files that pacman -Qkk finds altered in what they are or hold, and
// pacman's output: src/pacman/check.c check_pkg_full reports "<pkg>:
// <path> (<what>)" (after "backup file: " for a backup file) where <what>
// is "SHA256 checksum mismatch" (check_file_cksum), "Symlink path
// mismatch" (check_file_link) or "File type mismatch" (check_file_type).
// Modification times, sizes and permissions are left out.
func (p *Root) Modified() (map[string]bool, string) {
	p.t.Helper()
	out, _ := p.Run("-Qkk")
	got := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		i := strings.Index(l, ": "+p.Path+"/")
		j := strings.LastIndex(l, " (")
		if i < 0 || j <= i {
			continue
		}
		switch what := l[j+2:]; {
		case strings.HasSuffix(what, " checksum mismatch)"), what == "Symlink path mismatch)", what == "File type mismatch)":
			got[l[i+len(": "+p.Path):j]] = true
		}
	}
	return got, out
}

// BuildPackage writes fixturepkg by hand into dir: a gzip'ed tar of
// .PKGINFO and its files (libalpm reads packages through libarchive, any
// compression). It ships usr/share/fixture/file, which the fixture's Path
// triggers match, and a hook of its own that no transaction of the tests
// triggers.
func BuildPackage(t testing.TB, dir string) string {
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

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
