// Package distros checks, for each distribution family pkgpersist hunts,
// that every table reads what that family's package managers read, where
// they keep it. Each family is a small root laid out as the distribution
// lays out its files (the layouts cite their sources), with one planted
// hook or plugin per place; the README's distribution table is generated
// from the same data (PKGPERSIST_UPDATE_DOCS=1, or `make docs`).
package distros

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
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

// The README's names for the places the package and package_modified
// columns come from, per package manager: rows about them say what they
// feed, not a table.
const (
	rpmDatabase    = "rpm database"
	pacmanDatabase = "pacman database"
	apkDatabase    = "apk database"
)

// databases says which columns each database feeds.
var databases = map[string]string{
	rpmDatabase:    "`package`, `package_modified`, `package_scripts`",
	pacmanDatabase: "`package` of `alpm_hooks`",
	apkDatabase:    "`package`, `package_modified`",
}

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
	// a program a plugin directory runs: written executable (build)
	script = "#!/bin/sh\n/usr/local/bin/planted\n"
	elf    = "\x7fELF"
	// an rpm macro whose expansion runs a shell
	shellMacro = " %(/usr/local/bin/planted-macro)\n"
)

// alpmHook is a pacman hook running exec after every package transaction
// (alpm-hooks(5)).
func alpmHook(exec string) string {
	return "[Trigger]\nOperation = Install\nOperation = Upgrade\nType = Package\nTarget = *\n\n[Action]\nWhen = PostTransaction\nExec = " + exec + "\n"
}

// alpmDirs plants a hook in each of pacman's default hook directories;
// who says whose pacman it is.
func alpmDirs(who string) place {
	return place{table: "alpm_hooks", reads: who + "`/usr/share/libalpm/hooks/*.hook`, `/etc/pacman.d/hooks/*.hook`",
		files: map[string]string{
			"usr/share/libalpm/hooks/planted.hook": alpmHook("/usr/local/bin/planted"),
			"etc/pacman.d/hooks/planted2.hook":     alpmHook("/usr/local/bin/planted"),
		},
		query: "SELECT path FROM alpm_hooks WHERE effective = 1",
		want:  []string{"/etc/pacman.d/hooks/planted2.hook", "/usr/share/libalpm/hooks/planted.hook"}}
}

// zyppPlants plants a program in each of libzypp's plugin directories and
// a zypper subcommand.
func zyppPlants() map[string]string {
	out := map[string]string{"usr/lib/zypper/commands/zypper-planted": script}
	for _, kind := range []string{"commit", "system", "appdata", "services", "urlresolver"} {
		out["usr/lib/zypp/plugins/"+kind+"/planted"] = script
	}
	return out
}

// pacmanConf is /etc/pacman.conf as Arch's pacman package ships it, as far
// as hooks go (HookDir commented out: the default /etc/pacman.d/hooks/),
// with extra [options] lines; its Include must exist, or pacman stops.
func pacmanConf(options string) string {
	return "[options]\n#HookDir     = /etc/pacman.d/hooks/\n" + options + "HoldPkg     = pacman glibc\nArchitecture = auto\n\n[core]\nInclude = /etc/pacman.d/mirrorlist\n"
}

// alpmOwner is pacman's local database (/var/lib/pacman/local/<name>-
// <version>/desc and files, as libalpm's be_local.c writes them) with one
// package owning file (a path without the leading slash).
func alpmOwner(file string) map[string]string {
	return map[string]string{
		"var/lib/pacman/local/ALPM_DB_VERSION":   "9\n",
		"var/lib/pacman/local/owner-1.0-1/desc":  "%NAME%\nowner\n\n%VERSION%\n1.0-1\n\n",
		"var/lib/pacman/local/owner-1.0-1/files": "%FILES%\n" + file + "\n\n",
	}
}

// apkIdentity is the identity (C: line) of the planted apk package: a
// SHA-1, as "Q1" and base64 in the database, as "X1" and hex in the
// scripts archive's entry names (apk-tools blob.c).
var apkIdentity = bytes.Repeat([]byte{0x5a}, 20)

// apkInstalled is /lib/apk/db/installed with apk-tools at version and the
// records after it.
func apkInstalled(version string, records ...string) string {
	out := "C:Q1vDcVm66xqK/n71HAfpIvboMBUPA=\nP:apk-tools\nV:" + version + "\nA:x86_64\n\n"
	for _, r := range records {
		out += r + "\n"
	}
	return out
}

// apkPlanted is the record of the planted package, with its files lines.
func apkPlanted(files string) string {
	return "C:Q1" + base64.StdEncoding.EncodeToString(apkIdentity) + "\nP:planted\nV:1.0-r0\nA:x86_64\n" + files
}

// apkTrigger writes the scripts archive apk keeps the planted package's
// trigger script in (database.c apk_db_scriptdb_write:
// <name>-<version>.X1<hex identity>.<type>).
func apkTrigger(t *testing.T, root string) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	body := []byte(script)
	name := "planted-1.0-r0.X1" + hex.EncodeToString(apkIdentity) + ".trigger"
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "lib/apk/db/scripts.tar"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rpmMacros is what the rpm_* tables need of rpm's /usr/lib/rpm/macros
// (macros.in of that rpm version): %__plugindir, and the
// %__transaction_<name> lines of the plugins it configures there. %_libdir
// is set here as the x86_64 platform file sets it, whatever the machine.
func rpmMacros(transactions ...string) string {
	out := "%_libdir\t/usr/lib64\n%__plugindir\t%{_libdir}/rpm-plugins\n"
	for _, n := range transactions {
		out += "%__transaction_" + n + "\t%{__plugindir}/" + n + ".so\n"
	}
	return out
}

// rpmMacroFiles plants a macro whose value runs a shell in each file.
func rpmMacroFiles(paths ...string) map[string]string {
	out := map[string]string{}
	for i, p := range paths {
		out[p] = fmt.Sprintf("%%planted_%d", i) + shellMacro
	}
	return out
}

// shellMacros is the query of the rpm_macros places: the files whose
// shell-running macro rpm uses.
const shellMacros = "SELECT path FROM rpm_macros WHERE shell = 1 AND effective = 1"

// loadedPlugins is the query of the rpm_plugins places.
const loadedPlugins = "SELECT path FROM rpm_plugins WHERE loaded = 1"

var families = []family{
	{
		name:   "Debian 12, Ubuntu 22.04/24.04",
		source: "apt 2.6 (apt-pkg/init.cc pkgInitConfig: Dir::Etc::parts apt.conf.d, main apt.conf); dpkg 1.21 (lib/dpkg/options.c: /etc/dpkg/dpkg.cfg.d, /etc/dpkg/dpkg.cfg, ~/.dpkg.cfg); Debian 12's rpm 4.18.0 (`rpm --showrc` macro path with vendor debian, no /usr/lib/rpm/debian shipped; /usr/lib/rpm/macros: %__plugindir %{_libdir}/rpm-plugins = /usr/lib64/rpm-plugins and nine %__transaction_<name>, while rpm-common ships the plugins in /usr/lib/x86_64-linux-gnu/rpm-plugins, packages.debian.org bookworm rpm-common file list); pacman-package-manager 6.0.2 (alpm-hooks(5): /usr/share/libalpm/hooks, HookDir default /etc/pacman.d/hooks)",
		// Debian 12's /usr/lib/rpm/macros, as far as plugins go
		base: map[string]string{"usr/lib/rpm/macros": rpmMacros("systemd_inhibit", "selinux", "syslog", "ima", "fapolicyd", "fsverity", "prioreset", "audit", "dbus_announce")},
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
			{table: "rpm_macros", reads: "Debian's `rpm` (4.18): `/usr/lib/rpm/macros.d/macros.*`, `/etc/rpm/macros.*`, `/etc/rpm/macros`, `/root/.rpmmacros`",
				files: rpmMacroFiles("usr/lib/rpm/macros.d/macros.planted", "etc/rpm/macros.planted", "etc/rpm/macros", "root/.rpmmacros"),
				query: shellMacros,
				want:  []string{"/etc/rpm/macros", "/etc/rpm/macros.planted", "/root/.rpmmacros", "/usr/lib/rpm/macros.d/macros.planted"}},
			{table: "rpm_plugins", reads: "Debian's `rpm-common`: `/usr/lib/x86_64-linux-gnu/rpm-plugins/*.so`, reported as not loaded (its `%__plugindir` is `/usr/lib64/rpm-plugins`)",
				files: map[string]string{"usr/lib/x86_64-linux-gnu/rpm-plugins/syslog.so": elf},
				query: "SELECT path || ' ' || loaded FROM rpm_plugins WHERE path LIKE '/usr/lib/x86_64-linux-gnu/%'",
				want:  []string{"/usr/lib/x86_64-linux-gnu/rpm-plugins/syslog.so 0"}},
			alpmDirs("Debian's `pacman-package-manager`: "),
		},
	},
	{
		name:   "CentOS/RHEL 7, Amazon Linux 2 (YUM 3, Python 2.7)",
		source: "yum 3.4 (yum/config.py: pluginpath /usr/share/yum-plugins, /usr/lib/yum-plugins; pluginconfpath /etc/yum/pluginconf.d; /etc/yum.conf); yum-plugin-post-transaction-actions (/etc/yum/post-actions); rpm 4.11.3 (rpm-4.11.3-release lib/rpmrc.c setDefaults: the same macro path as rpm 4.18; vendor redhat, redhat-rpm-config's /usr/lib/rpm/redhat/macros). rpm_plugins is not read there: rpm 4.11.3 has no transaction plugins (its macros.in defines only %__collection_<name>, plugins run for packages of a collection, lib/rpmplugins.c), which the table does not model",
		base: map[string]string{
			"etc/yum.conf": "[main]\nplugins=1\n",
			// rpm 4.11.3's macros.in: %__plugindir, no %__transaction_<name>
			"usr/lib/rpm/macros": rpmMacros(),
		},
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
			redhatMacros,
		},
	},
	{
		name:   "RHEL/Rocky/Alma 8 (DNF 4, Python 3.6)",
		source: "dnf 4.7 built for platform-python 3.6 (const.py PLUGINPATH /usr/lib/python3.6/site-packages/dnf-plugins); /etc/yum.conf and /etc/yum/pluginconf.d are symlinks to DNF's (yum is DNF there); dnf-plugins-core post-transaction-actions; rpm 4.14.3 (rpm-4.14.3-release lib/rpmrc.c setDefaults macro path; macros.in: %__plugindir %{_libdir}/rpm-plugins, %__transaction_<name> of systemd_inhibit, selinux, syslog, ima, prioreset in /usr/lib/rpm/macros; the rpm-plugin-<name> packages ship only the .so)",
		base: map[string]string{
			"usr/lib/python3.6/site-packages/dnf/const.py": dnfConst("/usr/lib/python3.6/site-packages"),
			"etc/dnf/dnf.conf":     "[main]\ngpgcheck=1\n",
			"etc/yum.conf":         symlink + "dnf/dnf.conf",
			"etc/yum/pluginconf.d": symlink + "../dnf/plugins",
			// rpm 4.14.3's macros.in (rpm-4.14.3-release)
			"usr/lib/rpm/macros": rpmMacros("systemd_inhibit", "selinux", "syslog", "ima", "prioreset"),
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
			redhatMacros,
			mainMacroPlugin,
		},
	},
	{
		name:   "RHEL/Rocky/Alma 9, Amazon Linux 2023 (DNF 4, Python 3.9)",
		source: "dnf 4.14 built for Python 3.9 (const.py PLUGINPATH /usr/lib/python3.9/site-packages/dnf-plugins); rpm 4.16.1 (rpm-4.16.1-release lib/rpmrc.c setDefaults macro path; macros.in: the %__transaction_<name> of rpm 4.14 and audit, in /usr/lib/rpm/macros)",
		base: map[string]string{
			"usr/lib/python3.9/site-packages/dnf/const.py": dnfConst("/usr/lib/python3.9/site-packages"),
			"etc/dnf/dnf.conf":   "[main]\n",
			"usr/lib/rpm/macros": rpmMacros("systemd_inhibit", "selinux", "syslog", "ima", "prioreset", "audit"),
		},
		places: []place{
			{table: "dnf_plugins", reads: "`/usr/lib/python3.9/site-packages/dnf-plugins/*.py` with `/etc/dnf/plugins/*.conf`",
				files: map[string]string{"usr/lib/python3.9/site-packages/dnf-plugins/planted.py": dnfPlugin},
				query: "SELECT path FROM dnf_plugins WHERE enabled = 1", want: []string{"/usr/lib/python3.9/site-packages/dnf-plugins/planted.py"}},
			{table: rpmDatabase, reads: "`/var/lib/rpm/rpmdb.sqlite` (SQLite): written by rpm",
				setup: installed("/var/lib/rpm", map[string]string{"/usr/lib/python3.9/site-packages/dnf-plugins/owned.py": dnfPlugin}),
				query: "SELECT path || ' ' || package FROM dnf_plugins WHERE package != ''",
				want:  []string{"/usr/lib/python3.9/site-packages/dnf-plugins/owned.py owner"}},
			redhatMacros,
			mainMacroPlugin,
		},
	},
	{
		name:   "Fedora 41 and later (DNF 5)",
		source: "libdnf5 (pluginpath ${libdir}/libdnf5/plugins = /usr/lib64/libdnf5/plugins, pluginconfpath /etc/dnf/libdnf5-plugins); dnf5's own plugins in /usr/lib64/dnf5/plugins; the actions plugin's /etc/dnf/libdnf5-plugins/actions.d; rpm 4.20 (Fedora 41, 42: rpm-4.20.0-release plugins/CMakeLists.txt installs each plugin's <name>.so in ${libdir}/rpm-plugins and its macros.transaction_<name> in the macros.d directory, and macros.in defines no %__transaction_<name>).; rpm 4.20 reads ~/.config/rpm/macros ($XDG_CONFIG_HOME/rpm/macros, rpm run by root having no XDG_CONFIG_HOME) instead of ~/.rpmmacros when ~/.config/rpm exists (rpm-4.20.0-release lib/rpmrc.c setDefaults; commit f24ca5ead, first in rpm-4.20.0-alpha, VERSION 4.19.90), the version being the rpm package's in the rpm database",
		// rpm 4.20's macros.in, as far as plugins go
		base: map[string]string{"usr/lib/rpm/macros": rpmMacros()},
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
			{table: "rpm_macros", reads: "`/usr/lib/rpm/macros.d/macros.*`, `/usr/lib/rpm/redhat/macros`, `/etc/rpm/macros.*`, `/root/.config/rpm/macros` (not `/root/.rpmmacros`) when `/root/.config/rpm` exists and the rpm database's `rpm` is 4.19.90 (4.20) or later",
				files: rpmMacroFiles("usr/lib/rpm/macros.d/macros.planted", "usr/lib/rpm/redhat/macros", "etc/rpm/macros.planted", "root/.config/rpm/macros", "root/.rpmmacros"),
				setup: sysimage(func(t *testing.T, root string) {
					rpmdbtest.InstallVersion(t, root, "/usr/lib/sysimage/rpm", "rpm", "4.20.0", map[string]string{"/usr/bin/rpm": elf})
				}),
				query: shellMacros,
				want:  []string{"/etc/rpm/macros.planted", "/root/.config/rpm/macros", "/usr/lib/rpm/macros.d/macros.planted", "/usr/lib/rpm/redhat/macros"}},
			{table: "rpm_plugins", reads: "`/usr/lib64/rpm-plugins/*.so` configured by `/usr/lib/rpm/macros.d/macros.transaction_<name>`",
				files: map[string]string{
					"usr/lib64/rpm-plugins/planted.so":                elf,
					"usr/lib/rpm/macros.d/macros.transaction_planted": "%__transaction_planted\t%{__plugindir}/planted.so\n",
				},
				query: loadedPlugins, want: []string{"/usr/lib64/rpm-plugins/planted.so"}},
		},
	},
	{
		name:   "SUSE Linux Enterprise 15, openSUSE Leap 15",
		source: "rpm-ndb 4.14.3 (%_dbpath /usr/lib/sysimage/rpm, %_db_backend ndb; /var/lib/rpm a symlink to it); openSUSE's rpm.spec (configure --with-vendor=suse, %files /usr/lib/rpm/macros.d/, /usr/lib/rpm/suse, %{_libdir}/rpm-plugins) and rpm-config-SUSE.spec (%{_rpmconfigdir}/suse/macros, macros.d/macros.*); macros.in of rpm 4.14.3 for %__plugindir and %__transaction_<name>; libzypp (zypp/ZConfig.cc pluginsPath /usr/lib/zypp/plugins; snapper-zypp-plugin.spec: /usr/lib/zypp/plugins/commit/snapper-zypp-plugin); zypper (subcommand.cc: /usr/lib/zypper/commands; zypper-lifecycle-plugin.spec: /usr/lib/zypper/commands/zypper-lifecycle)",
		// rpm 4.14.3's macros.in, as far as plugins go
		base: map[string]string{"usr/lib/rpm/macros": rpmMacros("systemd_inhibit", "selinux", "syslog", "ima", "prioreset")},
		places: []place{
			{table: rpmDatabase, reads: "`/usr/lib/sysimage/rpm/Packages.db` (NDB; `/var/lib/rpm` links there): a real SLE 15 database",
				setup: sysimage(func(t *testing.T, root string) {
					rpmdbtest.CopyFile(t, rpmdbtest.RealNDB(), filepath.Join(root, "usr/lib/sysimage/rpm"))
				}),
				query: "SELECT package || ' ' || script FROM package_scripts WHERE manager = 'rpm' AND package = 'rpm-ndb'",
				want:  []string{"rpm-ndb post", "rpm-ndb pre"}},
			{table: "zypp_plugins", reads: "`/usr/lib/zypp/plugins/{commit,system,appdata,services,urlresolver}/*`, `/usr/lib/zypper/commands/zypper-*` and `zypper-*` on root's PATH",
				files: zyppPlants(),
				query: "SELECT path FROM zypp_plugins WHERE runs = 1",
				want: []string{"/usr/lib/zypp/plugins/appdata/planted", "/usr/lib/zypp/plugins/commit/planted", "/usr/lib/zypp/plugins/services/planted",
					"/usr/lib/zypp/plugins/system/planted", "/usr/lib/zypp/plugins/urlresolver/planted", "/usr/lib/zypper/commands/zypper-planted"}},
			{table: "rpm_macros", reads: "`/usr/lib/rpm/macros.d/macros.*`, `/usr/lib/rpm/suse/macros`, `/etc/rpm/macros.*`, `/root/.rpmmacros`",
				files: rpmMacroFiles("usr/lib/rpm/macros.d/macros.planted", "usr/lib/rpm/suse/macros", "etc/rpm/macros.planted", "root/.rpmmacros"),
				query: shellMacros,
				want:  []string{"/etc/rpm/macros.planted", "/root/.rpmmacros", "/usr/lib/rpm/macros.d/macros.planted", "/usr/lib/rpm/suse/macros"}},
			mainMacroPlugin,
		},
	},
	{
		name:   "Arch Linux (pacman 6, 7)",
		source: "alpm-hooks(5) and pacman.conf(5) (man.archlinux.org): the system hook directory /usr/share/libalpm/hooks, then each HookDir of pacman.conf, default /etc/pacman.d/hooks/; pacman's local database /var/lib/pacman/local/<name>-<version>/{desc,files} (DBPath default /var/lib/pacman/)",
		base: map[string]string{
			"etc/pacman.conf":         pacmanConf(""),
			"etc/pacman.d/mirrorlist": "Server = https://geo.mirror.pkgbuild.com/$repo/os/$arch\n",
		},
		places: []place{
			alpmDirs(""),
			{table: "alpm_hooks", reads: "each `HookDir` of `/etc/pacman.conf` (and the files it includes) instead of `/etc/pacman.d/hooks`",
				files: map[string]string{
					"etc/pacman.conf":                pacmanConf("HookDir = /etc/pacman.d/hooks/ /opt/planted/hooks/\n"),
					"opt/planted/hooks/planted.hook": alpmHook("/usr/local/bin/planted"),
				},
				query: "SELECT path FROM alpm_hooks WHERE effective = 1",
				want:  []string{"/opt/planted/hooks/planted.hook"}},
			{table: pacmanDatabase, reads: "`/var/lib/pacman/local/*/files`",
				files: func() map[string]string {
					f := alpmOwner("usr/share/libalpm/hooks/owned.hook")
					f["usr/share/libalpm/hooks/owned.hook"] = alpmHook("/usr/bin/true")
					return f
				}(),
				query: "SELECT path || ' ' || package FROM alpm_hooks WHERE package != ''",
				want:  []string{"/usr/share/libalpm/hooks/owned.hook owner"}},
		},
	},
	alpine("Alpine Linux 3.x up to 3.22 (apk-tools 2)", "2.14.4-r1",
		"apk-tools 2.14 (src/commit.c run_commit_hooks: /etc/apk/commit_hooks.d only; src/database.c: /lib/apk/db/installed, triggers, scripts.tar); the Alpine 3.22.0 release notes: the last release with apk-tools 2.14, 3.23 moves to apk-tools 3",
		"`/etc/apk/commit_hooks.d/*` (not `/lib/apk/commit_hooks.d`)",
		[]string{"/etc/apk/commit_hooks.d/planted 1", "/lib/apk/commit_hooks.d/planted2 0"}),
	alpine("Alpine Linux 3.23 and later, edge (apk-tools 3)", "3.0.1-r0",
		"apk-tools 3.0 (src/commit.c run_commit_hooks: /etc/apk/commit_hooks.d and /lib/apk/commit_hooks.d, a name in /etc hiding the same name in /lib); the Alpine 3.23.0 release announcement (alpinelinux.org, 2025-12-03): apk-tools v3, packages and index still in the v2 format",
		"`/etc/apk/commit_hooks.d/*`, `/lib/apk/commit_hooks.d/*`",
		[]string{"/etc/apk/commit_hooks.d/planted 1", "/lib/apk/commit_hooks.d/planted2 1"}),
}

// redhatMacros is rpm's macro path on the RPM families of rpm 4.11 to
// 4.19 (4.20 reads the user's file elsewhere: Fedora's place), the vendor's being redhat-rpm-config's
// /usr/lib/rpm/redhat/macros (redhat-rpm-config.spec: rrcdir
// /usr/lib/rpm/redhat).
var redhatMacros = place{table: "rpm_macros", reads: "`/usr/lib/rpm/macros.d/macros.*`, `/usr/lib/rpm/redhat/macros`, `/etc/rpm/macros.*`, `/root/.rpmmacros`",
	files: rpmMacroFiles("usr/lib/rpm/macros.d/macros.planted", "usr/lib/rpm/redhat/macros", "etc/rpm/macros.planted", "root/.rpmmacros"),
	query: shellMacros,
	want:  []string{"/etc/rpm/macros.planted", "/root/.rpmmacros", "/usr/lib/rpm/macros.d/macros.planted", "/usr/lib/rpm/redhat/macros"}}

// mainMacroPlugin is a plugin of rpm 4.14 to 4.19, whose
// %__transaction_<name> is in /usr/lib/rpm/macros: its rpm-plugin-<name>
// package ships only the shared object.
var mainMacroPlugin = place{table: "rpm_plugins", reads: "`/usr/lib64/rpm-plugins/*.so` configured by `%__transaction_<name>` of `/usr/lib/rpm/macros`",
	files: map[string]string{"usr/lib64/rpm-plugins/syslog.so": elf},
	query: loadedPlugins, want: []string{"/usr/lib64/rpm-plugins/syslog.so"}}

// alpine is an Alpine family whose apk-tools is at version: its commit
// hooks (hooks says where apk reads them; ran, for a hook planted in each
// directory, its path and whether it runs), triggers and database.
func alpine(name, version, source, hooks string, ran []string) family {
	return family{
		name: name, source: source,
		base: map[string]string{"lib/apk/db/installed": apkInstalled(version)},
		places: []place{
			{table: "apk_hooks", reads: hooks,
				files: map[string]string{"etc/apk/commit_hooks.d/planted": script, "lib/apk/commit_hooks.d/planted2": script},
				query: "SELECT path || ' ' || runs FROM apk_hooks WHERE kind = 'commit_hook'", want: ran},
			{table: "apk_hooks", reads: "trigger scripts: `/lib/apk/db/triggers` with `/lib/apk/db/installed` and `/lib/apk/db/scripts.tar`",
				files: map[string]string{
					"lib/apk/db/installed": apkInstalled(version, apkPlanted("")),
					"lib/apk/db/triggers":  "Q1" + base64.StdEncoding.EncodeToString(apkIdentity) + " /usr/share/planted/*\n",
				},
				setup: apkTrigger,
				query: "SELECT name || ' ' || triggers FROM apk_hooks WHERE kind = 'trigger' AND runs = 1",
				want:  []string{"planted /usr/share/planted/*"}},
			{table: apkDatabase, reads: "`/lib/apk/db/installed`",
				files: map[string]string{
					"lib/apk/db/installed":         apkInstalled(version, apkPlanted("F:etc/apk/commit_hooks.d\nR:owned\n")),
					"etc/apk/commit_hooks.d/owned": script,
				},
				query: "SELECT path || ' ' || package FROM apk_hooks WHERE package != ''",
				want:  []string{"/etc/apk/commit_hooks.d/owned planted"}},
		},
	}
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
		mode := os.FileMode(0o644)
		if strings.HasPrefix(data, "#!") || strings.HasPrefix(data, elf) {
			// a program or shared object, installed executable
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
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
			if cols, ok := databases[p.table]; ok {
				table = p.table + " (" + cols + ")"
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
