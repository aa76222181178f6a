package dpkgdb

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

type memFS map[string]string

func (m memFS) Open(name string) (io.ReadCloser, error) {
	if d, ok := m[name]; ok {
		return io.NopCloser(strings.NewReader(d)), nil
	}
	return nil, os.ErrNotExist
}

func (m memFS) ReadDir(name string) ([]string, error) {
	var out []string
	for p := range m {
		if len(p) > len(name)+1 && p[:len(name)+1] == name+"/" {
			out = append(out, p[len(name)+1:])
		}
	}
	return out, nil
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestLookup(t *testing.T) {
	conf := "conf body\n"
	lib := "lib body\n"
	fs := memFS{
		"/var/lib/dpkg/status": "Package: tool\nStatus: install ok installed\nArchitecture: amd64\nConffiles:\n /etc/tool.conf " + md5hex(conf) + "\n /etc/gone.conf 0123 obsolete\n\n" +
			"Package: libx\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nConffiles:\n /etc/libx.conf " + md5hex("old") + "\n\n" +
			"Package: removed\nStatus: deinstall ok config-files\nConffiles:\n /etc/removed.conf abc\n",
		"/var/lib/dpkg/info/tool.list":          "/.\n/etc\n/etc/tool.conf\n/usr/lib/tool/plugin.py\n",
		"/var/lib/dpkg/info/tool.md5sums":       md5hex(lib) + "  usr/lib/tool/plugin.py\n",
		"/var/lib/dpkg/info/libx:amd64.list":    "/etc/libx.conf\n/usr/lib/libx.so\n",
		"/var/lib/dpkg/info/libx:amd64.md5sums": "",
	}
	cases := []struct {
		path, data string
		want       Owner
	}{
		{"/etc/tool.conf", conf, Owner{"tool", false}},
		{"/etc/tool.conf", conf + "tampered", Owner{"tool", true}},
		{"/etc/gone.conf", "x", Owner{"tool", false}},
		{"/etc/libx.conf", "new", Owner{"libx:amd64", true}},
		{"/usr/lib/tool/plugin.py", lib, Owner{"tool", false}},
		{"/usr/lib/tool/plugin.py", "evil", Owner{"tool", true}},
		{"/usr/lib/libx.so", "x", Owner{"libx:amd64", false}}, // no recorded sum
		{"/etc/removed.conf", "x", Owner{"removed", true}},    // removed, not purged
		{"/etc/nobody.conf", "x", Owner{}},
	}
	var paths []string
	for _, c := range cases {
		paths = append(paths, c.path)
	}
	for _, prefetch := range []bool{false, true} {
		db := New(fs)
		if prefetch {
			db.Prefetch(paths)
		}
		for _, c := range cases {
			if got := db.Lookup(c.path, func() string { return fsroot.DigestsOf([]byte(c.data)).MD5 }); got != c.want {
				t.Errorf("prefetch %v: %s: got %+v, want %+v", prefetch, c.path, got, c.want)
			}
		}
	}
}
