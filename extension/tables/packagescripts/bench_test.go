package packagescripts

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/test/debtest"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// benchPackages is how many installed packages each benchmark reads.
const benchPackages = 2000

// benchSpec is one spec with n subpackages, each with a %post, a %postun
// and a trigger, the scriptlets a typical RHEL package carries: rpmbuild
// builds them in one run, where n specs would take n runs.
func benchSpec(n int) string {
	var b strings.Builder
	b.WriteString("Name: benchpkg\nVersion: 1.0\nRelease: 1\nSummary: bench\nLicense: MIT\nBuildArch: noarch\n%description\nbench\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%%package p%d\nSummary: bench package %d\n%%description p%d\nbench\n%%files p%d\n", i, i, i, i)
		fmt.Fprintf(&b, "%%post p%d\nif [ $1 -eq 1 ]; then\n  systemctl preset svc%d.service >/dev/null 2>&1 || :\nfi\nldconfig\n", i, i)
		fmt.Fprintf(&b, "%%postun p%d\nrm -f /var/cache/p%d\n%%triggerin p%d -- bash >= 4.0\necho triggered\n", i, i, i)
	}
	return b.String()
}

// best is the shortest of a few runs of a command.
func best(b *testing.B, name string, args ...string) time.Duration {
	b.Helper()
	t := time.Duration(1 << 62)
	for i := 0; i < 3; i++ {
		start := time.Now()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%.500s", name, err, out)
		}
		t = min(t, time.Since(start))
	}
	return t
}

// BenchmarkRPMScripts: package_scripts over a root with 2,000 installed
// rpm packages (rpm's SQLite database, 6,000 scriptlets), against rpm -qa
// with --scripts, --triggers and --filetriggers over the same database in
// the same run: the table reads all three kinds, so rpm lists all three.
func BenchmarkRPMScripts(b *testing.B) {
	rpmBin := need.Program(b, "rpm")
	rpms := buildRPMs(b, benchSpec(benchPackages))
	root := b.TempDir()
	installRPMs(b, root, []string{"--justdb"}, rpms...)
	rpmTime := best(b, rpmBin, "--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--scripts", "--triggers", "--filetriggers")
	b.Run("2000", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows, err := Rows(context.Background(), root, dpkgdb.Admindir)
			if err != nil || len(rows) != 3*benchPackages {
				b.Fatalf("%d rows, %v", len(rows), err)
			}
		}
		report(b, rpmTime, "rpm-qa-scripts")
	})
}

// report gives the table's time for all packages, the baseline's, and
// their ratio.
func report(b *testing.B, baseline time.Duration, name string) {
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(per.Seconds(), "s/2000pkgs")
	b.ReportMetric(baseline.Seconds(), name+"-s/2000pkgs")
	b.ReportMetric(per.Seconds()/baseline.Seconds(), "x-"+name)
}

// BenchmarkDpkgScripts: package_scripts over a root with 2,000 installed
// dpkg packages (each with a postinst, a prerm and a postrm), against
// dpkg-query -W listing them plus one cat of every script file dpkg
// keeps. dpkg has no command that prints every package's scripts: its
// --control-show prints one file of one package, so calling it 6,000
// times would measure process start-up, not reading; the baseline is
// dpkg's own listing of the status file and the reading of the same
// files by the fastest reader there is. The database is written here as
// dpkg writes it (a status stanza, info/<pkg>.list and the scripts);
// dpkg-query must list all of it as installed.
func BenchmarkDpkgScripts(b *testing.B) {
	query := need.Program(b, "dpkg-query")
	root := debtest.NewRoot(b)
	info := filepath.Join(root, "var/lib/dpkg/info")
	var status strings.Builder
	var files []string
	for i := 0; i < benchPackages; i++ {
		name := fmt.Sprintf("bench-p%d", i)
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: bench <bench@example.com>\nArchitecture: amd64\nVersion: 1.0-%d\nDescription: bench package %d\n\n", name, i, i)
		debtest.Must(b, os.WriteFile(filepath.Join(info, name+".list"), []byte("/.\n"), 0o644))
		for _, k := range []string{"postinst", "prerm", "postrm"} {
			f := filepath.Join(info, name+"."+k)
			body := fmt.Sprintf("#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  systemctl preset svc%d.service >/dev/null 2>&1 || :\nfi\nldconfig\n#DEBHELPER#\n", i)
			debtest.Must(b, os.WriteFile(f, []byte(body), 0o755))
			files = append(files, f)
		}
	}
	debtest.Must(b, os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte(status.String()), 0o644))
	admindir := "--admindir=" + filepath.Join(root, "var/lib/dpkg")
	out, err := exec.Command(query, admindir, "-W", "-f", "${db:Status-Abbrev}\n").Output()
	if err != nil || strings.Count(string(out), "ii ") != benchPackages {
		b.Fatalf("dpkg-query lists %d installed packages (%v)", strings.Count(string(out), "ii "), err)
	}
	queryTime := best(b, query, admindir, "-W", "-f", "${binary:Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n")
	catTime := best(b, "cat", files...)
	b.Run("2000", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows, err := Rows(context.Background(), root, dpkgdb.Admindir)
			if err != nil || len(rows) != 3*benchPackages {
				b.Fatalf("%d rows, %v", len(rows), err)
			}
		}
		report(b, queryTime+catTime, "dpkg-query-cat")
	})
}
