// Package pacmanoracle runs Debian's pacman on a throwaway root, for tests
// that compare pkgpersist with what pacman itself says of that root.
package pacmanoracle

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/aptoracle"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// Root is a root pacman installs into, with its database, cache and log
// inside it and a pacman.conf beside it.
type Root struct {
	t      testing.TB
	Dir    string // the temporary directory holding the root
	Path   string // the root
	conf   string
	pacman string
}

// New copies fixture (a directory; "" for an empty root) into a new
// root. pacman does not put the root before HookDir (src/pacman/conf.c):
// the fixture's pacman.conf HookDir entries, or the default
// /etc/pacman.d/hooks/, are rewritten as host paths into the root.
func New(t testing.TB, fixture string) *Root {
	t.Helper()
	p := &Root{t: t, Dir: t.TempDir(), pacman: need.Program(t, "pacman")}
	p.Path = filepath.Join(p.Dir, "root")
	if fixture != "" {
		must(t, aptoracle.CopyTree(fixture, p.Path))
	}
	for _, d := range []string{"var/lib/pacman", "var/cache/pacman/pkg", "var/log"} {
		must(t, os.MkdirAll(filepath.Join(p.Path, d), 0o755))
	}
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

// ChecksumMismatches are the paths (inside the root) of the installed
// packages' files whose MD5 or SHA-256 pacman -Qkk finds differ from the
// package's mtree (src/pacman/check.c check_file_cksum: "<pkg>: <path>
// (SHA256 checksum mismatch)", after "backup file: " for a backup file),
// and pacman's output.
func (p *Root) ChecksumMismatches() (map[string]bool, string) {
	p.t.Helper()
	out, _ := p.Run("-Qkk")
	got := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		i := strings.Index(l, ": "+p.Path+"/")
		j := strings.LastIndex(l, " (")
		if i >= 0 && j > i && strings.HasSuffix(l, " checksum mismatch)") {
			got[l[i+len(": "+p.Path):j]] = true
		}
	}
	return got, out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
