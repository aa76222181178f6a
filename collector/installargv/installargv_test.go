package installargv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

const specTemplate = `Name: ppt
Version: VERSION
Release: 1
Summary: pkgpersist test package
License: MIT
BuildArch: noarch
%description
Installs one file.
%install
mkdir -p %{buildroot}/opt/ppt
echo VERSION > %{buildroot}/opt/ppt/f
%files
/opt/ppt/f
`

func buildRPM(t *testing.T, version string) string {
	t.Helper()
	top := t.TempDir()
	spec := filepath.Join(top, "ppt.spec")
	os.WriteFile(spec, []byte(strings.ReplaceAll(specTemplate, "VERSION", version)), 0o644)
	if out, err := exec.Command("rpmbuild", "--define", "_topdir "+top, "-bb", spec).CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	pkgs, _ := filepath.Glob(filepath.Join(top, "RPMS/noarch/*.rpm"))
	if len(pkgs) != 1 {
		t.Fatalf("rpmbuild made %v", pkgs)
	}
	return pkgs[0]
}

// case_ is one command line run against a throwaway root: pre installs the
// package first (then deletes its file, so only a new install brings it
// back); target is the package file, or its name for name-taking actions.
type case_ struct {
	args   string
	pre    bool
	byName bool
}

// oracle runs each case with the real program and compares "the package's
// file is there afterwards" with the classifier's verdict on the argv.
func oracle(t *testing.T, cases []case_, run func(root string, args []string) []string, preinstall func(root string), target func(c case_) string) {
	for _, c := range cases {
		root := t.TempDir()
		if c.pre {
			preinstall(root)
			if err := os.Remove(filepath.Join(root, "opt/ppt/f")); err != nil {
				t.Fatalf("%s: pre-install left no file: %v", c.args, err)
			}
		}
		args := append(strings.Fields(c.args), target(c))
		argv := run(root, args)
		_, err := os.Stat(filepath.Join(root, "opt/ppt/f"))
		installed := err == nil
		in, ok := Classify(argv)
		if ok != installed {
			t.Errorf("%q: classifier says install=%t (form %q), the real program installed=%t", strings.Join(argv, " "), ok, in.Form, installed)
		}
	}
}

// TestAgainstRPM: the classifier calls an rpm command line an install
// exactly when rpm installed the package into a throwaway root.
func TestAgainstRPM(t *testing.T) {
	need.Program(t, "rpmbuild")
	rpmBin := need.Program(t, "rpm")
	v1, v2 := buildRPM(t, "1.0"), buildRPM(t, "2.0")
	rpm := func(root string, args []string) []string {
		argv := append([]string{rpmBin, "--root", root, "--dbpath", "/var/lib/rpm"}, args...)
		exec.Command(argv[0], argv[1:]...).Run()
		return argv
	}
	cases := []case_{
		{args: "-i"}, {args: "--install"}, {args: "-ivh"}, {args: "-Uvh"}, {args: "-U"}, {args: "--upgrade"},
		{args: "-iv --nodeps"}, {args: "-hvi"}, {args: "--nosignature -i"},
		{args: "-F", pre: true}, {args: "-Fvh", pre: true}, {args: "--freshen", pre: true},
		{args: "--reinstall", pre: true},
		{args: "-qip"}, {args: "-qp"}, {args: "-q --info -p"}, {args: "-K"}, {args: "--checksig"},
		{args: "-i --test"}, {args: "--test -Uvh"}, {args: "-iq"}, {args: "-qi"},
		{args: "-e", pre: true, byName: true}, {args: "--erase", pre: true, byName: true},
		{args: "-V", pre: true, byName: true}, {args: "-qa", pre: true, byName: true},
	}
	oracle(t, cases, rpm, func(root string) { rpm(root, []string{"-i", v1}) }, func(c case_) string {
		switch {
		case c.byName:
			return "ppt"
		case c.args == "--reinstall":
			return v1
		}
		return v2
	})
}

// TestAgainstDpkg: the same with dpkg and a .deb built by dpkg-deb.
func TestAgainstDpkg(t *testing.T) {
	dpkgBin := need.Program(t, "dpkg")
	need.Program(t, "dpkg-deb")
	pkg := t.TempDir()
	os.MkdirAll(filepath.Join(pkg, "DEBIAN"), 0o755)
	os.MkdirAll(filepath.Join(pkg, "opt/ppt"), 0o755)
	os.WriteFile(filepath.Join(pkg, "opt/ppt/f"), []byte("1\n"), 0o644)
	os.WriteFile(filepath.Join(pkg, "DEBIAN/control"), []byte("Package: ppt\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: pkgpersist test package\n"), 0o644)
	deb := filepath.Join(t.TempDir(), "ppt.deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-b", pkg, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	dpkg := func(root string, args []string) []string {
		admin := filepath.Join(root, "var/lib/dpkg")
		os.MkdirAll(filepath.Join(admin, "info"), 0o755)
		os.MkdirAll(filepath.Join(admin, "updates"), 0o755)
		if _, err := os.Stat(filepath.Join(admin, "status")); err != nil {
			os.WriteFile(filepath.Join(admin, "status"), nil, 0o644)
		}
		argv := append([]string{dpkgBin, "--root=" + root, "--admindir", admin, "--log=/dev/null"}, args...)
		exec.Command(argv[0], argv[1:]...).Run()
		return argv
	}
	cases := []case_{
		{args: "-i"}, {args: "--install"}, {args: "-iE"}, {args: "-Ei"}, {args: "-GEi"}, {args: "--unpack"},
		{args: "-D1 -i"}, {args: "--force-all -i"},
		{args: "--no-act -i"}, {args: "--dry-run --install"}, {args: "-i --simulate"},
		{args: "-c"}, {args: "--contents"}, {args: "-I"}, {args: "--info"}, {args: "-i -r"},
		{args: "-r", pre: true, byName: true}, {args: "--purge", pre: true, byName: true},
		{args: "-s", pre: true, byName: true}, {args: "-L", pre: true, byName: true},
	}
	oracle(t, cases, dpkg, func(root string) { dpkg(root, []string{"-i", deb}) }, func(c case_) string {
		if c.byName {
			return "ppt"
		}
		return deb
	})
}

// TestForms: the form reported, and whether Elastic's rule sees it.
func TestForms(t *testing.T) {
	for cmd, want := range map[string]string{
		"/usr/bin/rpm -i x.rpm":   "rpm -i rule",
		"rpm --install x.rpm":     "rpm --install rule",
		"rpm -ivh x.rpm":          "rpm -ivh missed",
		"rpm -Uvh x.rpm":          "rpm -Uvh missed",
		"rpm --upgrade x.rpm":     "rpm --upgrade missed",
		"rpm -F x.rpm":            "rpm -F missed",
		"rpm --reinstall x.rpm":   "rpm --reinstall missed",
		"rpm --root /r -i x.rpm":  "rpm -i rule",
		"dpkg -i x.deb":           "dpkg -i rule",
		"dpkg --unpack x.deb":     "dpkg --unpack missed",
		"dpkg -iE x.deb":          "dpkg -iE missed",
		"rpm -qi x":               "none",
		"rpm -e x":                "none",
		"rpm -- -i":               "none",
		"dpkg --no-act -i x.deb":  "none",
		"sh -c rpm -i x":          "none",
		"rpm --dbpath -i -q x":    "none",
		"rpm -D '_x 1' -U x.rpm":  "rpm -U missed",
		"pacman -U x.pkg.tar.zst": "pacman -U missed",
		"pacman -Syu":             "none",
		"apk add ./x.apk":         "apk add missed",
		"apk -i add x.apk":        "apk add missed",
	} {
		in, ok := Classify(Split(cmd))
		got := "none"
		if ok {
			got = in.Tool + " " + in.Form + " missed"
			if in.Rule {
				got = in.Tool + " " + in.Form + " rule"
			}
		}
		if got != want {
			t.Errorf("%s: %s, want %s", cmd, got, want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"rpm -ivh x", "dpkg -GEi x", "rpm --define=a -U", "rpm -D", "dpkg -D", "rpm --root",
		"pacman -Uvd --root=/r x.pkg.tar.zst", "pacman --upg -b", "pacman -U --debug=1 --color never -- -x",
		"apk -X https://r --root /r add --no-sim x.apk", "apk add -st v x.apk", "apk --upd add"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		in, ok := Classify(Split(cmd))
		if ok && (in.Form == "" || !map[string]bool{"rpm": true, "dpkg": true, "pacman": true, "apk": true}[in.Tool]) {
			t.Fatalf("%q: %+v", cmd, in)
		}
	})
}

// buildPacmanPkg writes a package pacman -U installs: a tar with a
// .PKGINFO and one file (libalpm reads any archive libarchive does).
func buildPacmanPkg(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "opt/ppt"), 0o755)
	os.WriteFile(filepath.Join(dir, "opt/ppt/f"), []byte("1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".PKGINFO"), []byte("pkgname = ppt\npkgbase = ppt\npkgver = 1.0-1\npkgdesc = pkgpersist test package\nurl = https://example.org\nbuilddate = 1\npackager = t\nsize = 2\narch = any\n"), 0o644)
	pkg := filepath.Join(t.TempDir(), "ppt-1.0-1-any.pkg.tar")
	if out, err := exec.Command("tar", "--owner=0", "--group=0", "-C", dir, "-cf", pkg, ".PKGINFO", "opt").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	return pkg
}

// TestAgainstPacman: the classifier calls a pacman command line an
// install exactly when pacman installed the package into a throwaway root
// (its own config, database, cache, hooks and log there).
func TestAgainstPacman(t *testing.T) {
	pacmanBin := need.Program(t, "pacman")
	need.Program(t, "tar")
	pkg := buildPacmanPkg(t)
	pacman := func(root string, args []string) []string {
		os.MkdirAll(filepath.Join(root, "db/local"), 0o755)
		argv := append([]string{pacmanBin, "--config", "/dev/null", "--root", root, "--dbpath", root + "/db",
			"--cachedir", root + "/cache", "--hookdir", root + "/hooks", "--gpgdir", root + "/gpg",
			"--logfile", "/dev/null", "--noconfirm"}, args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdin = strings.NewReader("")
		cmd.Run()
		return argv
	}
	cases := []case_{
		{args: "-U"}, {args: "--upgrade"}, {args: "-Uv"}, {args: "-vU"}, {args: "-Ud"}, {args: "-Udd"},
		{args: "--upgrade --needed --asdeps"}, {args: "-U --overwrite=*"}, {args: "-U --overwrite *"},
		{args: "-U --ignore x"}, {args: "-U --debug"}, {args: "-U --debug=2"}, {args: "-U --color never"},
		{args: "-U --asexp"}, {args: "-U --noscr"}, {args: "-U --ask=4"}, {args: "--upgrade --dbonly"},
		{args: "-U --print"}, {args: "-Up"}, {args: "-pU"}, {args: "-U --print-format %n"}, {args: "-U --print-f=%n"},
		{args: "-Uw"}, {args: "-U --downloadonly"}, {args: "-UU"}, {args: "-U -U"}, {args: "-U -S"},
		{args: "-UQ"}, {args: "-Uq"}, {args: "-Ui"}, {args: "-Uy"}, {args: "-U --nosave"}, {args: "-U --force"},
		{args: "-U --upg"}, {args: "-U --prin"}, {args: "--upgrade=1"}, {args: "-U --print=1"},
		{args: "-U --asdeps --asexplicit"}, {args: "-U --print --dbonly"}, {args: "-U --debug=3"},
		{args: "-U --color sometimes"}, {args: "-Uh"}, {args: "-UV"}, {args: "-U --help"}, {args: "-Uz"},
		{args: "-U --"}, {args: "-- -U"}, {args: "-Q -p"}, {args: "-R", pre: true, byName: true},
		{args: "-Qi", pre: true, byName: true},
	}
	oracle(t, cases, pacman, func(root string) { pacman(root, []string{"-U", pkg}) }, func(c case_) string {
		if c.byName {
			return "ppt"
		}
		return pkg
	})
}

// TestPacmanParses: every command line the pacman cases call an install
// is one pacman parses (no option error: it gets as far as loading the
// missing package file), and the rejected ones are rejected by pacman's
// option parser; --print keeps a parsed one from changing anything.
func TestPacmanParses(t *testing.T) {
	pacmanBin := need.Program(t, "pacman")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "db/local"), 0o755)
	for _, c := range []struct {
		args    string
		install bool
	}{
		{"-U x.pkg.tar.zst", true}, {"-Uvd x", true}, {"x -U", true}, {"-U -- -x", true}, {"-U -r" + root + " x", true},
		{"--upgr x", false}, {"-U --sys=/ x", false}, {"-U --cach=/c x", true}, {"-U -b" + root + "/db x", true},
		{"-Uk x", false}, {"-U --disable-download-timeout x", true}, {"-U --ignoregroup g x", true},
		{"-U --assume-installed a=1 x", true}, {"-U --confirm x", true}, {"-U --arch any x", true},
		{"-U --hookdir", false}, {"-U -r", false},
	} {
		in, ok := Classify(append([]string{"pacman"}, strings.Fields(c.args)...))
		if ok != c.install {
			t.Errorf("%s: install=%t (%+v), want %t", c.args, ok, in, c.install)
			continue
		}
		argv := append([]string{"--config", "/dev/null", "--root", root, "--dbpath", root + "/db", "--logfile", "/dev/null", "--print"}, strings.Fields(c.args)...)
		out, _ := exec.Command(pacmanBin, argv...).CombinedOutput()
		parsed := !strings.Contains(string(out), "option") && !strings.Contains(string(out), "only one operation") &&
			!strings.Contains(string(out), "no targets")
		if parsed != c.install {
			t.Errorf("pacman %s: parsed=%t, want %t:\n%s", strings.Join(argv, " "), parsed, c.install, out)
		}
	}
}
