package rpmdb

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/ndb"
	"github.com/pkgpersist/pkgpersist/test/need"
)

const spec = `Name: pkgpersist-fixture
Version: 1.0
Release: 1
Summary: a DNF plugin and its configuration, for pkgpersist's tests
License: MIT
BuildArch: noarch
%description
fixture
%install
mkdir -p %{buildroot}/usr/lib/python3.11/site-packages/dnf-plugins %{buildroot}/etc/dnf/plugins
echo 'import dnf' > %{buildroot}/usr/lib/python3.11/site-packages/dnf-plugins/owned.py
printf '[main]\nenabled=1\n' > %{buildroot}/etc/dnf/plugins/owned.conf
%files
/usr/lib/python3.11/site-packages/dnf-plugins/owned.py
%config /etc/dnf/plugins/owned.conf
`

// installedRoot builds a tiny package with Debian's rpmbuild and installs
// it with rpm into a fresh root, which then has a real rpmdb.sqlite.
func installedRoot(t *testing.T) (root string, rpm func(args ...string) string) {
	t.Helper()
	need.Program(t, "rpmbuild")
	rpmBin := need.Program(t, "rpm")
	top := t.TempDir()
	if err := os.MkdirAll(filepath.Join(top, "SPECS"), 0o755); err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(top, "SPECS/t.spec")
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("rpmbuild", "--define", "_topdir "+top, "-bb", specPath).CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	pkgs, _ := filepath.Glob(filepath.Join(top, "RPMS/noarch/*.rpm"))
	if len(pkgs) != 1 {
		t.Fatalf("built %v", pkgs)
	}
	root = t.TempDir()
	rpm = func(args ...string) string {
		out, _ := exec.Command(rpmBin, append([]string{"--root", root, "--dbpath", "/var/lib/rpm"}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	rpm("-i", "--nodeps", pkgs[0])
	if _, err := os.Stat(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite")); err != nil {
		t.Fatalf("rpm made no sqlite database: %v", err)
	}
	return root, rpm
}

// TestAgainstRPM: owners and modifications agree with rpm -qf and rpm -V.
func TestAgainstRPM(t *testing.T) {
	root, rpm := installedRoot(t)
	conf := filepath.Join(root, "etc/dnf/plugins/owned.conf")
	if err := os.WriteFile(filepath.Join(root, "etc/dnf/plugins/unowned.conf"), []byte("[main]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := fsroot.New(root)
	check := func(name string, wantModified bool) {
		t.Helper()
		data, _ := os.ReadFile(filepath.Join(root, name))
		db := New(context.Background(), fs)
		defer db.Close()
		got := db.Lookup(name, func(algo int32) string {
			h := NewHash(algo)
			h.Write(data)
			return hex.EncodeToString(h.Sum(nil))
		})
		want := rpm("-qf", "--qf", "%{NAME}", name)
		if strings.Contains(want, "not owned") || strings.HasPrefix(want, "error:") {
			want = ""
		}
		if got.Package != want || got.Modified != wantModified {
			t.Errorf("%s: got %+v, rpm says %q (modified %v)", name, got, want, wantModified)
		}
	}
	check("/usr/lib/python3.11/site-packages/dnf-plugins/owned.py", false)
	check("/etc/dnf/plugins/owned.conf", false)
	check("/etc/dnf/plugins/unowned.conf", false)
	// change the conffile: rpm -V reports its digest, and so must we
	if err := os.WriteFile(conf, []byte("[main]\nenabled=1\n# planted\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := rpm("-V", "pkgpersist-fixture"); !strings.Contains(v, "5") || !strings.Contains(v, "/etc/dnf/plugins/owned.conf") {
		t.Fatalf("rpm -V does not see the change: %q", v)
	}
	check("/etc/dnf/plugins/owned.conf", true)
}

func TestNoDatabase(t *testing.T) {
	db := New(context.Background(), fsroot.New(t.TempDir()))
	if o := db.Lookup("/etc/x", func(int32) string { return "x" }); o != (Owner{}) {
		t.Fatalf("%+v", o)
	}
}

// FuzzParseHeader: any blob is parsed or refused without a panic, and
// what is parsed is bounded by the blob. Seeds: real SUSE headers (from
// the NDB file) and built ones.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 'b', 'c', 0})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(header("pkg", "/usr/lib/yum-plugins/", "fastestmirror.py", "fastestmirror.pyc"))
	if data, err := os.ReadFile("ndb/testdata/sle15-bci/Packages.db"); err == nil {
		if db, err := ndb.Open(bytes.NewReader(data), int64(len(data))); err == nil {
			n := 0
			db.Each(context.Background(), func(_ uint32, blob []byte, _ error) error {
				if len(blob) < 8<<10 && n < 4 {
					n++
					f.Add(blob)
				}
				return nil
			})
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		for _, tag := range []int32{TagName, TagVersion, TagBaseNames, TagDirNames, TagFileDigests, TagOldFileNames, TagI18NTable} {
			_ = h.Strings(tag)
		}
		_ = h.Int32s(TagDirIndexes)
		_ = h.Uint16s(1030)
		_ = h.Bytes(TagHeaderImmutable)
		_ = h.CheckDigests()
		files, _ := h.Files()
		if len(files) > len(b) {
			t.Fatalf("%d files from %d bytes", len(files), len(b))
		}
	})
}
