// Package packages_test installs the .deb and .rpm that make dist writes
// with the real dpkg and rpm into throwaway roots, their maintainer
// scripts run chrooted there by a static busybox shell (as on a minimal
// system), and checks what they install, how osqueryd's autoload list
// changes on install, reinstall, upgrade and removal, and the conffile.
package packages_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pkgpersist/pkgpersist/collector/cli"
	"github.com/pkgpersist/pkgpersist/collector/clidoc"
	"github.com/pkgpersist/pkgpersist/collector/distbin"
	"github.com/pkgpersist/pkgpersist/test/distbuild"
	"github.com/pkgpersist/pkgpersist/test/need"
	"github.com/pkgpersist/pkgpersist/test/packages"
	"github.com/pkgpersist/pkgpersist/test/unitcheck"
)

var dist = &distbuild.Dist{Arches: []string{"amd64", "arm64"}, Packages: true}

func TestMain(m *testing.M) {
	code := m.Run()
	dist.Remove()
	os.Exit(code)
}

const (
	ext  = "/usr/lib/pkgpersist/pkgpersist.ext"
	load = "/etc/osquery/extensions.load"
	env  = "/etc/pkgpersist/serve.env"
	// what an administrator had in the list before: other extensions, a
	// comment, and a last line without its newline
	before = "/opt/vendor/one.ext\n# keep me\n/usr/local/lib/two.ext"
)

// rpmArch is rpm's name of each GOARCH.
var rpmArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// packageFile is the one file of dir matching pattern.
func packageFile(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) != 1 {
		t.Fatalf("%s in %s: %v", pattern, dir, m)
	}
	return m[0]
}

// expected is every file the package installs (directories aside),
// zshDir the distribution's vendor directory of zsh functions: a man page
// per command of the command line, as it defines them.
func expected(zshDir string) []string {
	files := []string{
		"/usr/bin/pkgpersist", ext, env,
		"/usr/lib/systemd/system/pkgpersist-serve.service", "/usr/lib/systemd/system/pkgpersist-watch.service",
		"/usr/share/bash-completion/completions/pkgpersist", zshDir + "/_pkgpersist",
		"/usr/share/doc/pkgpersist/README.md", "/usr/share/doc/pkgpersist/copyright",
	}
	if _, err := os.Stat("../../CHANGELOG.md"); err == nil {
		files = append(files, "/usr/share/doc/pkgpersist/CHANGELOG.md")
	}
	clidoc.FromApp(cli.App(io.Discard, io.Discard)).Walk(func(c *clidoc.Command) {
		files = append(files, "/usr/share/man/man1/"+c.Name()+".1.gz")
	})
	sort.Strings(files)
	return files
}

// modes are the modes of what the package installs, 0644 for the rest;
// everything is root's.
var modes = map[string]os.FileMode{
	"/usr/bin/pkgpersist": 0o755, ext: 0o755, env: 0o640,
	"/usr/lib/pkgpersist": os.ModeDir | 0o755, "/etc/pkgpersist": os.ModeDir | 0o750,
}

// newRoot is a root with a static busybox as /bin/sh (and the mkdir the
// scripts may call) for maintainer scripts chrooted into it, and an
// autoload list holding the lines of before.
func newRoot(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		need.Missing(t, "dpkg and rpm chroot into the root for maintainer scripts: root only")
	}
	busybox := need.Program(t, "busybox")
	r := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(r, "bin"), 0o755))
	b, err := os.ReadFile(busybox)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(r, "bin", "busybox"), b, 0o755))
	if out, err := exec.Command("file", "-b", filepath.Join(r, "bin", "busybox")).Output(); err == nil && !strings.Contains(string(out), "statically linked") {
		t.Fatalf("busybox is not static (busybox-static): %s", out)
	}
	for _, app := range []string{"sh", "mkdir"} {
		must(t, os.Symlink("busybox", filepath.Join(r, "bin", app)))
	}
	// a running systemd, as the scripts tell it, whose systemctl writes
	// down what it is asked, and the /dev/null the scripts send its
	// output to
	must(t, os.MkdirAll(filepath.Join(r, "run/systemd/system"), 0o755))
	must(t, os.MkdirAll(filepath.Join(r, "dev"), 0o755))
	must(t, syscall.Mknod(filepath.Join(r, "dev/null"), syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(t, os.WriteFile(filepath.Join(r, "bin/systemctl"), []byte("#!/bin/sh\necho \"$*\" >>"+systemctlLog+"\n"), 0o755))
	must(t, os.MkdirAll(filepath.Join(r, "etc/osquery"), 0o755))
	must(t, os.WriteFile(filepath.Join(r, load), []byte(before), 0o644))
	return r
}

const systemctlLog = "/systemctl.log"

// systemctl checks what the scripts asked systemctl since the last call:
// a reload always, and the calls want names (as "verb units"), in order.
func systemctl(t *testing.T, root, when string, want ...string) {
	t.Helper()
	p := filepath.Join(root, systemctlLog)
	b, err := os.ReadFile(p)
	must(t, err)
	must(t, os.Remove(p))
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if l != "daemon-reload" {
			got = append(got, l)
		}
	}
	if !strings.Contains(string(b), "daemon-reload") || !slices.Equal(got, want) {
		t.Errorf("%s: systemctl was asked %q, want daemon-reload and %q", when, b, want)
	}
}

const (
	restart = "try-restart pkgpersist-serve.service pkgpersist-watch.service"
	disable = "--no-reload disable --now pkgpersist-serve.service pkgpersist-watch.service"
)

// autoload checks the root's autoload list: the lines that were there
// before, in order, and the extension's line exactly once when installed
// (after them), not at all when not.
func autoload(t *testing.T, root, when string, installed bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, load))
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	var others []string
	n := 0
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if l == ext {
			n++
		} else {
			others = append(others, l)
		}
	}
	if strings.Join(others, "\n") != before {
		t.Errorf("%s: the other lines changed:\n%s", when, b)
	}
	if want := map[bool]int{true: 1, false: 0}[installed]; n != want {
		t.Errorf("%s: %d lines of %s, want %d:\n%s", when, n, ext, want, b)
	}
}

// installed checks the files of the package in root: the list the
// package manager gives, the modes and owners, osqueryd's rule for the
// extension, and the units with systemd-analyze verify.
func installed(t *testing.T, root string, list []string, zshDir string) {
	t.Helper()
	var files []string
	for _, p := range list {
		if fi, err := os.Lstat(filepath.Join(root, p)); err == nil && !fi.IsDir() {
			files = append(files, p)
		}
	}
	sort.Strings(files)
	if want := expected(zshDir); !slices.Equal(files, want) {
		t.Errorf("installed files:\n got %q\nwant %q", files, want)
	}
	for _, dir := range []string{"/usr/lib/pkgpersist", "/etc/pkgpersist"} {
		if !slices.Contains(list, dir) {
			t.Errorf("the package does not own %s", dir)
		}
	}
	for _, p := range append(files, "/usr/lib/pkgpersist", "/etc/pkgpersist") {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil {
			t.Error(err)
			continue
		}
		want, ok := modes[p]
		if !ok {
			want = 0o644
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != want || st.Uid != 0 || st.Gid != 0 {
			t.Errorf("%s: %v %d:%d, want %v root:root", p, fi.Mode(), st.Uid, st.Gid, want)
		}
	}
	if why := packages.AutoloadRefusal(root, ext); why != "" {
		t.Errorf("osqueryd would not autoload %s: %s", ext, why)
	}
	// the installed bash completion completes the command line
	bash := need.Program(t, "bash")
	out, err := exec.Command(bash, "-c", `source "$1" && COMP_WORDS=(pkgpersist report ne); COMP_CWORD=2; _pkgpersist; echo "${COMPREPLY[@]}"`,
		"bash", filepath.Join(root, "/usr/share/bash-completion/completions/pkgpersist")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "new-terms" {
		t.Errorf("installed bash completion: %v %q", err, out)
	}
	for _, u := range []string{"pkgpersist-serve.service", "pkgpersist-watch.service"} {
		unitcheck.Verify(t, filepath.Join(root, "/usr/lib/systemd/system", u), filepath.Join(root, "/usr/bin/pkgpersist"), filepath.Join(root, "/usr/share/man"))
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(need.Program(t, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// second packages make dist's programs again as a later version, for the
// upgrades: make packages, on a copy of the dist directory.
func second(t *testing.T, dir string) string {
	t.Helper()
	d := t.TempDir()
	must(t, os.Symlink(distbuild.Arch(dir, runtime.GOARCH), distbuild.Arch(d, runtime.GOARCH)))
	repo, err := filepath.Abs("../..")
	must(t, err)
	// the host's architecture alone: the upgrades install no other
	run(t, "make", "-C", repo, "--no-print-directory", "packages", "DIST="+d, "DIST_ARCHS="+runtime.GOARCH, "VERSION=v999.0.0")
	return d
}

// TestDeb: dpkg installs the host's .deb into a root, reinstalls it,
// upgrades it to a later version with the administrator's serve.env kept,
// removes it and purges it; the autoload list follows, its other lines
// kept.
func TestDeb(t *testing.T) {
	need.Program(t, "dpkg")
	dir := dist.Dir(t)
	deb := packageFile(t, dir, "pkgpersist_*_"+runtime.GOARCH+".deb")
	r := newRoot(t)
	dpkg := func(args ...string) string {
		return run(t, "dpkg", append([]string{"--root=" + r, "--log=" + filepath.Join(r, "dpkg.log")}, args...)...)
	}
	query := func(args ...string) string {
		return run(t, "dpkg-query", append([]string{"--root=" + r}, args...)...)
	}
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		must(t, os.MkdirAll(filepath.Join(r, d), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(r, "var/lib/dpkg/status"), nil, 0o644))

	dpkg("-i", deb)
	installed(t, r, strings.Fields(dpkg("-L", "pkgpersist")), "/usr/share/zsh/vendor-completions")
	autoload(t, r, "install", true)
	systemctl(t, r, "install")
	if got := query("-W", "-f=${Conffiles}", "pkgpersist"); !strings.Contains(got, env+" ") {
		t.Errorf("conffiles: %q", got)
	}
	dpkg("-i", deb)
	autoload(t, r, "reinstall", true)
	systemctl(t, r, "reinstall", restart)

	mine := "PKGPERSIST_SERVE_ARGS=\"--listen 0.0.0.0:8443\"\n"
	must(t, os.WriteFile(filepath.Join(r, env), []byte(mine), 0o640))
	later := packageFile(t, second(t, dir), "pkgpersist_999.0.0_"+runtime.GOARCH+".deb")
	dpkg("-i", later)
	autoload(t, r, "upgrade", true)
	systemctl(t, r, "upgrade", restart)
	if v := query("-W", "-f=${Version}", "pkgpersist"); v != "999.0.0" {
		t.Errorf("after the upgrade: version %q", v)
	}
	if b, _ := os.ReadFile(filepath.Join(r, env)); string(b) != mine {
		t.Errorf("the upgrade changed the administrator's serve.env:\n%s", b)
	}

	dpkg("-r", "pkgpersist")
	autoload(t, r, "remove", false)
	systemctl(t, r, "remove", disable)
	if _, err := os.Stat(filepath.Join(r, env)); err != nil {
		t.Errorf("remove took the conffile: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r, "/usr/bin/pkgpersist")); err == nil {
		t.Error("remove left /usr/bin/pkgpersist")
	}
	dpkg("-P", "pkgpersist")
	autoload(t, r, "purge", false)
	if _, err := os.Stat(filepath.Join(r, env)); err == nil {
		t.Error("purge left serve.env")
	}
}

// TestDebNoOsquery: on a root without /etc/osquery the package makes the
// list with the one line (osqueryd installed later reads it), and its
// removal leaves it empty.
func TestDebNoOsquery(t *testing.T) {
	need.Program(t, "dpkg")
	deb := packageFile(t, dist.Dir(t), "pkgpersist_*_"+runtime.GOARCH+".deb")
	r := newRoot(t)
	must(t, os.RemoveAll(filepath.Join(r, "etc/osquery")))
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		must(t, os.MkdirAll(filepath.Join(r, d), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(r, "var/lib/dpkg/status"), nil, 0o644))
	run(t, "dpkg", "--root="+r, "-i", deb)
	if b, err := os.ReadFile(filepath.Join(r, load)); err != nil || string(b) != ext+"\n" {
		t.Errorf("install: %q %v", b, err)
	}
	run(t, "dpkg", "--root="+r, "-r", "pkgpersist")
	if b, err := os.ReadFile(filepath.Join(r, load)); err != nil || len(b) != 0 {
		t.Errorf("remove: %q %v", b, err)
	}
}

// TestRPM: rpm installs the host's .rpm into a root, reinstalls it,
// upgrades it (the old package's %postun then runs with 1: the line
// stays) and erases it; serve.env is %config(noreplace).
func TestRPM(t *testing.T) {
	need.Program(t, "rpm")
	dir := dist.Dir(t)
	pkg := packageFile(t, dir, "pkgpersist-*."+rpmArch[runtime.GOARCH]+".rpm")
	r := newRoot(t)
	// the scriptlets' /bin/sh is busybox, which no package in this
	// root's database provides: --nodeps
	rpm := func(args ...string) string {
		return run(t, "rpm", append([]string{"--root", r, "--dbpath", "/var/lib/rpm"}, args...)...)
	}
	rpm("-i", "--nodeps", pkg)
	installed(t, r, strings.Fields(rpm("-ql", "pkgpersist")), "/usr/share/zsh/site-functions")
	autoload(t, r, "install", true)
	systemctl(t, r, "install")
	if got := rpm("-q", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", "pkgpersist"); !strings.Contains(got, env+" cn\n") {
		t.Errorf("serve.env is not %%config(noreplace):\n%s", got)
	}
	if got := rpm("-qc", "pkgpersist"); strings.TrimSpace(got) != env {
		t.Errorf("rpm -qc: %q", got)
	}
	rpm("-i", "--nodeps", "--replacepkgs", pkg)
	autoload(t, r, "reinstall", true)
	systemctl(t, r, "reinstall", restart)

	later := packageFile(t, second(t, dir), "pkgpersist-999.0.0-1."+rpmArch[runtime.GOARCH]+".rpm")
	rpm("-U", "--nodeps", later)
	autoload(t, r, "upgrade", true)
	systemctl(t, r, "upgrade", restart)
	if v := rpm("-q", "--qf", "%{VERSION}", "pkgpersist"); v != "999.0.0" {
		t.Errorf("after the upgrade: version %q", v)
	}

	rpm("-e", "--nodeps", "pkgpersist")
	autoload(t, r, "erase", false)
	systemctl(t, r, "erase", disable)
}

// TestArm64: the arm64 packages say so, and hold the arm64 builds, static
// (distbin's check, the one hunt applies before copying a build).
func TestArm64(t *testing.T) {
	dir := dist.Dir(t)
	deb := packageFile(t, dir, "pkgpersist_*_arm64.deb")
	if a := run(t, "dpkg-deb", "-f", deb, "Architecture"); strings.TrimSpace(a) != "arm64" {
		t.Errorf("deb Architecture: %q", a)
	}
	x := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, x)
	rpmFile := packageFile(t, dir, "pkgpersist-*.aarch64.rpm")
	if a := run(t, "rpm", "-qp", "--qf", "%{ARCH}", rpmFile); a != "aarch64" {
		t.Errorf("rpm ARCH: %q", a)
	}
	if os.Geteuid() != 0 {
		need.Missing(t, "rpm installs into a root as root only")
	}
	r := t.TempDir()
	run(t, "rpm", "--root", r, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", "--noscripts", "--ignorearch", rpmFile)
	for _, root := range []string{x, r} {
		for _, p := range []string{"/usr/bin/pkgpersist", ext} {
			if err := distbin.Check(filepath.Join(root, p), "arm64"); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestSums: SHA256SUMS covers every package.
func TestSums(t *testing.T) {
	dir := dist.Dir(t)
	b, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	must(t, err)
	pkgs, _ := filepath.Glob(filepath.Join(dir, "*.[dr][ep][bm]"))
	if len(pkgs) != 4 {
		t.Fatalf("packages: %v", pkgs)
	}
	for _, p := range pkgs {
		if !strings.Contains(string(b), "  "+filepath.Base(p)+"\n") {
			t.Errorf("SHA256SUMS lacks %s", filepath.Base(p))
		}
	}
}

// TestAutoloadTrimmed: osqueryd trims each line of its autoload list, so
// the scripts take a line with a CR or spaces around the extension's
// path for the extension's line: install adds none beside it, removal
// takes it away, and the other lines stay byte for byte.
func TestAutoloadTrimmed(t *testing.T) {
	chroot := need.Program(t, "chroot")
	for _, c := range []struct{ name, before, others string }{
		{"crlf", "/x.ext\r\n" + ext + "\r\n", "/x.ext\r\n"},
		{"spaces", "/x.ext\n  " + ext + " \t\n", "/x.ext\n"},
		{"crlf, no extension", "/x.ext\r\n# c\r\n", "/x.ext\r\n# c\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRoot(t)
			b, err := os.ReadFile("../../dist/scripts/autoload.sh")
			must(t, err)
			must(t, os.WriteFile(filepath.Join(r, "autoload.sh"), b, 0o755))
			must(t, os.WriteFile(filepath.Join(r, load), []byte(c.before), 0o644))
			named := func(when string, want int) string {
				t.Helper()
				b, err := os.ReadFile(filepath.Join(r, load))
				must(t, err)
				n, others := 0, ""
				for _, l := range strings.SplitAfter(string(b), "\n") {
					if strings.Trim(l, " \t\r\n") == ext {
						n++
					} else {
						others += l
					}
				}
				if n != want {
					t.Errorf("%s: %d lines name the extension, want %d: %q", when, n, want, b)
				}
				return others
			}
			// the script reads what happened from the extension's file
			must(t, os.MkdirAll(filepath.Join(r, filepath.Dir(ext)), 0o755))
			must(t, os.WriteFile(filepath.Join(r, ext), nil, 0o755))
			run(t, chroot, r, "/bin/sh", "/autoload.sh", "configure")
			named("install", 1)
			must(t, os.Remove(filepath.Join(r, ext)))
			run(t, chroot, r, "/bin/sh", "/autoload.sh", "remove")
			if others := named("remove", 0); others != c.others {
				t.Errorf("remove: the other lines are %q, want %q", others, c.others)
			}
		})
	}
}
