// Package debtest builds Debian packages with the real dpkg-deb and
// installs them with the real dpkg into throwaway roots, for the oracle
// tests of the tables that read dpkg's database.
package debtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// Pkg is a package to build.
type Pkg struct {
	Name, Version, Arch, MultiArch string
	Control                        map[string]string // control-archive file -> text (postinst, triggers…)
}

// Build builds the package with dpkg-deb in dir and returns the .deb.
func Build(t testing.TB, dir string, p Pkg) string {
	t.Helper()
	need.Program(t, "dpkg-deb")
	src := filepath.Join(dir, "src-"+p.Name)
	Must(t, os.MkdirAll(filepath.Join(src, "DEBIAN"), 0o755))
	Must(t, os.MkdirAll(filepath.Join(src, "usr/share", p.Name), 0o755))
	Must(t, os.WriteFile(filepath.Join(src, "usr/share", p.Name, "f"), []byte(p.Name+"\n"), 0o644))
	ctl := "Package: " + p.Name + "\nVersion: " + p.Version + "\nArchitecture: " + p.Arch + "\nMaintainer: t <t@example.org>\nDescription: oracle package\n"
	if p.MultiArch != "" {
		ctl += "Multi-Arch: " + p.MultiArch + "\n"
	}
	Must(t, os.WriteFile(filepath.Join(src, "DEBIAN/control"), []byte(ctl), 0o644))
	for k, v := range p.Control {
		mode := os.FileMode(0o755)
		if k == "triggers" {
			mode = 0o644
		}
		Must(t, os.WriteFile(filepath.Join(src, "DEBIAN", k), []byte(v), mode))
	}
	deb := filepath.Join(dir, p.Name+".deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", src, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	return deb
}

// NewRoot makes a root with an empty dpkg database and log directories.
func NewRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log/apt"} {
		Must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	Must(t, os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644))
	return root
}

// DpkgOptions make dpkg work on root as its own system: database, log,
// and maintainer scripts run outside the root (they must be harmless).
func DpkgOptions(root string) []string {
	return []string{"--root=" + root, "--admindir=" + root + "/var/lib/dpkg", "--log=" + root + "/var/log/dpkg.log",
		"--force-not-root", "--force-script-chrootless"}
}

// Dpkg runs the real dpkg on root.
func Dpkg(t testing.TB, root string, args ...string) {
	t.Helper()
	need.Program(t, "dpkg")
	cmd := exec.Command("dpkg", append(DpkgOptions(root), args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg %v: %v\n%s", args, err, out)
	}
}

// Must fails the test on an error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
