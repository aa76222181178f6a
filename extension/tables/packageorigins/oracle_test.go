package packageorigins

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/test/debtest"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// TestOriginsOracle: one package comes from a local file-based apt
// repository (dpkg-scanpackages), installed by the real apt-get into a
// throwaway root — apt writes the lists, its history and, through dpkg,
// dpkg's log there; another is given to dpkg -i as a file. The table
// must tell them apart.
func TestOriginsOracle(t *testing.T) {
	need.Program(t, "dpkg-scanpackages")
	apt := need.Program(t, "apt-get")
	dir := t.TempDir()
	root := debtest.NewRoot(t)
	repo := filepath.Join(dir, "repo")
	debtest.Must(t, os.MkdirAll(repo, 0o755))
	harmless := map[string]string{"postinst": "#!/bin/sh\necho configured\n"}
	debtest.Build(t, repo, debtest.Pkg{Name: "fromrepo", Version: "1.0", Arch: "all", Control: harmless})
	local := debtest.Build(t, dir, debtest.Pkg{Name: "fromfile", Version: "2.0", Arch: "amd64", Control: harmless})
	scan := exec.Command("dpkg-scanpackages", ".", "/dev/null")
	scan.Dir = repo
	idx, err := scan.Output()
	debtest.Must(t, err)
	debtest.Must(t, os.WriteFile(filepath.Join(repo, "Packages"), idx, 0o644))
	for _, d := range []string{"etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial"} {
		debtest.Must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	debtest.Must(t, os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte("deb [trusted=yes] file:"+repo+" ./\n"), 0o644))
	empty := filepath.Join(dir, "apt.conf")
	debtest.Must(t, os.WriteFile(empty, nil, 0o644))
	opts := []string{"-o", "Dir=" + root, "-o", "Dir::State::status=" + root + "/var/lib/dpkg/status", "-o", "Dir::Log=" + root + "/var/log/apt",
		"-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root", "-o", "DPkg::Path=/usr/sbin:/usr/bin:/sbin:/bin"}
	for _, o := range debtest.DpkgOptions(root) {
		opts = append(opts, "-o", "DPkg::Options::="+o)
	}
	for _, args := range [][]string{{"update"}, {"-y", "install", "fromrepo"}} {
		cmd := exec.Command(apt, append(opts, args...)...)
		cmd.Env = append(os.Environ(), "APT_CONFIG="+empty, "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apt-get %v: %v\n%s", args, err, out)
		}
	}
	debtest.Dpkg(t, root, "-i", local)

	rows, err := Rows(context.Background(), root, dpkgdb.Admindir)
	debtest.Must(t, err)
	if len(rows) != 2 {
		t.Fatalf("rows: %v", rows)
	}
	lists, _ := filepath.Glob(filepath.Join(root, "var/lib/apt/lists/*_Packages*"))
	if len(lists) != 1 {
		t.Fatalf("apt wrote lists %v", lists)
	}
	for _, r := range rows {
		switch r["package"] {
		case "fromrepo":
			if r["source"] != FromRepository || r["in_repository"] != "1" || r["repositories"] != filepath.Base(lists[0]) ||
				!strings.Contains(r["installed_by"], "install fromrepo") || r["logged_at"] == "" {
				t.Errorf("fromrepo: %v", r)
			}
		case "fromfile":
			if r["source"] != FromLocalFile || r["in_repository"] != "0" || r["installed_by"] != "" || r["logged_at"] == "" {
				t.Errorf("fromfile: %v", r)
			}
		default:
			t.Errorf("unexpected row %v", r)
		}
	}
}
