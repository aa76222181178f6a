package rpmdb_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// TestBDBAgainstRPM: for every package and file of the real CentOS 5 to 8
// databases, our reader says what Debian's rpm says from the same file.
func TestBDBAgainstRPM(t *testing.T) {
	rpmdbtest.EachRealBDB(t, func(t *testing.T, root, dbpath string) {
		rpmdbtest.Compare(t, root, dbpath, "_db_backend bdb_ro")
	})
}

// TestBigEndianBDB: a database written on a big-endian host (s390x,
// ppc64) reads as rpm reads it. Berkeley DB's own db_load writes one from
// the dump of a real database.
func TestBigEndianBDB(t *testing.T) {
	dump, load := need.Program(t, "db5.3_dump"), need.Program(t, "db5.3_load")
	for _, name := range []string{"centos5-plain", "centos7-plain"} {
		t.Run(name, func(t *testing.T) {
			src := rpmdbtest.RealBDB(t)[name]
			root := t.TempDir()
			dir := filepath.Join(root, "var/lib/rpm")
			must(t, os.MkdirAll(dir, 0o755))
			cmd := exec.Command("sh", "-c", `"$1" "$2" | "$3" -c db_lorder=4321 "$4"`, "sh", dump, src, load, filepath.Join(dir, "Packages"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("db_load: %v\n%s", err, out)
			}
			data, err := os.ReadFile(filepath.Join(dir, "Packages"))
			must(t, err)
			if !bytes.Equal(data[12:16], []byte{0, 0x06, 0x15, 0x61}) {
				t.Fatalf("db_load wrote magic % x, not big-endian", data[12:16])
			}
			rpmdbtest.Compare(t, root, dir, "_db_backend bdb_ro")
		})
	}
}

// TestNDBAgainstRPM: Debian's rpm has no NDB backend, so the oracle is
// rpm's own reading of the headers our NDB reader extracts: imported into
// a database of its own, rpm lists the packages and files that our
// reader, reading the NDB file itself, must list.
func TestNDBAgainstRPM(t *testing.T) {
	blobs := rpmdbtest.NDBBlobs(t, rpmdbtest.RealNDB())
	dir, n := rpmdbtest.Import(t, blobs...)
	if n != len(blobs) || n < 30 {
		t.Fatalf("rpm imported %d of the %d headers", n, len(blobs))
	}
	root := t.TempDir()
	src := rpmdbtest.RealNDB()
	rpmdbtest.CopyFile(t, src, filepath.Join(root, "usr/lib/sysimage/rpm"))
	rpmdbtest.CompareHeaders(t, root, dir)
}

// TestHeaderChecksAgainstRPM: damaged headers that rpm refuses to import
// are refused by ParseHeader or CheckDigests, and those rpm imports are
// read. The
// damage is to real headers: fields rpm checks, then random bytes of the
// index and of the region trailer.
func TestHeaderChecksAgainstRPM(t *testing.T) {
	blobs := rpmdbtest.NDBBlobs(t, rpmdbtest.RealNDB())
	base := blobs[0]
	for _, b := range blobs {
		if len(b) < len(base) || len(base) < 200 {
			base = b // a small one: rpm is run for each case
		}
	}
	set := func(b []byte, off int, v uint32) []byte {
		c := append([]byte(nil), b...)
		c[off], c[off+1], c[off+2], c[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		return c
	}
	get := func(b []byte, off int) uint32 {
		return uint32(b[off])<<24 | uint32(b[off+1])<<16 | uint32(b[off+2])<<8 | uint32(b[off+3])
	}
	il := int(get(base, 0))
	entry := func(i, field int) int { return 8 + 16*i + 4*field }
	cases := map[string][]byte{
		"as it is":          base,
		"one entry more":    set(base, 0, uint32(il+1)),
		"data longer":       set(base, 4, get(base, 4)+1),
		"region type":       set(base, entry(0, 1), rpmdb.TypeString),
		"region count":      set(base, entry(0, 3), 15),
		"region offset":     set(base, entry(0, 2), get(base, entry(0, 2))+4),
		"tag below 100":     set(base, entry(2, 0), 50),
		"count 0":           set(base, entry(2, 3), 0),
		"offset past data":  set(base, entry(2, 2), get(base, 4)+1),
		"type 10":           set(base, entry(2, 1), 10),
		"NULL type":         set(base, entry(il-1, 1), 0),
		"name as INT32":     nil,
		"truncated":         base[:len(base)-1],
		"last NUL replaced": append(append([]byte(nil), base[:len(base)-1]...), 'x'),
	}
	for i := 1; i < il; i++ {
		if get(base, entry(i, 0)) == rpmdb.TagName {
			cases["name as INT32"] = set(base, entry(i, 1), rpmdb.TypeInt32)
			cases["name misaligned"] = set(set(base, entry(i, 1), rpmdb.TypeInt32), entry(i, 2), get(base, entry(i, 2))|1)
			cases["name overlaps"] = set(base, entry(i, 2), get(base, entry(i-1, 2)))
		}
	}
	rnd := rand.New(rand.NewSource(12))
	for i := 0; i < 24; i++ {
		c := append([]byte(nil), base...)
		off := 8 + rnd.Intn(16*il)
		if i%4 == 3 { // the region trailer, at the end of the region's data
			off = 8 + 16*il + int(get(base, entry(0, 2))) + rnd.Intn(16)
		}
		c[off] ^= byte(1 << rnd.Intn(8))
		cases[fmt.Sprintf("bit flip %d at %d", i, off)] = c
	}
	// the digests of the region, recorded outside it, are made those of
	// the damaged region (as the base's trailer delimits it), so that rpm
	// refuses a case for its structure, not for its digest
	ril, rdl := -int(int32(get(base, 8+16*il+int(get(base, entry(0, 2)))+8)))/16, int(get(base, entry(0, 2)))+16
	redigest := func(c []byte) {
		region := append(append([]byte(nil), rpmdbtest.ExportMagic...), byte(ril>>24), byte(ril>>16), byte(ril>>8), byte(ril), byte(rdl>>24), byte(rdl>>16), byte(rdl>>8), byte(rdl))
		region = append(append(region, c[8:8+16*ril]...), c[8+16*il:8+16*il+rdl]...)
		s1, s256 := sha1.Sum(region), sha256.Sum256(region)
		for i := ril; i < il; i++ {
			off := 8 + 16*il + int(get(base, entry(i, 2)))
			switch get(base, entry(i, 0)) {
			case rpmdb.TagSHA1Header:
				copy(c[off:], hex.EncodeToString(s1[:]))
			case rpmdb.TagSHA256Header:
				copy(c[off:], hex.EncodeToString(s256[:]))
			}
		}
	}
	accepted := 0
	for name, c := range cases {
		if c == nil {
			t.Errorf("%s: the header has no such entry", name)
			continue
		}
		if len(c) == len(base) {
			redigest(c)
		}
		_, n := rpmdbtest.Import(t, c)
		h, err := rpmdb.ParseHeader(c)
		if err == nil {
			err = h.CheckDigests()
		}
		if (n == 1) != (err == nil) {
			t.Errorf("%s: rpm imports %d, ParseHeader: %v", name, n, err)
		}
		accepted += n
	}
	if accepted < 2 || accepted == len(cases) {
		t.Errorf("rpm accepted %d of %d cases: not a test of the checks", accepted, len(cases))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// algoSpec is a tiny package whose files rpm records in the digest
// algorithm rpmbuild is told to use.
const algoSpec = `Name: %{pkgname}
Version: 1.%{algo}
Release: 3
Epoch: %{algo}
Summary: one file whose digest rpm records in algorithm %{algo}
License: MIT
BuildArch: noarch
%description
fixture
%install
mkdir -p %{buildroot}/usr/lib/yum-plugins %{buildroot}/etc/yum/pluginconf.d
echo 'requires_api_version = "2.3"' > %{buildroot}/usr/lib/yum-plugins/%{pkgname}.py
printf '[main]\nenabled=1\n' > %{buildroot}/etc/yum/pluginconf.d/%{pkgname}.conf
ln -s %{pkgname}.py %{buildroot}/usr/lib/yum-plugins/%{pkgname}-link.py
%files
%dir /usr/lib/yum-plugins
/usr/lib/yum-plugins/%{pkgname}.py
/usr/lib/yum-plugins/%{pkgname}-link.py
%config /etc/yum/pluginconf.d/%{pkgname}.conf
`

// TestSQLiteAgainstRPM: packages whose file digests are in each algorithm
// rpm uses (MD5, SHA1, SHA256, SHA384, SHA512, SHA224), built with
// Debian's rpmbuild and installed with Debian's rpm into an rpmdb.sqlite,
// read as rpm reads them; and each file, then each file changed, is
// unmodified, then modified, as rpm -V says.
func TestSQLiteAgainstRPM(t *testing.T) {
	rpmbuild := need.Program(t, "rpmbuild")
	top, root := t.TempDir(), t.TempDir()
	spec := filepath.Join(top, "algo.spec")
	must(t, os.WriteFile(spec, []byte(algoSpec), 0o644))
	algos := map[int32]string{1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512", 11: "sha224"}
	var rpms []string
	for algo, name := range algos {
		out, err := exec.Command(rpmbuild, "--define", "_topdir "+top, "--define", "pkgname pkg-"+name,
			"--define", fmt.Sprint("algo ", algo), "--define", fmt.Sprint("_binary_filedigest_algorithm ", algo), "-bb", spec).CombinedOutput()
		if err != nil {
			t.Fatalf("rpmbuild: %v\n%s", err, out)
		}
		rpms = append(rpms, filepath.Join(top, "RPMS/noarch", fmt.Sprintf("pkg-%s-1.%d-3.noarch.rpm", name, algo)))
	}
	rpmdbtest.RPM(t, append([]string{"--root", root, "--dbpath", "/var/lib/rpm", "-i", "--nodeps"}, rpms...)...)
	dbpath := filepath.Join(root, "var/lib/rpm")
	if _, err := os.Stat(filepath.Join(dbpath, "rpmdb.sqlite")); err != nil {
		t.Fatal(err)
	}
	rpmdbtest.Compare(t, root, dbpath)

	fs := fsroot.New(root)
	defer fs.Close()
	for algo, name := range algos {
		for _, file := range []string{"/usr/lib/yum-plugins/pkg-" + name + ".py", "/etc/yum/pluginconf.d/pkg-" + name + ".conf"} {
			lookup := func() rpmdb.Owner {
				db := rpmdb.New(context.Background(), fs)
				defer db.Close()
				return db.Lookup(file, func(a int32) string {
					if a != algo {
						t.Errorf("%s: digest asked in algorithm %d, rpm recorded %d", file, a, algo)
					}
					h := rpmdb.NewHash(a)
					data, err := os.ReadFile(filepath.Join(root, file))
					must(t, err)
					h.Write(data)
					return hex.EncodeToString(h.Sum(nil))
				})
			}
			verify := func() bool {
				cmd := exec.Command(need.Program(t, "rpm"), "--root", root, "--dbpath", "/var/lib/rpm", "-V", "--nodeps", "pkg-"+name)
				out, _ := cmd.CombinedOutput()
				for _, l := range strings.Split(string(out), "\n") {
					if strings.HasSuffix(l, " "+file) && len(l) > 2 && l[2] == '5' {
						return true
					}
				}
				return false
			}
			if o := lookup(); o.Package != "pkg-"+name || o.Version != fmt.Sprintf("1.%d", algo) || o.Modified || verify() {
				t.Errorf("%s: %+v before any change (rpm -V: %v)", file, o, verify())
			}
			f, err := os.OpenFile(filepath.Join(root, file), os.O_APPEND|os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteString("import os  # planted\n")
			must(t, err)
			must(t, f.Close())
			if o := lookup(); !o.Modified || !verify() {
				t.Errorf("%s: %+v after a change (rpm -V: %v)", file, o, verify())
			}
		}
	}
}
