package provenance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/need"
	"github.com/pkgpersist/pkgpersist/test/pacmanoracle"
)

// pacmanFiles are the fixture package's files: a name with a space and
// one with a backslash (mtree escapes them as \040 and \134), a backup
// file, and files the test changes after the install.
var pacmanFiles = map[string]string{
	"usr/bin/fixture-tool":              "#!/bin/sh\necho tool\n",
	"usr/share/libalpm/scripts/fixture": "#!/bin/sh\necho hook\n",
	"usr/share/fixture/with space":      "spaced\n",
	`usr/share/fixture/back\slash`:      "slashed\n",
	"usr/share/fixture/touched":         "same content\n",
	"usr/share/fixture/chmodded":        "same content, other mode\n",
	"usr/share/fixture/rewritten":       "original\n",
	"usr/share/fixture/same-size":       "original\n",
	"usr/share/fixture/became-link":     "same content\n",
	"usr/share/fixture/became-dir":      "a file\n",
	"etc/fixture.conf":                  "setting = 1\n",
}

// pacmanLinks are the fixture package's symlinks: one the test repoints,
// one whose target has a space (mtree writes it link=...\040...).
var pacmanLinks = map[string]string{
	"usr/bin/fixture-link":      "fixture-tool",
	"usr/bin/fixture-repointed": "fixture-tool",
	"usr/bin/fixture-spaced":    "../share/fixture/with space",
}

// buildPacmanPackage writes fixturepkg as makepkg's create_package does:
// .PKGINFO, a gzip'ed .MTREE from bsdtar --format=mtree with makepkg's
// options, and a tar of everything.
func buildPacmanPackage(t *testing.T, dir string) string {
	t.Helper()
	bsdtar := need.Program(t, "bsdtar")
	tree := filepath.Join(dir, "pkgtree")
	info := "pkgname = fixturepkg\npkgver = 1.0-1\npkgdesc = pkgpersist fixture\narch = any\nsize = 1\nbackup = etc/fixture.conf\n"
	files := map[string]string{".PKGINFO": info}
	for name, data := range pacmanFiles {
		files[name] = data
	}
	for name, data := range files {
		p := filepath.Join(tree, name)
		mustDo(t, os.MkdirAll(filepath.Dir(p), 0o755))
		mustDo(t, os.WriteFile(p, []byte(data), 0o644))
	}
	mustDo(t, os.Chmod(filepath.Join(tree, "usr/bin/fixture-tool"), 0o755))
	for name, target := range pacmanLinks {
		mustDo(t, os.Symlink(target, filepath.Join(tree, name)))
	}
	mustDo(t, os.MkdirAll(filepath.Join(tree, "usr/share/fixture-empty"), 0o755))
	var list []string
	mustDo(t, filepath.Walk(tree, func(p string, _ os.FileInfo, err error) error {
		if rel, _ := filepath.Rel(tree, p); rel != "." {
			list = append(list, rel)
		}
		return err
	}))
	sort.Strings(list)
	run := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = tree
		cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	// makepkg: bsdtar -cnf - --format=mtree --options='!all,use-set,type,
	// uid,gid,mode,time,size,md5,sha256,link' ... | gzip -c -f -n > .MTREE
	run(bsdtar, append([]string{"-cnf", filepath.Join(dir, "mtree"), "--format=mtree",
		"--options=!all,use-set,type,uid,gid,mode,time,size,md5,sha256,link"}, list...)...)
	run("sh", "-c", "gzip -c -f -n < ../mtree > .MTREE")
	pkg := filepath.Join(dir, "fixturepkg-1.0-1-any.pkg.tar.gz")
	run(bsdtar, append([]string{"-czf", pkg, ".MTREE"}, list...)...)
	return pkg
}

// TestOraclePacman: Debian's pacman installs fixturepkg into a root,
// then some of its files are changed. For every file of the package, and
// for files no package has, provenance names the owner pacman -Qo names,
// and says modified exactly for the files pacman -Qkk reports a checksum
// mismatch of (backup files included: pacman lists them too).
func TestOraclePacman(t *testing.T) {
	p := pacmanoracle.New(t, "")
	root := p.Path
	mustDo(t, os.MkdirAll(filepath.Join(root, "usr/local/bin"), 0o755))
	if out, ok := p.Run("-U", buildPacmanPackage(t, p.Dir)); !ok {
		t.Fatalf("pacman -U:\n%s", out)
	}
	file := func(name string) string { return filepath.Join(root, name) }
	mustDo(t, os.WriteFile(file("usr/share/fixture/rewritten"), []byte("planted, longer\n"), 0o644))
	mustDo(t, os.WriteFile(file("usr/share/fixture/same-size"), []byte("ORIGINAL\n"), 0o644))
	mustDo(t, os.WriteFile(file("usr/bin/fixture-tool"), []byte("#!/bin/sh\necho evil\n"), 0o755))
	mustDo(t, os.WriteFile(file("etc/fixture.conf"), []byte("setting = 2\n"), 0o644))
	later := time.Now().Add(time.Hour)
	mustDo(t, os.Chtimes(file("usr/share/fixture/touched"), later, later))
	mustDo(t, os.Chmod(file("usr/share/fixture/chmodded"), 0o600))
	mustDo(t, os.WriteFile(file("usr/local/bin/unowned"), []byte("x\n"), 0o755))
	// what the package installed replaced by another type, or pointing
	// elsewhere; became-link leads to the same contents
	mustDo(t, os.Remove(file("usr/bin/fixture-repointed")))
	mustDo(t, os.Symlink("../share/fixture/touched", file("usr/bin/fixture-repointed")))
	mustDo(t, os.Remove(file("usr/share/fixture/became-link")))
	mustDo(t, os.Symlink("touched", file("usr/share/fixture/became-link")))
	mustDo(t, os.Remove(file("usr/share/fixture/became-dir")))
	mustDo(t, os.Mkdir(file("usr/share/fixture/became-dir"), 0o755))
	mustDo(t, os.Remove(file("usr/share/fixture-empty")))
	mustDo(t, os.WriteFile(file("usr/share/fixture-empty"), []byte("x\n"), 0o644))

	wantModified, out := p.Modified()
	if len(wantModified) != 8 {
		t.Fatalf("pacman -Qkk does not report the 4 rewritten files, the repointed symlink and the 3 of another type as modified (%v):\n%s", wantModified, out)
	}

	s, fs, problems := openSource(t, root)
	paths := []string{"/usr/share/fixture-empty", "/usr/share/fixture", "/usr/local/bin/unowned", "/usr/local/bin", "/var/lib/pacman", "/usr/share/fixture/not-installed"}
	for name := range pacmanFiles {
		paths = append(paths, "/"+name)
	}
	for name := range pacmanLinks {
		paths = append(paths, "/"+name)
	}
	sort.Strings(paths)
	// a package's file now a directory, or its directory now a file:
	// pacman -Qo matches the path with a trailing '/' exactly as the
	// file list has it (src/pacman/query.c query_fileowner appends one
	// to a directory), so it names no owner, while pacman -Qkk reports
	// the package's entry altered ("File type mismatch"); provenance
	// answers as -Qkk does, the package that lists the path, modified
	retyped := map[string]bool{"/usr/share/fixture/became-dir": true, "/usr/share/fixture-empty": true}
	for _, path := range paths {
		if retyped[path] {
			if o := s.File(path, nil); o.Package != "fixturepkg" || !o.Modified || !wantModified[path] {
				t.Errorf("%s: provenance %q modified %v; -Qkk modified %v", path, o.Package, o.Modified, wantModified[path])
			}
			continue
		}
		owner := p.Owner(path)
		manager := ""
		if owner != "" {
			manager = "pacman"
		}
		if pkg, m := s.OwnerOf(path); pkg != owner || m != manager {
			t.Errorf("%s: provenance's owner %q (%s); pacman -Qo %q", path, pkg, m, owner)
		}
		if fs.Kind(path) == "dir" {
			// provenance reads files; a directory's owner is all it has
			continue
		}
		if o := s.File(path, nil); o.Package != owner || o.Manager != manager || o.Modified != wantModified[path] {
			t.Errorf("%s: provenance %q (%s) modified %v; pacman -Qo %q, -Qkk modified %v", path, o.Package, o.Manager, o.Modified, owner, wantModified[path])
		}
	}
	if ps := problems.List(); len(ps) > 0 {
		t.Errorf("problems %v", ps)
	}
}

// TestOraclePacmanNoMtree: with the package's mtree deleted from the
// database, pacman -Qkk says "fixturepkg: no mtree file" and checks
// nothing; provenance claims no file modified and records, once, that
// the package's files cannot be verified.
func TestOraclePacmanNoMtree(t *testing.T) {
	p := pacmanoracle.New(t, "")
	if out, ok := p.Run("-U", buildPacmanPackage(t, p.Dir)); !ok {
		t.Fatalf("pacman -U:\n%s", out)
	}
	mtree := "/var/lib/pacman/local/fixturepkg-1.0-1/mtree"
	mustDo(t, os.Remove(filepath.Join(p.Path, mtree)))
	mustDo(t, os.WriteFile(filepath.Join(p.Path, "usr/bin/fixture-tool"), []byte("#!/bin/sh\necho evil\n"), 0o755))
	if _, out := p.Modified(); !strings.Contains(out, "fixturepkg: no mtree file") {
		t.Fatalf("pacman -Qkk does not say no mtree file:\n%s", out)
	}
	s, _, problems := openSource(t, p.Path)
	for _, path := range []string{"/usr/bin/fixture-tool", "/usr/share/fixture/rewritten"} {
		if o := s.File(path, nil); o.Package != "fixturepkg" || o.Modified {
			t.Errorf("%s: provenance %q modified %v", path, o.Package, o.Modified)
		}
	}
	want := []fsroot.Problem{{Path: mtree, Cause: fsroot.CauseUnverifiable,
		Detail: "pacman database: fixturepkg has no mtree: its files' checksums cannot be checked (pacman -Qkk: no mtree file)"}}
	if got := problems.List(); !reflect.DeepEqual(got, want) {
		t.Errorf("problems %v, want %v", got, want)
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
