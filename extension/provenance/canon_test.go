package provenance_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/test/pacmanoracle"
	"github.com/pkgpersist/pkgpersist/test/rpmtest"
	"github.com/pkgpersist/pkgpersist/test/treefiles"
)

// mergedRoot writes files into a root whose /lib, /bin and /sbin are
// links into /usr, as on a merged-/usr system (Arch: /sbin -> usr/bin).
func mergedRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"usr/lib", "usr/bin"} {
		mustDo(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	mustDo(t, os.Symlink("usr/lib", filepath.Join(root, "lib")))
	mustDo(t, os.Symlink("usr/bin", filepath.Join(root, "bin")))
	mustDo(t, os.Symlink("/usr/bin", filepath.Join(root, "sbin")))
	treefiles.Write(t, root, files)
	return root
}

// openSource opens root and a Source on it, closed when the test ends,
// and the problems reading records.
func openSource(t *testing.T, root string) (*provenance.Source, *fsroot.Root, *fsroot.Problems) {
	t.Helper()
	problems := &fsroot.Problems{}
	fs, err := fsroot.OpenContext(fsroot.WithProblems(context.Background(), problems), root)
	mustDo(t, err)
	s := provenance.New(fs)
	t.Cleanup(func() {
		s.Close()
		fs.Close()
	})
	return s, fs, problems
}

// provOf answers for each path of root, failing on a recorded problem.
func provOf(t *testing.T, root string, paths ...string) []provenance.Of {
	t.Helper()
	s, _, problems := openSource(t, root)
	s.Prefetch(paths)
	var out []provenance.Of
	for _, p := range paths {
		out = append(out, s.File(p, nil))
	}
	if ps := problems.List(); len(ps) > 0 {
		t.Errorf("problems %v", ps)
	}
	return out
}

// TestThroughDirectoryLinks: a file a table names through a linked
// directory (/lib/apk/commit_hooks.d/x where /lib -> usr/lib) is owned by
// the package whose database lists it under the directory's real name,
// and the other way round; its content is compared as usual. apk, pacman
// and dpkg alike: the package, installed into this root, puts its file
// at the path the table names.
func TestThroughDirectoryLinks(t *testing.T) {
	const hook = "#!/bin/sh\necho hook\n"
	sum := sha1.Sum([]byte(hook))
	z := "Q1" + base64.StdEncoding.EncodeToString(sum[:])
	cases := []struct {
		name  string
		db    map[string]string // database files
		file  string            // where the file really is
		asked []string          // the names a table may give it
		pkg   string
	}{
		{"apk", map[string]string{"lib/apk/db/installed": "P:apk-tools\nV:3.0.0-r0\nF:usr/lib/apk/commit_hooks.d\nR:x\nZ:" + z + "\n\n"},
			"usr/lib/apk/commit_hooks.d/x", []string{"/lib/apk/commit_hooks.d/x", "/usr/lib/apk/commit_hooks.d/x"}, "apk-tools"},
		{"apk lists the link", map[string]string{"lib/apk/db/installed": "P:old\nV:1\nF:lib/apk/commit_hooks.d\nR:y\nZ:" + z + "\n\n"},
			"usr/lib/apk/commit_hooks.d/y", []string{"/usr/lib/apk/commit_hooks.d/y", "/lib/apk/commit_hooks.d/y"}, "old"},
		{"pacman", map[string]string{
			"var/lib/pacman/local/ALPM_DB_VERSION":    "9\n",
			"var/lib/pacman/local/hooker-1.0-1/desc":  "%NAME%\nhooker\n\n%VERSION%\n1.0-1\n",
			"var/lib/pacman/local/hooker-1.0-1/files": "%FILES%\nusr/\nusr/bin/\nusr/bin/hooker\n",
			"var/lib/pacman/local/hooker-1.0-1/mtree": gzipped(t, "#mtree\n./usr/bin/hooker type=file sha256digest="+fsroot.DigestsOf([]byte(hook)).SHA256+"\n")},
			"usr/bin/hooker", []string{"/sbin/hooker", "/bin/hooker", "/usr/bin/hooker"}, "hooker"},
		{"dpkg", map[string]string{
			"var/lib/dpkg/status":              "",
			"var/lib/dpkg/info/hooker.list":    "/usr\n/usr/lib\n/usr/lib/hooker\n/usr/lib/hooker/x\n",
			"var/lib/dpkg/info/hooker.md5sums": md5Line(hook, "usr/lib/hooker/x")},
			"usr/lib/hooker/x", []string{"/lib/hooker/x", "/usr/lib/hooker/x"}, "hooker"},
		{"dpkg lists the link", map[string]string{
			"var/lib/dpkg/status":             "",
			"var/lib/dpkg/info/libc6.list":    "/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n",
			"var/lib/dpkg/info/libc6.md5sums": md5Line(hook, "lib/x86_64-linux-gnu/libc.so.6")},
			"usr/lib/x86_64-linux-gnu/libc.so.6", []string{"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"}, "libc6"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := mergedRoot(t, c.db)
			treefiles.Write(t, root, map[string]string{c.file: hook})
			for i, o := range provOf(t, root, c.asked...) {
				if !o.Found || o.Package != c.pkg || o.Modified {
					t.Errorf("%s as packaged: %+v", c.asked[i], o)
				}
			}
			treefiles.Write(t, root, map[string]string{c.file: "#!/bin/sh\necho planted\n"})
			for i, o := range provOf(t, root, c.asked...) {
				if o.Package != c.pkg || !o.Modified {
					t.Errorf("%s changed: %+v", c.asked[i], o)
				}
			}
			// a file of the same directory no package lists stays unowned
			treefiles.Write(t, root, map[string]string{filepath.Join(filepath.Dir(c.file), "planted"): "x\n"})
			asked := filepath.Join(filepath.Dir(c.asked[0]), "planted")
			if o := provOf(t, root, asked)[0]; !o.Found || o.Package != "" {
				t.Errorf("%s: %+v", asked, o)
			}
		})
	}
}

func md5Line(data, name string) string {
	return fsroot.DigestsOf([]byte(data)).MD5 + "  " + name + "\n"
}

// TestOraclePacmanThroughLink: pacman -Qo resolves the directory part of
// the path it is given before matching the file lists (src/pacman/query.c
// query_fileowner, lrealpath: realpath of the dirname, then the base
// name); for a package's file named through /sbin -> usr/bin (Arch),
// provenance names the owner pacman does.
func TestOraclePacmanThroughLink(t *testing.T) {
	p := pacmanoracle.New(t, "")
	mustDo(t, os.MkdirAll(filepath.Join(p.Path, "usr/bin"), 0o755))
	mustDo(t, os.Symlink("usr/bin", filepath.Join(p.Path, "sbin")))
	if out, ok := p.Run("-U", buildPacmanPackage(t, p.Dir)); !ok {
		t.Fatalf("pacman -U:\n%s", out)
	}
	const asked = "/sbin/fixture-tool"
	if owner := p.Owner(asked); owner != "fixturepkg" {
		t.Fatalf("pacman -Qo %s: %q", asked, owner)
	}
	if o := provOf(t, p.Path, asked)[0]; o.Package != "fixturepkg" || o.Manager != "pacman" || o.Modified {
		t.Errorf("provenance of %s: %+v", asked, o)
	}
}

// TestOracleRPMThroughLink: rpm -qf matches a file by its directory's
// identity, not its name (lib/fprint.c: a fingerprint is the directory's
// device and inode and the base name), so a file rpm recorded as
// /usr/lib/fixt/x is found as /lib/fixt/x through /lib -> usr/lib, and
// one recorded as /bin/fixt as /usr/bin/fixt; provenance names the same
// owner.
func TestOracleRPMThroughLink(t *testing.T) {
	dir := t.TempDir()
	rpm := rpmtest.Build(t, dir, rpmtest.Spec{Name: "fixt", Version: "1", Release: "1",
		Body: "Summary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%install\n" +
			"mkdir -p %{buildroot}/usr/lib/fixt %{buildroot}/bin\necho hi > %{buildroot}/usr/lib/fixt/x\necho hi > %{buildroot}/bin/fixt\n" +
			"%files\n/usr/lib/fixt/x\n/bin/fixt\n"})
	root := filepath.Join(dir, "root")
	mustDo(t, os.MkdirAll(filepath.Join(root, "usr/lib"), 0o755))
	mustDo(t, os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	mustDo(t, os.Symlink("usr/lib", filepath.Join(root, "lib")))
	mustDo(t, os.Symlink("usr/bin", filepath.Join(root, "bin")))
	rpmtest.RPM(t, dir, root, "-i", "--nodeps", rpm)
	asked := []string{"/lib/fixt/x", "/usr/bin/fixt"}
	for i, o := range provOf(t, root, asked...) {
		out := rpmtest.RPM(t, dir, root, "-q", "--qf", "%{NAME}\n", "-f", asked[i])
		if out != "fixt\n" {
			t.Fatalf("rpm -qf %s: %q", asked[i], out)
		}
		if o.Package != "fixt" || o.Manager != "rpm" || o.Modified {
			t.Errorf("provenance of %s: %+v", asked[i], o)
		}
	}
}

// gzipped is s compressed as pacman stores a package's mtree.
func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	mustDo(t, err)
	mustDo(t, w.Close())
	return b.String()
}
