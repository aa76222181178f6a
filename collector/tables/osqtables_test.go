package tables

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/tables/aptsources"
)

func write(t *testing.T, root, name string, data []byte) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, root, sql string) [][]string {
	t.Helper()
	e, err := engine.New(Engine(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// a bound against a hang, not a timing check: generous for a loaded CI machine
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := e.Query(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.Rows
}

// TestBadInput: broken passwd lines, a 50 MB sources.list, deb822 stanzas
// with continuation lines and comments, and binary junk in a .repo file
// give clear results and no panic.
func TestBadInput(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/passwd", []byte("root:x:0:0:root:/root:/bin/bash\nbroken line\nshort:x:1\nbad:x:notanumber:0::/:/bin/sh\n+nis\n\x00\xff:x:5:5:::\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"))
	write(t, root, "etc/group", []byte("root:x:0:\ngarbage\nadm:x:4:syslog\n"))
	write(t, root, "etc/apt/sources.list", bytes.Repeat([]byte("deb http://deb.example.org/debian bookworm main\n"), 50<<20/48))
	write(t, root, "etc/apt/sources.list.d/ok.sources", []byte("# comment\nTypes: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/x.gpg\n .\n\nTypes: deb-src\nURIs: http://src.example.org/\nSuites: x\n"))
	write(t, root, "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", []byte("Origin: Debian\nCodename: bookworm\nVersion: 12.5\nComponents: main\nArchitectures: amd64\n"))
	write(t, root, "etc/yum.repos.d/junk.repo", bytes.Repeat([]byte{0, 0xff, '[', '\n', '='}, 10000))
	write(t, root, "etc/yum.repos.d/good.repo", []byte("[base]\nname=Base\nbaseurl=http://mirror.example.org/$releasever/\nenabled=1\ngpgcheck=1\n"))

	users := run(t, root, "SELECT username, uid FROM users ORDER BY uid")
	if len(users) != 3 || users[0][0] != "root" || users[2][0] != "\x00\xff" {
		t.Errorf("users: %q", users)
	}
	if groups := run(t, root, "SELECT groupname FROM groups"); len(groups) != 2 {
		t.Errorf("groups: %q", groups)
	}
	// the 50 MB sources.list is read (streamed), and its sources have no
	// Release file, so osquery makes no row of them; the deb822 stanza
	// with a Release file is a row
	srcs := run(t, root, "SELECT name, source, release, version FROM apt_sources")
	if len(srcs) != 1 || srcs[0][0] != "deb.debian.org/debian bookworm" || srcs[0][3] != "12.5" {
		t.Errorf("apt_sources: %q", srcs)
	}
	yum := run(t, root, "SELECT name, baseurl, source FROM yum_sources")
	if len(yum) != 1 || yum[0][0] != "Base" || !strings.HasSuffix(yum[0][2], "good.repo") {
		t.Errorf("yum_sources: %q", yum)
	}
}

func TestDeb822Continuation(t *testing.T) {
	// a continuation line names a second suite only as osquery reads it:
	// osquery splits lines, so " bookworm-updates" is not a key and is
	// dropped
	got := aptsources.ParseDeb822("Types: deb\nURIs: http://a/ http://b/x\nSuites: s1 s2\nEnabled: on\n")
	if len(got) != 4 || got[0].Name != "a s1" || got[3].Name != "b/x s2" {
		t.Fatalf("%+v", got)
	}
	if got := aptsources.ParseDeb822("Types: deb\nEnabled: no\nURIs: http://a/\nSuites: s\n"); got != nil {
		t.Fatalf("disabled stanza: %+v", got)
	}
}
