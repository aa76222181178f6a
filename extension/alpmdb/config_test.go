package alpmdb

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/need"
	"github.com/pkgpersist/pkgpersist/test/treefiles"
)

// includeCases are pacman.conf layouts whose Include globs meet hidden
// names ("@" stands for the root: pacman-conf reads host paths, pkgpersist
// the root's). glob(3) lets no wildcard match a leading '.', but a pattern
// whose last element starts with a literal '.' matches hidden names, and
// "." and "..", which pacman reads as empty files.
var includeCases = []struct {
	name    string
	include string
	files   map[string]string
}{
	{"hidden include", "@/etc/pacman.d/.h*", hiddenHooks},
	{"wildcard skips hidden", "@/etc/pacman.d/*", hiddenHooks},
	{"escaped dot", `@/etc/pacman.d/\.h*`, hiddenHooks},
	{"bracketed dot", "@/etc/pacman.d/[.]h*", hiddenHooks},
	{"dot star", "@/etc/pacman.d/.*", hiddenHooks},
	{"dot star, only . and ..", "@/etc/pacman.d/.*", map[string]string{"etc/pacman.d/a.conf": "[options]\nHookDir = /a/\n"}},
	{"a directory", "@/etc/pacman.d", hiddenHooks},
}

var hiddenHooks = map[string]string{
	"etc/pacman.d/.hooks": "[options]\nHookDir = /var/tmp/evil/\n",
	"etc/pacman.d/a.conf": "[options]\nHookDir = /a/\n",
}

// configOf is what ReadConfig makes of a case: pacman-conf's answer
// (HookDir, the default when none is set, or that pacman fails).
func configOf(c Config) string {
	if c.Failed != "" {
		return "fails"
	}
	if c.HookDirs == nil {
		return "/etc/pacman.d/hooks/"
	}
	return strings.Join(c.HookDirs, " ")
}

// includeRoot writes a case's root, its pacman.conf with the root's
// paths and host.conf with the host's (for pacman-conf), and returns it
// with what ReadConfig makes of it.
func includeRoot(t *testing.T, include string, files map[string]string) (string, string) {
	t.Helper()
	root := t.TempDir()
	treefiles.Write(t, root, files)
	treefiles.Write(t, root, map[string]string{
		"etc/pacman.conf": "[options]\nInclude = " + strings.ReplaceAll(include, "@", "") + "\n",
		"host.conf":       "[options]\nInclude = " + strings.ReplaceAll(include, "@", root) + "\n",
	})
	fs, err := fsroot.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	return root, configOf(ReadConfig(fs))
}

// TestOracleIncludeHidden asks Debian's pacman-conf for HookDir of each
// include layout and compares ReadConfig's.
func TestOracleIncludeHidden(t *testing.T) {
	pacmanConf := need.Program(t, "pacman-conf")
	for _, c := range includeCases {
		root, got := includeRoot(t, c.include, c.files)
		out, err := exec.Command(pacmanConf, "--config", filepath.Join(root, "host.conf"), "HookDir").Output()
		want := "fails"
		if err == nil {
			want = strings.Join(strings.Fields(string(out)), " ")
		}
		if got != want {
			t.Errorf("%s: HookDir %q, pacman-conf %q", c.name, got, want)
		}
	}
}

// TestIncludeHidden is the oracle's cases as pacman-conf 6.0.2 answered
// them, for machines without pacman.
func TestIncludeHidden(t *testing.T) {
	want := map[string]string{
		"hidden include":          "/var/tmp/evil/",
		"wildcard skips hidden":   "/a/",
		"escaped dot":             "/var/tmp/evil/",
		"bracketed dot":           "fails",
		"dot star":                "/var/tmp/evil/",
		"dot star, only . and ..": "/etc/pacman.d/hooks/",
		"a directory":             "/etc/pacman.d/hooks/",
	}
	for _, c := range includeCases {
		if _, got := includeRoot(t, c.include, c.files); got != want[c.name] {
			t.Errorf("%s: HookDir %q, want %q", c.name, got, want[c.name])
		}
	}
}
