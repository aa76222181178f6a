// Package rpmdbtest holds what the tests of rpm's databases share: real
// databases from real distributions, and rpm's own account of a database
// (rpm -qa --dump) to compare a reader's with.
package rpmdbtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/pkgpersist/pkgpersist/test/treefiles"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/ndb"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// GoRPMDB is the Go module whose testdata holds Berkeley DB Packages files
// from CentOS 5, 6, 7 and 8 installations (pkg/testdata/<name>/Packages).
// It is fetched with go mod download, not built into pkgpersist.
const GoRPMDB = "github.com/knqyf263/go-rpmdb@v0.0.0-20210911072402-73bd0ce46c49"

// RealBDB returns the module's Packages files by name (centos7-plain, …),
// fetching the module through the Go module proxy once.
func RealBDB(t testing.TB) map[string]string {
	t.Helper()
	goBin := need.Program(t, "go")
	cmd := exec.Command(goBin, "mod", "download", "-json", GoRPMDB)
	cmd.Dir = os.TempDir() // outside any module: go.mod is not touched
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if err == nil {
		err = json.Unmarshal(out, &info)
	}
	if err != nil || info.Dir == "" {
		need.Missing(t, fmt.Sprintf("go mod download %s: %v %s", GoRPMDB, err, info.Error))
	}
	files, _ := filepath.Glob(filepath.Join(info.Dir, "pkg/testdata/*/Packages"))
	if len(files) < 10 {
		t.Fatalf("%s has %d Packages files, want CentOS 5 to 8's 10", GoRPMDB, len(files))
	}
	dbs := map[string]string{}
	for _, f := range files {
		dbs[filepath.Base(filepath.Dir(f))] = f
	}
	return dbs
}

// EachRealBDB runs fn as a subtest for each of the module's databases,
// in the order of their names, each copied into a fresh root's
// /var/lib/rpm; dbpath is the directory of the module's file, for
// rpm --dbpath.
func EachRealBDB(t *testing.T, fn func(t *testing.T, root, dbpath string)) {
	t.Helper()
	dbs := RealBDB(t)
	names := make([]string, 0, len(dbs))
	for n := range dbs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			CopyFile(t, dbs[name], filepath.Join(root, "var/lib/rpm"))
			fn(t, root, filepath.Dir(dbs[name]))
		})
	}
}

// RealNDB is SUSE's: the Packages.db of a SLE 15 SP3 BCI base image
// (rpm-ndb 4.14.3), as github.com/knqyf263/go-rpmdb added it to its
// testdata in commit 1369b2ee40b7 (pkg/testdata/sle15-bci/Packages.db,
// SHA-256 c0578453d18e262823bc498ea1805645c9a94b9a91898d50dcf186a56d378968),
// kept in extension/rpmdb/ndb/testdata.
func RealNDB() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "../ndb/testdata/sle15-bci/Packages.db")
}

// ExportMagic starts each header of rpmdb --exportdb's header list.
var ExportMagic = []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}

// NDBBlobs are the header blobs our NDB reader extracts from the file.
func NDBBlobs(t testing.TB, file string) [][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	db, err := ndb.Open(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	var blobs [][]byte
	err = db.Each(context.Background(), func(num uint32, blob []byte, err error) error {
		blobs = append(blobs, blob)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return blobs
}

// Import imports headers with Debian's rpm into a new database (rpm
// checks each header as it reads it) and returns its directory and how
// many packages it holds.
func Import(t testing.TB, blobs ...[]byte) (string, int) {
	t.Helper()
	var list bytes.Buffer
	for _, b := range blobs {
		list.Write(ExportMagic)
		list.Write(b)
	}
	dir := t.TempDir()
	cmd := exec.Command(need.Program(t, "rpmdb"), "--dbpath", dir, "--importdb")
	cmd.Stdin = &list
	out, _ := cmd.CombinedOutput()
	n := strings.Count(string(RPM(t, "--dbpath", dir, "-qa", "--qf", "x\n")), "x")
	t.Logf("rpmdb --importdb: %d of %d headers; %s", n, len(blobs), bytes.TrimSpace(out))
	return dir, n
}

// CopyFile copies a file (the module cache's are read-only) into dir,
// creating dir.
func CopyFile(t testing.TB, src, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(dir, filepath.Base(src))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// Package is a package as rpm -qa --dump shows it.
type Package struct {
	Name, Version string
	Files         []File
}

// File is a file line of rpm --dump: its path and stored digest ("" where
// rpm prints zeros: a directory, a link, a ghost).
type File struct{ Path, Digest string }

// RPM runs Debian's rpm with args, failing the test on an error.
func RPM(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(need.Program(t, "rpm"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rpm %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// installSpec packages the tree %{tree} as it is.
const installSpec = `Name: %{pkgname}
Version: %{pkgversion}
Release: 1
Summary: files for pkgpersist's tests
License: MIT
BuildArch: noarch
%description
fixture
%install
cp -a %{tree}/. %{buildroot}/
%files -f %{tree}.list
`

// Install builds the noarch package name, version 1.0, holding files
// (path in the root → content) with Debian's rpmbuild and installs it with
// Debian's rpm into root, its database at dbpath inside the root: the
// files and the database are then as rpm writes them.
func Install(t testing.TB, root, dbpath, name string, files map[string]string) {
	t.Helper()
	InstallVersion(t, root, dbpath, name, "1.0", files)
}

// InstallVersion is Install of the package at version.
func InstallVersion(t testing.TB, root, dbpath, name, version string, files map[string]string) {
	t.Helper()
	rpmbuild := need.Program(t, "rpmbuild")
	// not t.TempDir(): a subtest's name puts shell syntax in its path,
	// which rpmbuild's scripts do not quote
	top, err := os.MkdirTemp("", "rpmbuild")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	tree := filepath.Join(top, "tree")
	var list strings.Builder
	treefiles.Write(t, tree, files)
	for path := range files {
		list.WriteString(path + "\n")
	}
	if err := os.WriteFile(tree+".list", []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(top, "install.spec")
	if err := os.WriteFile(spec, []byte(installSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rpmbuild, "--define", "_topdir "+top, "--define", "pkgname "+name, "--define", "pkgversion "+version, "--define", "tree "+tree, "-bb", spec).CombinedOutput()
	if err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	RPM(t, "--root", root, "--dbpath", dbpath, "-i", "--nodeps", filepath.Join(top, "RPMS/noarch", name+"-"+version+"-1.noarch.rpm"))
}

// Dump is rpm's own list of the packages of the database in dbpath, in
// its order, with each file's stored digest: rpm -qa --dump. defines are
// more --define arguments (the backend).
func Dump(t testing.TB, dbpath string, defines ...string) []Package {
	t.Helper()
	args := []string{"--dbpath", dbpath}
	for _, d := range defines {
		args = append(args, "--define", d)
	}
	out := RPM(t, append(args, "-qa", "--qf", "%{NAME}\t%{VERSION}\n", "--dump")...)
	var pkgs []Package
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "/"):
			m := dumpLine.FindStringSubmatch(line)
			if m == nil || len(pkgs) == 0 {
				t.Fatalf("rpm --dump line %q", line)
			}
			digest := m[2]
			if strings.Trim(digest, "0") == "" {
				digest = ""
			}
			p := &pkgs[len(pkgs)-1]
			p.Files = append(p.Files, File{m[1], digest})
		case line == "(contains no files)":
		default:
			name, version, ok := strings.Cut(line, "\t")
			if !ok {
				t.Fatalf("rpm -qa line %q", line)
			}
			pkgs = append(pkgs, Package{Name: name, Version: version})
		}
	}
	return pkgs
}

// dumpLine is rpm --dump's "path size mtime digest mode owner group
// isconfig isdoc rdev symlink".
var dumpLine = regexp.MustCompile(`^(.*) \d+ \d+ ([0-9a-f]+) 0[0-7]+ \S+ \S+ [01] [01] \d+ .*$`)

// Read is a reader's list of the same packages.
func Read(t testing.TB, db *rpmdb.DB) []Package {
	t.Helper()
	var pkgs []Package
	err := db.Packages(func(p rpmdb.Package) error {
		files, err := p.Header.Files()
		if err != nil {
			return err
		}
		pkg := Package{Name: p.Name(), Version: p.Version()}
		for _, f := range files {
			pkg.Files = append(pkg.Files, File{f.Path, f.Digest})
		}
		pkgs = append(pkgs, pkg)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// Diff says where two lists differ ("" when they do not).
func Diff(got, want []Package) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d packages, rpm lists %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Version != w.Version || len(g.Files) != len(w.Files) {
			return fmt.Sprintf("package %d: %s %s with %d files, rpm lists %s %s with %d", i, g.Name, g.Version, len(g.Files), w.Name, w.Version, len(w.Files))
		}
		for j := range g.Files {
			if g.Files[j] != w.Files[j] {
				return fmt.Sprintf("%s: file %d is %+v, rpm says %+v", g.Name, j, g.Files[j], w.Files[j])
			}
		}
	}
	return ""
}

// Owner is rpm's answer for a path: the first package, in rpm's order,
// whose list has it, and the digest that package recorded.
type Owner struct {
	Package, Version, Digest string
}

// Owners maps every path of the packages to its first owner.
func Owners(pkgs []Package) map[string]Owner {
	out := map[string]Owner{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			if _, ok := out[f.Path]; !ok {
				out[f.Path] = Owner{p.Name, p.Version, f.Digest}
			}
		}
	}
	return out
}

// Compare checks the database of root against rpm's account of the
// same database in dbpath (defines are more --define arguments): the
// package list with every file and digest (rpm -qa --dump), each
// package's release, arch, epoch and install time, and the owner and
// version a lookup gives for every path, and each package's record
// number (rpm's header instance, %{DBINSTANCE}).
func Compare(t testing.TB, root, dbpath string, defines ...string) {
	t.Helper()
	compare(t, root, dbpath, true, defines)
}

// CompareHeaders is Compare where dbpath is rpm's import of the headers
// of root's database (rpmdb --importdb, Import), not the same database:
// rpm numbered the imported records itself, so record numbers are not
// compared.
func CompareHeaders(t testing.TB, root, dbpath string, defines ...string) {
	t.Helper()
	compare(t, root, dbpath, false, defines)
}

func compare(t testing.TB, root, dbpath string, instances bool, defines []string) {
	t.Helper()
	want := Dump(t, dbpath, defines...)
	problems := &fsroot.Problems{}
	fs, err := fsroot.OpenContext(fsroot.WithProblems(context.Background(), problems), root)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	db := rpmdb.New(context.Background(), fs)
	defer db.Close()
	got := Read(t, db)
	if d := Diff(got, want); d != "" {
		t.Fatal(d)
	}
	args := []string{"--dbpath", dbpath}
	for _, d := range defines {
		args = append(args, "--define", d)
	}
	wantMeta := strings.Split(strings.TrimSuffix(string(RPM(t, append(args, "-qa", "--qf", metaFormat)...)), "\n"), "\n")
	if gotMeta := Meta(t, db); strings.Join(gotMeta, "\n") != strings.Join(wantMeta, "\n") {
		t.Errorf("packages:\n%s\nrpm -qa --qf %q:\n%s", strings.Join(gotMeta, "\n"), metaFormat, strings.Join(wantMeta, "\n"))
	}
	if instances {
		wantNums := string(RPM(t, append(args, "-qa", "--qf", "%{DBINSTANCE}\n")...))
		var gotNums strings.Builder
		if err := db.Packages(func(p rpmdb.Package) error {
			fmt.Fprintf(&gotNums, "%d\n", p.Num)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if gotNums.String() != wantNums {
			t.Errorf("record numbers:\n%s\nrpm -qa --qf %%{DBINSTANCE}:\n%s", gotNums.String(), wantNums)
		}
	}
	files := 0
	for path, o := range Owners(want) {
		files++
		got := db.Lookup(path, func(int32) string { return "" })
		if got.Package != o.Package || got.Version != o.Version {
			t.Errorf("%s: owner %s %s, rpm says %s %s", path, got.Package, got.Version, o.Package, o.Version)
		}
	}
	if ps := problems.List(); len(ps) > 0 {
		t.Errorf("problems: %v", ps)
	}
	n := 0
	for _, p := range want {
		n += len(p.Files)
	}
	t.Logf("%s: %d packages, %d files (%d paths) agree with rpm", db.Path(), len(want), n, files)
}

// metaFormat is the query format of what Meta lists.
const metaFormat = "%{NAME}\t%{RELEASE}\t%{ARCH}\t%{EPOCH}\t%{INSTALLTIME}\n"

// Meta is the reader's list of each package's name, release, arch, epoch
// and install time, as rpm -qa --qf metaFormat prints them ("(none)" for
// a tag the header does not have).
func Meta(t testing.TB, db *rpmdb.DB) []string {
	t.Helper()
	var out []string
	none := func(s string, ok bool) string {
		if !ok {
			return "(none)"
		}
		return s
	}
	err := db.Packages(func(p rpmdb.Package) error {
		e, hasEpoch := p.Epoch()
		it, hasTime := p.InstallTime()
		out = append(out, strings.Join([]string{p.Name(), none(p.Release(), p.Header.Has(rpmdb.TagRelease)), none(p.Arch(), p.Header.Has(rpmdb.TagArch)),
			none(fmt.Sprint(e), hasEpoch), none(fmt.Sprint(it), hasTime)}, "\t"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
