package store

import "testing"

// TestTermOfTools: pm-installs rows of pacman and apk installs give terms
// under their tool, read from the exact argv; their dry runs give none.
func TestTermOfTools(t *testing.T) {
	for _, c := range []struct {
		path, argv, tool, form string
	}{
		{"/usr/bin/pacman", `["pacman", "-U", "/tmp/x.pkg.tar.zst"]`, "pacman", "-U"},
		{"/usr/bin/pacman", `["pacman", "--noconfirm", "--upgrade", "https://example.org/x.pkg.tar.zst"]`, "pacman", "--upgrade"},
		{"/sbin/apk", `["apk", "--root", "/", "add", "/tmp/a b.apk"]`, "apk", "add"},
		{"/usr/bin/pacman", `["pacman", "-Up", "/tmp/x.pkg.tar.zst"]`, "", ""},
		{"/sbin/apk", `["apk", "add", "-s", "/tmp/x.apk"]`, "", ""},
	} {
		got, ok := TermOf(Row{"argv": c.argv, "cmdline": "ignored", "path": c.path, "parent_path": "/usr/sbin/httpd", "time": "7"}, 1)
		if ok != (c.tool != "") || got.Install.Tool != c.tool || got.Install.Form != c.form || ok && (got.At != 7 || got.Parent != "/usr/sbin/httpd") {
			t.Errorf("%s: %+v %t, want tool %q form %q", c.argv, got, ok, c.tool, c.form)
		}
	}
}
