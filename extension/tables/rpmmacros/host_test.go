package rpmmacros

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/rpmmacro"
	"github.com/pkgpersist/pkgpersist/test/treefiles"
)

// TestFixture: what no program here can check (rows of files rpm does not
// load, other users' ~/.rpmmacros, the code-running flags) and the
// effective outcome of the fixture's planted definitions;
// test/roots/rpm-macros.expected.md explains each.
func TestFixture(t *testing.T) {
	rows, err := Rows(context.Background(), filepath.Join(rootsDir, "rpm-macros"))
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ path, name string }
	got := map[key][]map[string]string{}
	for _, r := range rows {
		k := key{r["path"], r["name"]}
		got[k] = append(got[k], r)
	}
	for _, c := range []struct {
		path, name string
		want       map[string]string
	}{
		{"/usr/lib/rpm/macros.d/macros.planted", "_dbpath", map[string]string{"effective": "1", "shell": "1", "lua": "0", "package": ""}},
		{"/usr/lib/rpm/macros.d/macros.planted", "lua_hook", map[string]string{"effective": "1", "lua": "1", "shell": "0"}},
		{"/usr/lib/rpm/macros.d/macros.planted", "percent", map[string]string{"shell": "0"}},
		{"/usr/lib/rpm/macros.d/macros.planted", "__transaction_syslog", map[string]string{"effective": "0", "category": "plugin", "reason": "redefined at /etc/rpm/macros:2"}},
		{"/usr/lib/rpm/macros.d/macros.planted", "undefine", map[string]string{"effective": "0", "loaded": "1", "reason": "rpm defines nothing from this line: Macro %undefine is a built-in (%define)"}},
		{"/usr/lib/rpm/macros", "_var", map[string]string{"effective": "1"}},
		{"/usr/lib/rpm/macros", "_target_cpu", map[string]string{"effective": "0", "reason": "rpm replaces it after loading the macro files with the target it computes (rpmRebuildTargetVars)"}},
		{"/etc/rpm/macros.aa", "_tmppath", map[string]string{"effective": "1", "category": "tmppath"}},
		{"/root/.rpmmacros", "__transaction_evil", map[string]string{"effective": "1", "category": "plugin", "users": "root"}},
		{"/home/bob/.rpmmacros", "bob_macro", map[string]string{"effective": "1", "loaded": "1", "users": "toor"}},
		{"/home/alice/.rpmmacros", "_topdir", map[string]string{"effective": "0", "shell": "1", "users": "alice,alice2", "reason": "redefined at /home/alice/.rpmmacros:2"}},
		{"/usr/lib/rpm/macros.d/notmacros", "not_loaded_name", map[string]string{"loaded": "0", "effective": "0", "reason": "not loaded: rpm loads only /usr/lib/rpm/macros.d/macros.*"}},
		{"/usr/lib/rpm/macros.d/macros.new.rpmnew", "rpmnew_def", map[string]string{"loaded": "0", "reason": "not loaded: rpm skips .rpmnew files"}},
		{"/etc/rpm/macros.x.rpmsave", "etc_save", map[string]string{"loaded": "0", "reason": "not loaded: rpm skips .rpmsave files"}},
		{"/usr/lib/rpm/redhat/macros", "vendor_redhat", map[string]string{"loaded": "0", "reason": "not loaded: rpm here is built for vendor debian"}},
		{"/usr/lib/rpm/debian/macros", "vendor_debian", map[string]string{"loaded": "1", "effective": "1"}},
	} {
		rs := got[key{c.path, c.name}]
		if len(rs) == 0 {
			t.Errorf("no row for %%%s in %s", c.name, c.path)
			continue
		}
		r := rs[0]
		for col, want := range c.want {
			if r[col] != want {
				t.Errorf("%%%s in %s: %s = %q, want %q", c.name, c.path, col, r[col], want)
			}
		}
	}
}

func TestFlagsOf(t *testing.T) {
	for body, want := range map[string]Flags{
		"%(id)":                  {Shell: true},
		"%%(id)":                 {},
		"%%%(id)":                {Shell: true},
		"%{lua: print(1)}":       {Lua: true},
		"%{expand:%{lua:x}%(y)}": {Shell: true, Lua: true},
		"%{__plugindir}/x.so":    {},
		"%":                      {},
		"100%":                   {},
		// rpm expands %{expand:…} and %global bodies twice: %% becomes %
		// and then runs (each checked with rpm 4.18's --eval)
		"%{expand:%%(touch x)}":             {Shell: true},
		"%{global _y %%(touch x)}%{_y}":     {Shell: true},
		"%{expand:%{expand:%%%%(touch x)}}": {Shell: true},
		"%{expand:%%{lua:os.execute('x')}}": {Lua: true},
		"%{define _y %%(touch x)}%{_y}":     {},
		"%{load:/var/tmp/.m}all":            {Load: true},
		"%{expand:%%{load:/var/tmp/.m}}":    {Load: true},
		// a built-in called with a blank instead of a colon, or without
		// braces (rpm 4.18: each ran with --eval)
		"%{expand %%(touch${IFS}x)}":    {Shell: true},
		"%expand %%(touch${IFS}x)":      {Shell: true},
		"%{global:_y %%(touch x)}%{_y}": {Shell: true},
		"%{load /var/tmp/.m}":           {Load: true},
		"%load /var/tmp/.m":             {Load: true},
		"%{lua os.execute('x')}":        {Lua: true},
		// one %{expand:} is one more pass: %%%%( is then still %%(, text
		"%{expand:%%%%(touch x)}":            {},
		"%{expand:%%{expand:%%%%(touch x)}}": {Shell: true},
		// a tab does not call the built-in
		"%{expand\t%%(touch x)}": {},
	} {
		if got := FlagsOf(body); got != want {
			t.Errorf("FlagsOf(%q) = %+v, want %+v", body, got, want)
		}
	}
}

// expectRows checks, for each (path, name), the first row's columns.
func expectRows(t *testing.T, root string, cases []struct {
	path, name string
	want       map[string]string
}) {
	t.Helper()
	rows, err := Rows(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		var r map[string]string
		for _, x := range rows {
			if x["path"] == c.path && x["name"] == c.name {
				r = x
				break
			}
		}
		if r == nil {
			t.Errorf("no row for %%%s in %s", c.name, c.path)
			continue
		}
		for col, want := range c.want {
			if r[col] != want {
				t.Errorf("%%%s in %s: %s = %q, want %q", c.name, c.path, col, r[col], want)
			}
		}
	}
}

// TestFixtureXDG: rpm 4.20 (the rpm package of the root's rpm database)
// reads ~/.config/rpm/macros instead of ~/.rpmmacros where ~/.config/rpm
// exists; test/roots/rpm-macros-xdg.expected.md cites rpm's source.
func TestFixtureXDG(t *testing.T) {
	notRead := "not loaded: rpm 4.20.0 (/usr/bin/rpm of rpm's package rpm 4.20.0) reads %s/.config/rpm/macros instead, since %s/.config/rpm exists (lib/rpmrc.c setDefaults)"
	expectRows(t, filepath.Join(rootsDir, "rpm-macros-xdg"), []struct {
		path, name string
		want       map[string]string
	}{
		{"/root/.config/rpm/macros", "_tmppath", map[string]string{"loaded": "1", "effective": "1", "shell": "1", "users": "root", "reason": ""}},
		{"/root/.config/rpm/macros", "__transaction_xdg", map[string]string{"loaded": "1", "effective": "1", "category": "plugin"}},
		{"/etc/rpm/macros.site", "_tmppath", map[string]string{"loaded": "1", "effective": "0", "reason": "redefined at /root/.config/rpm/macros:1"}},
		{"/root/.rpmmacros", "_tmppath", map[string]string{"loaded": "0", "effective": "0", "users": "root", "reason": fmt.Sprintf(notRead, "/root", "/root")}},
		{"/home/dave/.rpmmacros", "dave_macro", map[string]string{"loaded": "1", "effective": "1", "users": "dave", "reason": ""}},
		{"/home/erin/.rpmmacros", "erin_old", map[string]string{"loaded": "0", "effective": "0", "reason": fmt.Sprintf(notRead, "/home/erin", "/home/erin")}},
	})
}

// TestFixtureUnknownVersion: without a package database that owns rpm,
// a home with ~/.config/rpm has both user files loaded, each alone, the
// reason saying which rpm reads which.
func TestFixtureUnknownVersion(t *testing.T) {
	why := "rpm's version is unknown (no package database owns librpm or /usr/bin/rpm): rpm 4.19.90 (4.20) and later read /home/carol/.config/rpm/macros since /home/carol/.config/rpm exists, earlier ones /home/carol/.rpmmacros; evaluated alone, as the last file on the path"
	expectRows(t, filepath.Join(rootsDir, "rpm-macros"), []struct {
		path, name string
		want       map[string]string
	}{
		{"/home/carol/.rpmmacros", "carol_old", map[string]string{"loaded": "1", "effective": "1", "shell": "1", "users": "carol", "reason": why}},
		{"/home/carol/.config/rpm/macros", "carol_xdg", map[string]string{"loaded": "1", "effective": "1", "shell": "1", "users": "carol", "reason": why}},
	})
}

// TestDpkgVersion: Debian's rpm 4.18 (dpkg's librpm9 package) reads
// ~/.rpmmacros even where ~/.config/rpm exists.
func TestDpkgVersion(t *testing.T) {
	root := t.TempDir()
	status := "Package: librpm9\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nSource: rpm\nVersion: 4.18.0+dfsg-1+deb12u1\n\n"
	treefiles.Write(t, root, map[string]string{
		"etc/passwd":                           "root:x:0:0:root:/root:/bin/bash\n",
		"usr/lib/rpm/macros":                   "%_var\t/var\n",
		"usr/lib/x86_64-linux-gnu/librpm.so.9": "\x7fELF",
		"var/lib/dpkg/status":                  status,
		"var/lib/dpkg/info/librpm9:amd64.list": "/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/librpm.so.9\n",
		"root/.rpmmacros":                      "%old\t1\n",
		"root/.config/rpm/macros":              "%xdg\t1\n",
	})
	from := "/usr/lib/x86_64-linux-gnu/librpm.so.9 of dpkg's package librpm9:amd64 4.18.0+dfsg-1+deb12u1"
	expectRows(t, root, []struct {
		path, name string
		want       map[string]string
	}{
		{"/root/.rpmmacros", "old", map[string]string{"loaded": "1", "effective": "1", "reason": ""}},
		{"/root/.config/rpm/macros", "xdg", map[string]string{"loaded": "0", "effective": "0",
			"reason": "not loaded: rpm 4.18.0+dfsg-1+deb12u1 (" + from + ") reads /root/.rpmmacros; only rpm 4.19.90 (4.20) and later read this file"}},
	})
}

// TestSpoofedVersion: a package that owns another librpm.so (sorting
// first) with an old version does not decide which user file rpm reads:
// candidates that disagree leave the version unknown, and both user files
// are evaluated.
func TestSpoofedVersion(t *testing.T) {
	root := t.TempDir()
	status := "Package: librpm9\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nSource: rpm\nVersion: 4.20.0-1\n\n" +
		"Package: librpm-compat\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4.0-1\n\n"
	treefiles.Write(t, root, map[string]string{
		"etc/passwd":                           "root:x:0:0:root:/root:/bin/bash\n",
		"usr/lib/rpm/macros":                   "%_var\t/var\n",
		"usr/lib/x86_64-linux-gnu/librpm.so.0": "\x7fELF",
		"usr/lib/x86_64-linux-gnu/librpm.so.9": "\x7fELF",
		"var/lib/dpkg/status":                  status,
		"var/lib/dpkg/info/librpm9:amd64.list": "/usr/lib/x86_64-linux-gnu/librpm.so.9\n",
		"var/lib/dpkg/info/librpm-compat.list": "/usr/lib/x86_64-linux-gnu/librpm.so.0\n",
		"root/.rpmmacros":                      "%old\t1\n",
		"root/.config/rpm/macros":              "%xdg\t1\n",
	})
	rows, err := Rows(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r["name"] == "old" || r["name"] == "xdg" {
			n++
			if r["loaded"] != "1" || !strings.Contains(r["reason"], "disagree") {
				t.Errorf("%s %s: loaded %s, reason %q", r["path"], r["name"], r["loaded"], r["reason"])
			}
		}
	}
	if n != 2 {
		t.Errorf("%d rows of the user files, want 2: %v", n, rows)
	}
}

func TestVersionNumbers(t *testing.T) {
	for v, want := range map[string]bool{
		"4.18.0+dfsg-1+deb12u1": false, "4.19.1.1": false, "4.19.90": true, "4.20.0": true, "1:4.20.1-1": true,
		"6.0.0": true, "4.20.0~rc1-1": true, "": false, "x": false,
	} {
		if got := (rpmVersion{version: v}).xdg(); got != want {
			t.Errorf("%q: xdg %v, want %v", v, got, want)
		}
	}
}

// TestFlagsThroughReferences: a value that re-expands another macro runs
// what that macro holds escaped (rpm 4.18: with %A %%(…) and
// %B %{expand:%A}, --eval %B runs the shell; %C %A does not).
func TestFlagsThroughReferences(t *testing.T) {
	m := &Macros{defs: map[string]Macro{
		"A": {Def: rpmmacro.Def{Name: "A", Body: "%%(touch x)"}},
		"L": {Def: rpmmacro.Def{Name: "L", Body: "%%{lua:os.execute('x')}"}},
		"D": {Def: rpmmacro.Def{Name: "D", Body: "%{expand:%{?L}}"}},
	}}
	for body, want := range map[string]Flags{
		"%{expand:%A}":         {Shell: true},
		"%{?A:%{expand:%{A}}}": {Shell: true},
		"%A":                   {},
		"%{expand:%D}":         {Lua: true},
		"%{expand:%{nothere}}": {},
	} {
		if got := FlagsWith(body, m); got != want {
			t.Errorf("FlagsWith(%q) = %+v, want %+v", body, got, want)
		}
	}
}
