// Package rpmtest builds rpm packages with the real rpmbuild and installs
// them with the real rpm and dnf into throwaway roots laid out as an EL
// host's (the database in /var/lib/rpm, DNF's history in /var/lib/dnf),
// for the tests that compare pkgpersist with what those programs wrote.
package rpmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// Spec is a package to build: the spec file's preamble and sections
// after Name, Version and Release.
type Spec struct {
	Name, Version, Release string
	Body                   string // e.g. "BuildArch: noarch\n…%description\nd\n%files\n"
	Defines                []string
}

// Noarch is the body of a package with no files and a harmless %post.
const Noarch = "Summary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%post\necho configured\n%files\n"

// Env is the environment rpm, rpmbuild and dnf run in: HOME is a
// directory whose .rpmmacros puts the database where an EL host has it
// (Debian's rpm otherwise uses ~/.rpmdb), in the root given to --root or
// --installroot.
func Env(t testing.TB, dir string) []string {
	t.Helper()
	home := filepath.Join(dir, "home")
	must(t, os.MkdirAll(home, 0o755))
	must(t, os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath /var/lib/rpm\n"), 0o644))
	return append(os.Environ(), "HOME="+home, "LC_ALL=C")
}

// Build builds the package with rpmbuild in dir and returns the .rpm.
func Build(t testing.TB, dir string, s Spec) string {
	t.Helper()
	need.Program(t, "rpmbuild")
	spec := filepath.Join(dir, s.Name+".spec")
	text := fmt.Sprintf("Name: %s\nVersion: %s\nRelease: %s\n%s", s.Name, s.Version, s.Release, s.Body)
	must(t, os.WriteFile(spec, []byte(text), 0o644))
	top := filepath.Join(dir, "rpmbuild-"+s.Name)
	args := []string{"-bb", "--define", "_topdir " + top}
	for _, d := range s.Defines {
		args = append(args, "--define", d)
	}
	run(t, Env(t, dir), "rpmbuild", append(args, spec)...)
	out, _ := filepath.Glob(filepath.Join(top, "RPMS", "*", s.Name+"-"+s.Version+"-*.rpm"))
	if len(out) != 1 {
		t.Fatalf("rpmbuild made %v", out)
	}
	return out[0]
}

// Repo makes a repository of the packages with createrepo_c and a DNF
// configuration that has it as its only repository, id "local"; it
// returns the configuration file.
func Repo(t testing.TB, dir string, rpms ...string) string {
	t.Helper()
	repo := filepath.Join(dir, "repo")
	must(t, os.MkdirAll(repo, 0o755))
	for _, r := range rpms {
		b, err := os.ReadFile(r)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(repo, filepath.Base(r)), b, 0o644))
	}
	run(t, nil, "createrepo_c", "--quiet", repo)
	conf := filepath.Join(dir, "dnf.conf")
	must(t, os.WriteFile(conf, []byte("[main]\nreposdir=/dev/null\ngpgcheck=0\n[local]\nname=local\nbaseurl=file://"+repo+"\ngpgcheck=0\n"), 0o644))
	return conf
}

// DNF runs the real dnf on root as its install root, without plugins (the
// host's local plugin would add its own repository and keep copies of the
// packages).
func DNF(t testing.TB, dir, root, conf string, args ...string) {
	t.Helper()
	run(t, Env(t, dir), "dnf", append([]string{"-y", "--noplugins", "--config", conf, "--installroot", root, "--releasever", "1"}, args...)...)
}

// DNFOut runs dnf like DNF and returns its output, also when it fails
// (dnf history info of a transaction that does not exist).
func DNFOut(t testing.TB, dir, root, conf string, args ...string) string {
	t.Helper()
	cmd := exec.Command(need.Program(t, "dnf"), append([]string{"--noplugins", "--config", conf, "--installroot", root, "--releasever", "1"}, args...)...)
	cmd.Env = Env(t, dir)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// RPM runs the real rpm on root.
func RPM(t testing.TB, dir, root string, args ...string) string {
	t.Helper()
	return RPMWith(t, dir, root, nil, args...)
}

// RPMWith is RPM with env (NAME=value) added to rpm's environment alone,
// e.g. SOURCE_DATE_EPOCH, which rpm records as the install time of what it
// installs.
func RPMWith(t testing.TB, dir, root string, env []string, args ...string) string {
	t.Helper()
	return run(t, append(Env(t, dir), env...), "rpm", append([]string{"--root", root}, args...)...)
}

func run(t testing.TB, env []string, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(need.Program(t, prog), args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
