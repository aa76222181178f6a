package alpmhooks

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
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
			for name, data := range c.files {
				p := filepath.Join(root, name)
				must(t, os.MkdirAll(filepath.Dir(p), 0o755))
				must(t, os.WriteFile(p, []byte(data), 0o644))
			}
			fs, err := fsroot.Open(root)
			must(t, err)
			defer fs.Close()
			conf := readConfig(fs)
			if c.fail != "" {
				if !strings.Contains(conf.failed, c.fail) {
					t.Fatalf("failed %q, want %q", conf.failed, c.fail)
				}
				return
			}
			if conf.failed != "" || !reflect.DeepEqual(conf.dirs(), c.dirs) || conf.dbPath != c.db {
				t.Fatalf("dirs %v db %q failed %q; want %v %q", conf.dirs(), conf.dbPath, conf.failed, c.dirs, c.db)
			}
		})
	}
}
