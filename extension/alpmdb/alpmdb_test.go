package alpmdb

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/treefiles"
)

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// TestLookup: a local database as be_local.c writes it (desc's %NAME%,
// files' %FILES% with directories ending in '/', a gzip'ed mtree), under
// pacman.conf's DBPath. Unreadable or malformed parts are problems of the
// root, and what they would have said is not claimed.
func TestLookup(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	root := t.TempDir()
	treefiles.Write(t, root, map[string]string{
		"etc/pacman.conf":                  "[options]\nDBPath = /db/\n",
		"db/local/ALPM_DB_VERSION":         "9\n",
		"db/local/foo-bar-1.0-1/desc":      "%NAME%\nfoo-bar\n\n%VERSION%\n1.0-1\n",
		"db/local/foo-bar-1.0-1/files":     "%FILES%\nusr/\nusr/bin/\nusr/bin/tool\nusr/bin/other\n\n%BACKUP%\netc/x\tabc\n",
		"db/local/foo-bar-1.0-1/mtree":     gz("#mtree\n/set type=file\n./usr/bin/tool sha256digest=" + sum + "\n./usr/bin/other md5digest=" + strings.Repeat("0", 32) + "\n"),
		"db/local/nodesc-2-1/files":        "%FILES%\nopt/nodesc\n",
		"db/local/badtree-1-1/desc":        "%NAME%\nbadtree\n",
		"db/local/badtree-1-1/files":       "%FILES%\nopt/bad\n",
		"db/local/badtree-1-1/mtree":       "./opt/bad type=file sha256digest=" + sum + "\n/bogus\n",
		"db/local/long-1-1/files":          "%FILES%\nopt/before\n" + strings.Repeat("x", maxListLine+1) + "\nopt/after\n",
		"var/lib/pacman/local/x-1-1/files": "%FILES%\nopt/elsewhere\n",
	})
	problems := &fsroot.Problems{}
	fs, err := fsroot.OpenContext(fsroot.WithProblems(context.Background(), problems), root)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	db := New(fs, "")
	for _, c := range []struct {
		path, sum, want string
	}{
		{"/usr/bin/tool", sum, "{foo-bar false}"},
		{"/usr/bin/tool", strings.ToUpper(sum), "{foo-bar false}"},
		{"/usr/bin/tool", strings.Repeat("cd", 32), "{foo-bar true}"},
		{"/usr/bin/tool", "", "{foo-bar false}"},
		{"/usr/bin", sum, "{foo-bar false}"},
		{"/usr/bin/other", strings.Repeat("1", 32), "{foo-bar true}"},
		{"/opt/nodesc", sum, "{nodesc false}"},
		{"/opt/bad", strings.Repeat("cd", 32), "{badtree false}"},
		{"/opt/before", "", "{long false}"},
		{"/opt/after", "", "{ false}"},
		{"/opt/elsewhere", "", "{ false}"},
	} {
		got := fmt.Sprint(db.Lookup(c.path, func(alg string) string {
			if alg == "md5" && c.sum != "" {
				return c.sum[:32]
			}
			return c.sum
		}))
		if got != c.want {
			t.Errorf("%s with %q: %s, want %s", c.path, c.sum, got, c.want)
		}
	}
	want := "[{/db/local/long-1-1/files limit pacman database over pkgpersist's bounds: a line over 65536 bytes} " +
		"{/db/local/badtree-1-1/mtree io pacman database: mtree format error: can't parse line 2}]"
	if got := fmt.Sprint(problems.List()); got != want {
		t.Errorf("problems\n got %s\nwant %s", got, want)
	}
}
