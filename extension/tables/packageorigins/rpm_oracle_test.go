package packageorigins

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/rpmhistory"
	"github.com/pkgpersist/pkgpersist/test/rpmtest"
)

// TestRPMOriginsOracle: Debian's real dnf installs one package (and the
// base package it needs) from a local repository made with createrepo_c
// and one from a file named on its command line into a throwaway
// install root; rpm --root -i installs a third alone. What the table says
// of each must be what `dnf history info` says of it (repository, command
// line, user), and the package no transaction installs is the one rpm
// installed alone. DNF leaves its history in the write-ahead log: the
// table must read it there.
func TestRPMOriginsOracle(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	fromfile, bare := noarch(t, dir, "fromfile", "4", "5"), noarch(t, dir, "bare", "6", "7")
	conf := localRepo(t, dir)
	rpmtest.DNF(t, dir, root, conf, "install", "fromrepo")
	rpmtest.DNF(t, dir, root, conf, "install", fromfile)
	rpmtest.RPM(t, dir, root, "-i", "--nodeps", "--noscripts", bare)
	if fi, err := os.Stat(filepath.Join(root, rpmhistory.DNF4+"-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("dnf left no write-ahead log (%v): the table would not be tried on one", err)
	}

	want := dnfHistory(t, dir, root, conf)
	rows, err := RPMRows(context.Background(), root, "/var/lib/dpkg")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want rpm's 4: %v", len(rows), rows)
	}
	for _, r := range rows {
		nevra := r["package"] + "-" + r["version"] + "." + r["arch"]
		w, recorded := want[nevra]
		switch {
		case !recorded:
			if r["package"] != "bare" || r["source"] != FromUnknown || !strings.HasPrefix(r["reason"], NoHistory) || r["repositories"] != "" {
				t.Errorf("%s, in no transaction: %v", nevra, r)
			}
		case r["repositories"] != w.repo || r["installed_by"] != w.cmdline || r["requested_by"] != w.user:
			t.Errorf("%s: repositories %q, installed_by %q, requested_by %q; dnf history info: %+v", nevra, r["repositories"], r["installed_by"], r["requested_by"], w)
		case w.repo == "@commandline" && r["source"] != FromLocalFile, w.repo == "local" && r["source"] != FromRepository:
			t.Errorf("%s from %s: source %s (%s)", nevra, w.repo, r["source"], r["reason"])
		}
		if r["in_repository"] != "" || r["install_time"] == "" {
			t.Errorf("%s: in_repository %q (no metadata is read: unknown), install_time %q", nevra, r["in_repository"], r["install_time"])
		}
	}
	if want["fromrepo-2-3.noarch"].repo != "local" || want["fromfile-4-5.noarch"].repo != "@commandline" || len(want) != 3 {
		t.Fatalf("dnf's history is not what the test made: %+v", want)
	}
}

// localRepo makes a repository for dnf of fromrepo-2-3 and base, which
// provides the /bin/sh its %post needs, and returns dnf's configuration.
func localRepo(t *testing.T, dir string) string {
	t.Helper()
	base := rpmtest.Build(t, dir, rpmtest.Spec{Name: "base", Version: "1", Release: "1",
		Body: "Summary: s\nLicense: MIT\nBuildArch: noarch\nProvides: /bin/sh\n%description\nd\n%files\n"})
	return rpmtest.Repo(t, dir, base, noarch(t, dir, "fromrepo", "2", "3"))
}

// noarch builds a package with no files and a harmless %post.
func noarch(t *testing.T, dir, name, version, release string) string {
	t.Helper()
	return rpmtest.Build(t, dir, rpmtest.Spec{Name: name, Version: version, Release: release, Body: rpmtest.Noarch})
}

// dnfItem is what dnf history info shows of a package's install.
type dnfItem struct{ repo, cmdline, user string }

// dnfHistory asks dnf for each transaction of the root and returns the
// latest install of each package (name-version-release.arch).
func dnfHistory(t *testing.T, dir, root, conf string) map[string]dnfItem {
	t.Helper()
	out := map[string]dnfItem{}
	for id := 1; ; id++ {
		info := rpmtest.DNFOut(t, dir, root, conf, "-q", "--disablerepo=*", "history", "info", strconv.Itoa(id))
		if !strings.Contains(info, "Transaction ID") {
			return out
		}
		var it dnfItem
		s := bufio.NewScanner(strings.NewReader(info))
		for s.Scan() {
			line := s.Text()
			if k, v, ok := strings.Cut(line, " : "); ok {
				switch strings.TrimSpace(k) {
				case "Command Line":
					it.cmdline = strings.TrimSpace(v)
				case "User":
					if m := regexp.MustCompile(`<(\d+)>`).FindStringSubmatch(v); m != nil {
						it.user = "uid " + m[1]
					}
				}
			}
			if m := altered.FindStringSubmatch(line); m != nil {
				item := it
				item.repo = m[2]
				out[m[1]] = item
			}
		}
		if id > 100 {
			t.Fatal("dnf history info answers for every id")
		}
	}
}

// altered is a "Packages Altered" line of an install: action, NEVRA and
// @repository.
var altered = regexp.MustCompile(`^\s+(?:Install|Upgrade|Downgrade|Reinstall|Obsoleting)\s+(\S+)\s+@(\S+)$`)

// TestRPMBackdatedOracle: rpm takes SOURCE_DATE_EPOCH as the install time
// of what it installs, so a package rpm -i installed after DNF's first
// transaction can carry an install time from before it. The table must
// still say that no history records it, installed after the history
// began: its record in rpm's database is newer than the packages DNF
// installed. Packages rpm installed before DNF's first transaction, with
// their true install time or a backdated one, stay the initial install.
// rpm itself says what it recorded (INSTALLTIME, DBINSTANCE); the same
// holds after rpm --rebuilddb.
func TestRPMBackdatedOracle(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	image, imageOld, planted := noarch(t, dir, "image", "1", "1"), noarch(t, dir, "imageold", "1", "1"), noarch(t, dir, "planted", "6", "7")
	backdate := []string{"SOURCE_DATE_EPOCH=86400"}
	rpmtest.RPM(t, dir, root, "-i", "--nodeps", "--noscripts", image)
	rpmtest.RPMWith(t, dir, root, backdate, "-i", "--nodeps", "--noscripts", imageOld)
	rpmtest.DNF(t, dir, root, localRepo(t, dir), "install", "fromrepo")
	rpmtest.RPMWith(t, dir, root, backdate, "-i", "--nodeps", "--noscripts", planted)

	checkBackdated(t, dir, root)
	// rpm --rebuilddb numbers the records anew, in the order SQLite lists
	// them (by number): the order, and so the verdicts, stay
	rpmtest.RPM(t, dir, root, "--rebuilddb")
	checkBackdated(t, dir, root)
}

// checkBackdated checks the table's verdicts on TestRPMBackdatedOracle's
// root against what rpm recorded.
func checkBackdated(t *testing.T, dir, root string) {
	t.Helper()
	// what rpm recorded: the install time it was given, the record after DNF's
	recorded := map[string][2]int64{}
	for _, line := range strings.Fields(rpmtest.RPM(t, dir, root, "-qa", "--qf", `%{NAME}:%{INSTALLTIME}:%{DBINSTANCE}\n`)) {
		f := strings.Split(line, ":")
		if len(f) != 3 {
			t.Fatalf("rpm -qa: %q", line)
		}
		it, err1 := strconv.ParseInt(f[1], 10, 64)
		num, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("rpm -qa: %q", line)
		}
		recorded[f[0]] = [2]int64{it, num}
	}
	if recorded["planted"][0] != 86400 || recorded["imageold"][0] != 86400 || recorded["planted"][1] <= recorded["fromrepo"][1] || recorded["image"][1] >= recorded["fromrepo"][1] {
		t.Fatalf("rpm recorded (install time, record) %v: not what the test made", recorded)
	}

	rows, err := RPMRows(context.Background(), root, "/var/lib/dpkg")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		name := r["package"]
		seen[name] = true
		if r["install_time"] != strconv.FormatInt(recorded[name][0], 10) {
			t.Errorf("%s: install_time %s, rpm says %d", name, r["install_time"], recorded[name][0])
		}
		switch name {
		case "planted":
			if r["source"] != FromUnknown || !strings.HasPrefix(r["reason"], NoHistory) || !strings.Contains(r["reason"], "its rpm database record is newer than packages DNF or YUM installed") || !strings.Contains(r["reason"], "1970-01-02") {
				t.Errorf("planted after dnf with a backdated install time: %s: %s", r["source"], r["reason"])
			}
		case "image", "imageold":
			if r["source"] != FromUnknown || strings.HasPrefix(r["reason"], NoHistory) || !strings.Contains(r["reason"], "initial install") {
				t.Errorf("%s, installed by rpm before dnf's first transaction: %s: %s", name, r["source"], r["reason"])
			}
		}
	}
	if len(seen) != 5 || !seen["planted"] || !seen["image"] || !seen["imageold"] {
		t.Fatalf("rows %v, want rpm's 5 packages", rows)
	}
}
