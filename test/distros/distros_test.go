// Package distros checks, for each distribution family pkgpersist hunts,
// that every table reads what that family's package managers read, where
// they keep it. Each family is a small root laid out as the distribution
// lays out its files (the layouts cite their sources), with one planted
// hook or plugin per place; the README's distribution table is generated
// from the same data (PKGPERSIST_UPDATE_DOCS=1, or `make docs`).
package distros

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/tables"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
)

// place is one place a package manager reads: the table that reports it,
// what the README says it reads there, the files that plant something
// there (and setup, what is made there by a real program or copied from a
// real host), and the query whose rows must then be want.
type place struct {
	table string
	reads string
	files map[string]string
	setup func(t *testing.T, root string)
	query string
	want  []string
}

// rpmDatabase is the README's name for the place the package and
// package_modified columns of RPM hosts come from.
const rpmDatabase = "rpm database"

// realDB copies the real Berkeley DB Packages of the go-rpmdb testdata
// name into the root's dir.
func realDB(name, dir string) func(t *testing.T, root string) {
	return func(t *testing.T, root string) {
		rpmdbtest.CopyFile(t, rpmdbtest.RealBDB(t)[name], filepath.Join(root, dir))
	}
}

// sysimage links /var/lib/rpm to /usr/lib/sysimage/rpm, as Fedora and SUSE
// do, then runs then.
func sysimage(then func(t *testing.T, root string)) func(t *testing.T, root string) {
	return func(t *testing.T, root string) {
		p := filepath.Join(root, "var/lib/rpm")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../../usr/lib/sysimage/rpm", p); err != nil {
			t.Fatal(err)
		}
		then(t, root)
	}
}

// installed has Debian's rpm install a package owning files into the
// root's database at dbpath.
func installed(dbpath string, files map[string]string) func(t *testing.T, root string) {
	return func(t *testing.T, root string) {
		rpmdbtest.Install(t, root, dbpath, "owner", files)
	}
}

// family is a distribution family and the places pkgpersist reads there.
type family struct {
	name   string
	source string // where the layout's facts come from
	base   map[string]string
	places []place
}

// symlink marks a file that is a symlink to the rest of the string.
const symlink = "->"

// dnfConst is DNF 4's const.py as dnf's build writes it (dnf/const.py.in:
// PLUGINPATH = '@PYTHON_INSTALL_DIR@/dnf-plugins') for site-packages dir.
func dnfConst(site string) string {
	return "CONF_FILENAME = '/etc/dnf/dnf.conf'\nPLUGINCONFPATH = '/etc/dnf/plugins'\nPLUGINPATH = '" + site + "/dnf-plugins'\n"
}

const (
	aptHook   = "DPkg::Post-Invoke { \"/usr/local/bin/planted-apt\"; };\n"
	dpkgHook  = "post-invoke=/usr/local/bin/planted-dpkg\n"
	yumPlugin = "from yum.plugins import TYPE_CORE\nrequires_api_version = '2.3'\nplugin_type = (TYPE_CORE,)\n\ndef init_hook(conduit):\n    pass\n"
	dnfPlugin = "import dnf\n\n\nclass Planted(dnf.Plugin):\n    name = 'planted'\n"
	enabled   = "[main]\nenabled=1\n"
	action    = "*:any:/usr/local/bin/planted-action\n"
)

var families = []family{
	{
		name:   "Debian 12, Ubuntu 22.04/24.04",
		source: "apt 2.6 (apt-pkg/init.cc pkgInitConfig: Dir::Etc::parts apt.conf.d, main apt.conf); dpkg 1.21 (lib/dpkg/options.c: /etc/dpkg/dpkg.cfg.d, /etc/dpkg/dpkg.cfg, ~/.dpkg.cfg)",
		places: []place{
			{table: "apt_hooks", reads: "`/etc/apt/apt.conf.d/*`, `/etc/apt/apt.conf`",
				files: map[string]string{"etc/apt/apt.conf.d/99planted": aptHook},
				query: "SELECT command FROM apt_hooks WHERE active = 1", want: []string{"/usr/local/bin/planted-apt"}},
			{table: "dpkg_hooks", reads: "`/etc/dpkg/dpkg.cfg.d/*`, `/etc/dpkg/dpkg.cfg`, `/root/.dpkg.cfg`",
				files: map[string]string{"etc/dpkg/dpkg.cfg.d/planted": dpkgHook},
				query: "SELECT command FROM dpkg_hooks WHERE active = 1", want: []string{"/usr/local/bin/planted-dpkg"}},
			{table: "dnf_plugins", reads: "Debian's `dnf` package: `/usr/lib/python3/dist-packages/dnf-plugins/*.py`",
				files: map[string]string{
					"usr/lib/python3/dist-packages/dnf/const.py":           dnfConst("/usr/lib/python3/dist-packages"),
					"usr/lib/python3/dist-packages/dnf-plugins/planted.py": dnfPlugin,
					"etc/dnf/dnf.conf": "[main]\n",
				},
				query: "SELECT path FROM dnf_plugins WHERE enabled = 1", want: []string{"/usr/lib/python3/dist-packages/dnf-plugins/planted.py"}},
		},
	},
	{
		name:   "CentOS/RHEL 7, Amazon Linux 2 (YUM 3, Python 2.7)",
		source: "yum 3.4 (yum/config.py: pluginpath /usr/share/yum-plugins, /usr/lib/yum-plugins; pluginconfpath /etc/yum/pluginconf.d; /etc/yum.conf); yum-plugin-post-transaction-actions (/etc/yum/post-actions)",
		base:   map[string]string{"etc/yum.conf": "[main]\nplugins=1\n"},
		places: []place{
			{table: "yum_plugins", reads: "`/usr/lib/yum-plugins/*.py`, `/usr/share/yum-plugins/*.py` with `/etc/yum/pluginconf.d/*.conf`, `/etc/yum.conf`",
				files: map[string]string{
					"usr/lib/yum-plugins/planted.py":     yumPlugin,
					"etc/yum/pluginconf.d/planted.conf":  enabled,
					"usr/share/yum-plugins/planted2.py":  yumPlugin,
					"etc/yum/pluginconf.d/planted2.conf": enabled,
				},
				query: "SELECT path FROM yum_plugins WHERE enabled = 1 AND name LIKE 'planted%'",
				want:  []string{"/usr/lib/yum-plugins/planted.py", "/usr/share/yum-plugins/planted2.py"}},
			{table: "package_manager_actions", reads: "`/etc/yum/post-actions/*.action`",
				files: map[string]string{
					"usr/lib/yum-plugins/post-transaction-actions.py":    yumPlugin,
					"etc/yum/pluginconf.d/post-transaction-actions.conf": enabled,
					"etc/yum/post-actions/planted.action":                action,
				},
				query: "SELECT command FROM package_manager_actions WHERE enabled = 1", want: []string{"/usr/local/bin/planted-action"}},
			{table: rpmDatabase, reads: "`/var/lib/rpm/Packages` (Berkeley DB): a real CentOS 7 database",
				files: map[string]string{"usr/lib/yum-plugins/fastestmirror.py": yumPlugin, "etc/yum/pluginconf.d/fastestmirror.conf": enabled},
				setup: realDB("centos7-plain", "var/lib/rpm"),
				query: "SELECT path || ' ' || package FROM yum_plugins WHERE package != ''",
				want:  []string{"/usr/lib/yum-plugins/fastestmirror.py yum-plugin-fastestmirror"}},
		},
	},
	{
		name:   "RHEL/Rocky/Alma 8 (DNF 4, Python 3.6)",
		source: "dnf 4.7 built for platform-python 3.6 (const.py PLUGINPATH /usr/lib/python3.6/site-packages/dnf-plugins); /etc/yum.conf and /etc/yum/pluginconf.d are symlinks to DNF's (yum is DNF there); dnf-plugins-core post-transaction-actions",
		base: map[string]string{
			"usr/lib/python3.6/site-packages/dnf/const.py": dnfConst("/usr/lib/python3.6/site-packages"),
			"etc/dnf/dnf.conf":     "[main]\ngpgcheck=1\n",
			"etc/yum.conf":         symlink + "dnf/dnf.conf",
			"etc/yum/pluginconf.d": symlink + "../dnf/plugins",
		},
		places: []place{
			{table: "dnf_plugins", reads: "`/usr/lib/python3.6/site-packages/dnf-plugins/*.py` with `/etc/dnf/plugins/*.conf`, `/etc/dnf/dnf.conf`",
				files: map[string]string{"usr/lib/python3.6/site-packages/dnf-plugins/planted.py": dnfPlugin},
				query: "SELECT path FROM dnf_plugins WHERE enabled = 1", want: []string{"/usr/lib/python3.6/site-packages/dnf-plugins/planted.py"}},
			{table: "package_manager_actions", reads: "`/etc/dnf/plugins/post-transaction-actions.d/*.action`",
				files: map[string]string{
					"usr/lib/python3.6/site-packages/dnf-plugins/post-transaction-actions.py": "import dnf\n\n\nclass PostTransactionActions(dnf.Plugin):\n    name = 'post-transaction-actions'\n",
					"etc/dnf/plugins/post-transaction-actions.conf":                           enabled,
					"etc/dnf/plugins/post-transaction-actions.d/planted.action":               action,
				},
				query: "SELECT command FROM package_manager_actions WHERE enabled = 1", want: []string{"/usr/local/bin/planted-action"}},
			{table: rpmDatabase, reads: "`/var/lib/rpm/Packages` (Berkeley DB): a real CentOS 8 database",
				files: map[string]string{"usr/lib/python3.6/site-packages/dnf-plugins/builddep.py": dnfPlugin},
				setup: realDB("centos8-modularitylabel", "var/lib/rpm"),
				query: "SELECT path || ' ' || package FROM dnf_plugins WHERE package != ''",
				want:  []string{"/usr/lib/python3.6/site-packages/dnf-plugins/builddep.py python3-dnf-plugins-core"}},
		},
	},
	{
		name:   "RHEL/Rocky/Alma 9, Amazon Linux 2023 (DNF 4, Python 3.9)",
		source: "dnf 4.14 built for Python 3.9 (const.py PLUGINPATH /usr/lib/python3.9/site-packages/dnf-plugins)",
		base: map[string]string{
			"usr/lib/python3.9/site-packages/dnf/const.py": dnfConst("/usr/lib/python3.9/site-packages"),
			"etc/dnf/dnf.conf": "[main]\n",
		},
		places: []place{
			{table: "dnf_plugins", reads: "`/usr/lib/python3.9/site-packages/dnf-plugins/*.py` with `/etc/dnf/plugins/*.conf`",
				files: map[string]string{"usr/lib/python3.9/site-packages/dnf-plugins/planted.py": dnfPlugin},
				query: "SELECT path FROM dnf_plugins WHERE enabled = 1", want: []string{"/usr/lib/python3.9/site-packages/dnf-plugins/planted.py"}},
			{table: rpmDatabase, reads: "`/var/lib/rpm/rpmdb.sqlite` (SQLite): written by rpm",
				setup: installed("/var/lib/rpm", map[string]string{"/usr/lib/python3.9/site-packages/dnf-plugins/owned.py": dnfPlugin}),
				query: "SELECT path || ' ' || package FROM dnf_plugins WHERE package != ''",
				want:  []string{"/usr/lib/python3.9/site-packages/dnf-plugins/owned.py owner"}},
		},
	},
	{
		name:   "Fedora 41 and later (DNF 5)",
		source: "libdnf5 (pluginpath ${libdir}/libdnf5/plugins = /usr/lib64/libdnf5/plugins, pluginconfpath /etc/dnf/libdnf5-plugins); dnf5's own plugins in /usr/lib64/dnf5/plugins; the actions plugin's /etc/dnf/libdnf5-plugins/actions.d",
		places: []place{
			{table: "dnf_plugins", reads: "`/usr/lib64/libdnf5/plugins/*.so` enabled by `/etc/dnf/libdnf5-plugins/*.conf`; `/usr/lib64/dnf5/plugins/*.so`",
				files: map[string]string{
					"etc/dnf/libdnf5-plugins/planted.conf":  "[main]\nname = planted\nenabled = 1\n",
					"usr/lib64/libdnf5/plugins/planted.so":  "\x7fELF",
					"usr/lib64/dnf5/plugins/planted_cmd.so": "\x7fELF",
				},
				query: "SELECT path FROM dnf_plugins WHERE manager = 'dnf5' AND enabled = 1",
				want:  []string{"/usr/lib64/dnf5/plugins/planted_cmd.so", "/usr/lib64/libdnf5/plugins/planted.so"}},
			{table: "package_manager_actions", reads: "`/etc/dnf/libdnf5-plugins/actions.d/*.actions`",
				files: map[string]string{
					"etc/dnf/libdnf5-plugins/actions.conf":              "[main]\nname = actions\nenabled = 1\n",
					"usr/lib64/libdnf5/plugins/actions.so":              "\x7fELF",
					"etc/dnf/libdnf5-plugins/actions.d/planted.actions": "post_transaction::::/usr/local/bin/planted-action\n",
				},
				query: "SELECT command FROM package_manager_actions WHERE enabled = 1", want: []string{"/usr/local/bin/planted-action"}},
			{table: rpmDatabase, reads: "`/usr/lib/sysimage/rpm/rpmdb.sqlite` (SQLite; `/var/lib/rpm` links there): written by rpm",
				setup: sysimage(installed("/usr/lib/sysimage/rpm", map[string]string{"/usr/lib64/dnf5/plugins/owned.so": "\x7fELF"})),
				query: "SELECT path || ' ' || package FROM dnf_plugins WHERE package != ''",
				want:  []string{"/usr/lib64/dnf5/plugins/owned.so owner"}},
		},
	},
	{
		name:   "SUSE Linux Enterprise 15, openSUSE Leap 15",
		source: "rpm-ndb 4.14.3 (%_dbpath /usr/lib/sysimage/rpm, %_db_backend ndb; /var/lib/rpm a symlink to it); zypper and libzypp plugins are not read yet",
		places: []place{
			{table: rpmDatabase, reads: "`/usr/lib/sysimage/rpm/Packages.db` (NDB; `/var/lib/rpm` links there): a real SLE 15 database",
				setup: sysimage(func(t *testing.T, root string) {
					rpmdbtest.CopyFile(t, rpmdbtest.RealNDB(), filepath.Join(root, "usr/lib/sysimage/rpm"))
				}),
				query: "SELECT package || ' ' || script FROM package_scripts WHERE manager = 'rpm' AND package = 'rpm-ndb'",
				want:  []string{"rpm-ndb post", "rpm-ndb pre"}},
		},
	},
}

// build writes a family's root with the given places planted.
func build(t *testing.T, f family, places []place) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{}
	for k, v := range f.base {
		files[k] = v
	}
	for _, p := range places {
		for k, v := range p.files {
			files[k] = v
		}
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(data, symlink); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range places {
		if p.setup != nil {
			p.setup(t, root)
		}
	}
	// a symlinked directory needs its target
	for name, data := range files {
		if target, ok := strings.CutPrefix(data, symlink); ok {
			dir := filepath.Join(root, filepath.Dir(name), target)
			if !strings.HasSuffix(name, ".conf") {
				os.MkdirAll(dir, 0o755)
			}
		}
	}
	return root
}

func query(t *testing.T, root, sql string) []string {
	t.Helper()
	e, err := engine.New(tables.Engine(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var out []string
	for _, r := range res.Rows {
		out = append(out, r[0])
	}
	sort.Strings(out)
	return out
}

// TestLayouts: on each family's layout, each table finds what is planted
// where that family's package manager reads it, and only that: the same
// query without the plant returns nothing.
func TestLayouts(t *testing.T) {
	for _, f := range families {
		for _, p := range f.places {
			t.Run(f.name+"/"+p.table, func(t *testing.T) {
				got := query(t, build(t, f, []place{p}), p.query)
				if strings.Join(got, "\n") != strings.Join(p.want, "\n") {
					t.Errorf("planted: %q, want %q", got, p.want)
				}
				if got := query(t, build(t, f, nil), p.query); len(got) != 0 {
					t.Errorf("not planted: %q", got)
				}
			})
		}
	}
}

const (
	readme     = "../../README.md"
	beginMark  = "<!-- distributions:begin -->\n"
	endMark    = "<!-- distributions:end -->"
	updateDocs = "PKGPERSIST_UPDATE_DOCS"
)

// markdown is the README's table: per family, what each table reads.
func markdown() string {
	var b strings.Builder
	b.WriteString("| distribution | table | reads |\n|---|---|---|\n")
	for _, f := range families {
		for i, p := range f.places {
			name := ""
			if i == 0 {
				name = f.name
			}
			table := "`" + p.table + "`"
			if p.table == rpmDatabase {
				table = p.table + " (`package`, `package_modified`, `package_scripts`)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", name, table, p.reads)
		}
	}
	b.WriteString("\nSources:\n\n")
	for _, f := range families {
		fmt.Fprintf(&b, "- %s: %s.\n", f.name, f.source)
	}
	return b.String()
}

// TestREADMEDistributions fails when README's distribution table and the
// layouts disagree; `make docs` rewrites it.
func TestREADMEDistributions(t *testing.T) {
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i, j := strings.Index(text, beginMark), strings.Index(text, endMark)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q ... %q", beginMark, endMark)
	}
	want := markdown()
	if text[i+len(beginMark):j] == want {
		return
	}
	if os.Getenv(updateDocs) != "" {
		if err := os.WriteFile(readme, []byte(text[:i+len(beginMark)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("README.md's distribution table is stale: run `make docs`")
}
