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
	base := rpmtest.Build(t, dir, rpmtest.Spec{Name: "base", Version: "1", Release: "1",
		Body: "Summary: s\nLicense: MIT\nBuildArch: noarch\nProvides: /bin/sh\n%description\nd\n%files\n"})
	fromrepo := rpmtest.Build(t, dir, rpmtest.Spec{Name: "fromrepo", Version: "2", Release: "3", Body: rpmtest.Noarch})
	fromfile := rpmtest.Build(t, dir, rpmtest.Spec{Name: "fromfile", Version: "4", Release: "5", Body: rpmtest.Noarch})
	bare := rpmtest.Build(t, dir, rpmtest.Spec{Name: "bare", Version: "6", Release: "7", Body: rpmtest.Noarch})
	conf := rpmtest.Repo(t, dir, base, fromrepo)
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
