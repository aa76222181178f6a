package rpmdb

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// files writes name → content under root.
func files(t *testing.T, root string, fs map[string]string) {
	t.Helper()
	for name, content := range fs {
		p := filepath.Join(root, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// TestMacroPrecedenceAgainstRPM: the %_dbpath and %_db_backend read from a
// root's macro files are those rpm itself expands from the same files,
// read in rpm's order (rpm --macros with the root's files, --eval).
func TestMacroPrecedenceAgainstRPM(t *testing.T) {
	rpmBin := need.Program(t, "rpm")
	cases := []map[string]string{
		{"/usr/lib/rpm/macros": "%_var /var\n%_dbpath %{_var}/lib/rpm\n%_db_backend bdb\n"},
		{
			"/usr/lib/rpm/macros":                 "%_usr /usr\n%_var /var\n%_dbpath\t\t%{_var}/lib/rpm\n%_db_backend sqlite\n",
			"/usr/lib/rpm/macros.d/macros.dbpath": "%_dbpath %{_usr}/lib/sysimage/rpm\n",
			"/usr/lib/rpm/macros.d/macros.zz":     "%_db_backend ndb\n",
		},
		{
			"/usr/lib/rpm/macros":            "%_var /var\n%_dbpath %{_var}/lib/rpm\n",
			"/usr/lib/rpm/macros.d/macros.a": "%_dbpath /from/macros.d\n",
			"/usr/lib/rpm/redhat/macros":     "%_dbpath /from/vendor\n%_db_backend bdb\n",
			"/etc/rpm/macros.dbpath":         "%_dbpath /from/etc/macros.dbpath\n",
			"/etc/rpm/macros.dbpath.rpmnew":  "%_dbpath /from/rpmnew\n",
		},
		{
			"/usr/lib/rpm/macros": "%_var /var\n%_dbpath %{_var}/lib/rpm\n",
			"/etc/rpm/macros.a":   "%_dbpath /from/etc/macros.a\n",
			"/etc/rpm/macros":     "%_mydb /custom\n%_dbpath %{_mydb}/db \\\n",
			"/etc/rpm/macros.b~":  "%_dbpath /from/backup\n",
		},
	}
	for i, c := range cases {
		root := t.TempDir()
		files(t, root, c)
		var globs []string
		for _, m := range macroFiles {
			globs = append(globs, root+m)
		}
		out, err := exec.Command(rpmBin, "--macros", strings.Join(globs, ":"), "--eval", "%{_dbpath}\n%{?_db_backend}").Output()
		must(t, err)
		want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		db := New(context.Background(), fsroot.New(root))
		loc := db.locate()
		if len(want) != 2 || len(loc.dirs) != 1 || loc.dirs[0] != want[0] || loc.backend != strings.TrimSpace(want[1]) {
			t.Errorf("case %d: read %v %q, rpm expands %q", i, loc.dirs, loc.backend, want)
		}
	}
}

// TestDebianDBPath: Debian's rpm keeps its database in the home of the
// user running it (its macros file says %(bash -c 'echo ~/.rpmdb')).
func TestDebianDBPath(t *testing.T) {
	root := t.TempDir()
	files(t, root, map[string]string{"/usr/lib/rpm/macros": "%_dbpath\t\t%(bash -c 'echo ~/.rpmdb')\n"})
	problems := &fsroot.Problems{}
	db := New(context.Background(), withProblems(t, root, problems))
	if loc := db.locate(); len(loc.dirs) != 1 || loc.dirs[0] != "/root/.rpmdb" {
		t.Errorf("dirs %v", loc.dirs)
	}
	if ps := problems.List(); len(ps) != 0 {
		t.Errorf("problems %v", ps)
	}
}

// TestFindsTheDatabase: the backend rpm would use is read (the configured
// one's file when it exists, else the first of rpm's backends that has
// one), in /var/lib/rpm or /usr/lib/sysimage/rpm, through a symlink
// resolved inside the root.
func TestFindsTheDatabase(t *testing.T) {
	for _, c := range []struct {
		name, macros string
		dbs          []string // files in the database directory
		want         string
	}{
		{"configured backend", "%_db_backend bdb\n", []string{"rpmdb.sqlite", "Packages"}, "Packages"},
		{"configured backend's file missing", "%_db_backend ndb\n", []string{"Packages", "rpmdb.sqlite"}, "rpmdb.sqlite"},
		{"no backend configured", "", []string{"Packages", "Packages.db"}, "Packages.db"},
		{"lmdb before ndb", "", []string{"Packages.db", "data.mdb"}, "data.mdb"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := candidates(strings.TrimSpace(strings.TrimPrefix(c.macros, "%_db_backend")))
			for _, name := range got {
				for _, have := range c.dbs {
					if name == have {
						if name != c.want {
							t.Errorf("reads %s of %v, rpm reads %s", name, c.dbs, c.want)
						}
						return
					}
				}
			}
			t.Errorf("reads none of %v", c.dbs)
		})
	}
	for _, link := range []string{"/usr/lib/sysimage/rpm", "../../usr/lib/sysimage/rpm", ""} {
		root := t.TempDir()
		dir := filepath.Join(root, "usr/lib/sysimage/rpm")
		must(t, os.MkdirAll(dir, 0o755))
		writeDB(t, filepath.Join(dir, "rpmdb.sqlite"), "in-sysimage", "/etc/", "x")
		if link != "" {
			must(t, os.MkdirAll(filepath.Join(root, "var/lib"), 0o755))
			must(t, os.Symlink(link, filepath.Join(root, "var/lib/rpm")))
		}
		db := New(context.Background(), fsroot.New(root))
		if o := db.Lookup("/etc/x", func(int32) string { return "" }); o.Package != "in-sysimage" {
			t.Errorf("/var/lib/rpm -> %q: owner %+v (database %q)", link, o, db.Path())
		}
		db.Close()
	}
}

// TestLMDBIsUnsupported: a root whose database rpm keeps in LMDB has a
// problem saying it is not read, not an empty list of owners.
func TestLMDBIsUnsupported(t *testing.T) {
	root := t.TempDir()
	files(t, root, map[string]string{"/var/lib/rpm/data.mdb": "lmdb"})
	problems := &fsroot.Problems{}
	db := New(context.Background(), withProblems(t, root, problems))
	defer db.Close()
	db.Lookup("/etc/x", func(int32) string { return "" })
	ps := problems.List()
	if len(ps) != 1 || ps[0].Cause != fsroot.CauseUnsupported || ps[0].Path != "/var/lib/rpm/data.mdb" || !fsroot.Incomplete(ps[0].Cause) {
		t.Errorf("problems %+v", ps)
	}
}
