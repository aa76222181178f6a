package rpmmacros

import (
	"context"
	"path/filepath"
	"testing"
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
	} {
		if got := FlagsOf(body); got != want {
			t.Errorf("FlagsOf(%q) = %+v, want %+v", body, got, want)
		}
	}
}
