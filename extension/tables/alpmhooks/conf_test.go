package alpmhooks

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/alpmdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/treefiles"
)

// TestConfig: HookDir and DBPath of [options], split on spaces, with
// Include globs followed where they stand (src/pacman/conf.c
// _parse_options, setrepeatingoption, process_include); a directive
// outside any section stops pacman.
func TestConfig(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		dirs  []string
		db    string
		fail  string
	}{
		{"none", nil, []string{sysHookDir, defaultHookDir}, "/var/lib/pacman/", ""},
		{"hookdirs", map[string]string{"etc/pacman.conf": "[options]\nHookDir = /a/  /b\nHookDir = /c\nDBPath = /db/\n[core]\nHookDir = /ignored\n"},
			[]string{sysHookDir, "/a", "/b", "/c"}, "/db/", ""},
		{"include", map[string]string{
			"etc/pacman.conf":      "[options]\nInclude = /etc/pacman.d/*.conf\nHookDir = /last\n",
			"etc/pacman.d/b.conf":  "HookDir = /from-b\n",
			"etc/pacman.d/a.conf":  "HookDir = /from-a\n[core]\n",
			"etc/pacman.d/c.other": "HookDir = /no\n",
		}, []string{sysHookDir, "/from-a"}, "/var/lib/pacman/", ""},
		// glob(GLOB_NOCHECK): no match is the pattern itself, unreadable
		{"include nothing", map[string]string{"etc/pacman.conf": "[options]\nInclude = /etc/none/*.conf\n"}, nil, "", "could not be read"},
		{"outside section", map[string]string{"etc/pacman.conf": "HookDir = /x\n"}, nil, "", "must belong to a section"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			treefiles.Write(t, root, c.files)
			fs, err := fsroot.Open(root)
			must(t, err)
			defer fs.Close()
			conf := alpmdb.ReadConfig(fs)
			if c.fail != "" {
				if !strings.Contains(conf.Failed, c.fail) {
					t.Fatalf("failed %q, want %q", conf.Failed, c.fail)
				}
				return
			}
			if conf.Failed != "" || !reflect.DeepEqual(hookDirs(conf), c.dirs) || conf.DBPath != c.db {
				t.Fatalf("dirs %v db %q failed %q; want %v %q", hookDirs(conf), conf.DBPath, conf.Failed, c.dirs, c.db)
			}
		})
	}
}

// TestFixturePackages: the alpm fixture's local database owns two hook
// files, one of them changed since (test/roots/alpm.expected.md, "The
// root's local database"; TestOraclePacman asks pacman the same).
func TestFixturePackages(t *testing.T) {
	rows, err := Rows(context.Background(), filepath.Join(rootsDir, "alpm"))
	must(t, err)
	want := map[string]string{
		"/usr/share/libalpm/hooks/10-system.hook": "fixture-hooks 0",
		"/usr/share/libalpm/hooks/40-pre.hook":    "fixture-hooks 1",
	}
	for _, r := range rows {
		w, ok := want[r["path"]]
		if !ok {
			w = " 0"
		}
		if got := r["package"] + " " + r["package_modified"]; got != w {
			t.Errorf("%s: package and package_modified %q, want %q", r["path"], got, w)
		}
	}
}

// TestHiddenInclude: an Include whose last element starts with '.'
// matches hidden files (glob(3); TestOracleIncludeHidden in alpmdb asks
// pacman-conf), so a HookDir planted in one is listed with its hooks.
func TestHiddenInclude(t *testing.T) {
	root := t.TempDir()
	treefiles.Write(t, root, map[string]string{
		"etc/pacman.conf":     "[options]\nInclude = /etc/pacman.d/.h*\n",
		"etc/pacman.d/.hooks": "[options]\nHookDir = /var/tmp/evil/\n",
		"var/tmp/evil/x.hook": "[Trigger]\nOperation = Install\nType = Package\nTarget = *\n\n[Action]\nWhen = PostTransaction\nExec = /bin/true\n",
	})
	rows, err := Rows(context.Background(), root)
	must(t, err)
	for _, r := range rows {
		if r["path"] == "/var/tmp/evil/x.hook" {
			return
		}
	}
	t.Errorf("no row for /var/tmp/evil/x.hook: %s", dump(rows))
}
