package zypplugins

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/rpmdb/rpmdbtest"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/need"
)

const rootsDir = "../../../test/roots"

func rows(t *testing.T, root string) []table.Row {
	t.Helper()
	rs, err := Rows(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// names returns the sorted names of kind's rows that pass keep.
func names(rs []table.Row, kind string, keep func(table.Row) bool) string {
	var out []string
	for _, r := range rs {
		if r["kind"] == kind && keep(r) {
			out = append(out, r["name"])
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// copyProgram copies the executable src to dst, making dst's directory.
func copyProgram(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeProgram(t, dst, data)
}

// writeFiles writes executables name → content under root.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		writeProgram(t, filepath.Join(root, name), []byte(body))
	}
}

// writeProgram writes an executable dst, making its directory.
func writeProgram(t *testing.T, dst string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestOracleServices: Debian's zypper lists as services exactly the
// non-hidden entries of the root's plugins/services (`zypper --root R ls`),
// and running them (`zypper --root R refs`, which runs each with /bin/sh
// chrooted into the root) runs exactly the ones the table says: each
// leaves a marker in the root's /tmp. The root gets a static busybox as
// /bin/sh.
func TestOracleServices(t *testing.T) {
	zypper := need.Unpacked(t, "zypper", "usr/bin/zypper")
	busybox := need.Program(t, "busybox")
	if os.Geteuid() != 0 {
		need.Missing(t, "zypper --root runs service plugins chrooted: needs root")
	}
	root := t.TempDir()
	// cp -a: the modes are what the test is about
	if out, err := exec.Command("cp", "-a", filepath.Join(rootsDir, "zypp")+"/.", root).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// `zypper ls` lists repositories too: the fixture's go
	if err := os.RemoveAll(filepath.Join(root, "etc/zypp/repos.d")); err != nil {
		t.Fatal(err)
	}
	rs := rows(t, root)
	for _, d := range []string{"bin", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyProgram(t, busybox, filepath.Join(root, "bin/busybox"))
	for _, l := range []string{"sh", "touch", "cat"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", l)); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		cmd := exec.Command(zypper, append([]string{"--non-interactive", "--root", root}, args...)...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	out := run("--terse", "ls")
	var listed []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "|")
		if len(f) > 2 && strings.TrimSpace(f[0]) != "#" && strings.TrimSpace(f[1]) != "" {
			listed = append(listed, strings.TrimSpace(f[1]))
		}
	}
	sort.Strings(listed)
	want := names(rs, "services", func(r table.Row) bool { return !strings.HasPrefix(r["reason"], "hidden") })
	if got := strings.Join(listed, " "); got != want {
		t.Fatalf("zypper ls: %q, table's services %q\n%s", got, want, out)
	}
	out = run("refs")
	ents, _ := os.ReadDir(filepath.Join(root, "tmp"))
	var ran []string
	for _, e := range ents {
		ran = append(ran, strings.TrimPrefix(e.Name(), "marker-"))
	}
	sort.Strings(ran)
	want = names(rs, "services", func(r table.Row) bool { return r["runs"] == "1" })
	if got := strings.Join(ran, " "); got != want || want == "" {
		t.Fatalf("zypper refs ran %q, table says %q\n%s", got, want, out)
	}
}

// TestOracleSubcommands: Debian's zypper runs, for `zypper <cmd>`, the
// zypper-<cmd> the table says runs. zypper's execdir is fixed
// (/usr/lib/zypper/commands of the host, absent here), so the root's
// execdir leads a PATH of the root's directories: the same search order.
func TestOracleSubcommands(t *testing.T) {
	zypper := need.Unpacked(t, "zypper", "usr/bin/zypper")
	root, err := filepath.Abs(filepath.Join(rootsDir, "zypp"))
	if err != nil {
		t.Fatal(err)
	}
	rs := rows(t, root)
	dirs := []string{root + execDir}
	for _, d := range pathDirs {
		dirs = append(dirs, root+d)
	}
	want := map[string]string{}
	for _, r := range rs {
		if r["kind"] == "subcommand" && r["runs"] == "1" {
			want[r["name"]] = r["path"]
		}
	}
	if len(want) < 3 {
		t.Fatalf("fixture too thin: %v", want)
	}
	// a file named after a built-in command: zypper runs its own, and no
	// marker appears
	for _, r := range rs {
		if r["kind"] == "subcommand" && strings.Contains(r["reason"], "zypper's own commands") {
			want[r["name"]] = ""
		}
	}
	if _, ok := want["moo"]; !ok {
		t.Fatalf("no row for zypper-moo")
	}
	for cmd, p := range want {
		markers := t.TempDir()
		c := exec.Command(zypper, cmd)
		c.Env = append(os.Environ(), "LC_ALL=C", "ZYPP_MARKERS="+markers, "PATH="+strings.Join(dirs, ":")+":/usr/bin:/bin")
		out, err := c.CombinedOutput()
		ents, _ := os.ReadDir(markers)
		if p == "" {
			if len(ents) != 0 {
				t.Errorf("zypper %s ran a file: %v", cmd, ents)
			}
			continue
		}
		if len(ents) != 1 {
			t.Errorf("zypper %s: markers %v (%v: %s)", cmd, ents, err, out)
			continue
		}
		// each fixture script touches a marker named after where it is
		body, _ := os.ReadFile(filepath.Join(root, p))
		if !strings.Contains(string(body), "/"+ents[0].Name()+"\"") {
			t.Errorf("zypper %s ran the script that leaves %s; the table says %s runs", cmd, ents[0].Name(), p)
		}
	}
}

// TestPermissions: libzypp's userMayRX looks at the bits that apply to
// uid 0 (owner, group or other) with no root exception, and PluginScript
// wants the owner's execute bit as well; a symlink counts
// as its target; a dangling one is a reason, never a vanished row.
func TestPermissions(t *testing.T) {
	if os.Geteuid() != 0 {
		need.Missing(t, "chown needs root")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "usr/lib/zypp/plugins/commit")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, mode os.FileMode, uid, gid int) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	write("owner-rx", 0o700, 0, 0)
	write("owner-x-only", 0o100, 0, 0)
	write("user-owned-0700", 0o700, 1000, 1000) // root is "other": no bits
	write("user-owned-0705", 0o705, 1000, 1000) // other r-x
	write("group-root-0750", 0o750, 1000, 0)    // group bits apply
	write("group-root-0705", 0o705, 1000, 0)    // group has none: no
	write("group-root-0075", 0o075, 1000, 0)    // userMayRX, but no owner x: PluginScript refuses
	if err := os.Symlink("owner-rx", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows(t, root) {
		got[r["name"]] = r["runs"]
		if r["runs"] == "0" && r["reason"] == "" {
			t.Errorf("%s: no reason", r["name"])
		}
	}
	want := map[string]string{"owner-rx": "1", "owner-x-only": "0", "user-owned-0700": "0", "user-owned-0705": "1",
		"group-root-0750": "1", "group-root-0705": "0", "group-root-0075": "0", "link": "1", "dangling": "0"}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s: runs %q, want %s", n, got[n], w)
		}
	}
}

// TestRPMProvenance: a plugin installed by a real rpm (Debian's rpmbuild
// and rpm into the root) names its package; once changed it says so, and
// a planted one next to it has none.
func TestRPMProvenance(t *testing.T) {
	root := t.TempDir()
	plugin := "/usr/lib/zypp/plugins/commit/snapper.py"
	rpmdbtest.Install(t, root, "/var/lib/rpm", "snapper-zypp-plugin", map[string]string{plugin: "#!/usr/bin/python3\n"})
	if err := os.WriteFile(filepath.Join(root, "usr/lib/zypp/plugins/commit/planted"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	check := func(modified string) {
		t.Helper()
		got := map[string]table.Row{}
		for _, r := range rows(t, root) {
			got[r["name"]] = r
		}
		if r := got["snapper.py"]; r["package"] != "snapper-zypp-plugin" || r["package_modified"] != modified {
			t.Errorf("packaged plugin: %v", r)
		}
		if r := got["planted"]; r["package"] != "" || r["runs"] != "1" {
			t.Errorf("planted plugin: %v", r)
		}
	}
	check("0")
	if err := os.WriteFile(filepath.Join(root, plugin), []byte("#!/usr/bin/python3\nimport os; os.system('id')\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	check("1")
}

// hostOverlay gives zypper a root of its own: libzypp runs commit, system,
// appdata and URL resolver plugins from the host's pluginsPath() only, and
// the first three only when the target root is / (zypp.expected.md). A run
// happens in a private mount namespace, chrooted into an overlay of the
// host's / whose writes go to top/upper.
type hostOverlay struct {
	top, fixture string
}

// newHostOverlay prepares an overlay for one run. Its top directory is not
// t.TempDir(): an overlay's upper and work directories must not be inside
// the lower one's own mounts, and /tmp is in the lower one.
func newHostOverlay(t *testing.T) *hostOverlay {
	t.Helper()
	zypper := need.Unpacked(t, "zypper", "usr/bin/zypper")
	need.Program(t, "unshare")
	if os.Geteuid() != 0 {
		need.Missing(t, "an overlay of / in a private mount namespace needs root")
	}
	fixture, err := filepath.Abs(filepath.Join(rootsDir, "zypp"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := os.MkdirTemp("", "zypp-oracle")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// the zypper under test is the overlay's /usr/bin/zypper: it need
	// not be on the root's filesystem, nor installed
	copyProgram(t, zypper, filepath.Join(top, "upper/usr/bin/zypper"))
	return &hostOverlay{top: top, fixture: fixture}
}

// overlayPrelude starts every script in the chroot: the fixture's
// usr/lib/zypp/plugins (its path is $1) become the host's, and Debian's
// /etc/zypp/systemCheck, which requires glibc, unknown to Debian's rpm
// database, goes. Each fixture plugin touches
// /tmp/zypp-markers/<its directory>/<its name> when it starts.
const overlayPrelude = `set -e
mount -t proc proc /proc
rm -f /etc/zypp/systemCheck
mkdir -p /tmp/zypp-markers /usr/lib/zypp /etc/zypp/repos.d
cp -a "$1/usr/lib/zypp/plugins" /usr/lib/zypp/
shift
`

// run runs overlayPrelude and script with sh in the chroot, with args as
// script's $1…, and returns zypper's output.
func (o *hostOverlay) run(t *testing.T, script string, args ...string) (string, error) {
	t.Helper()
	outer := `top=$1 script=$2; shift 2
mount -t overlay overlay -o "lowerdir=/,upperdir=$top/upper,workdir=$top/work" "$top/merged" &&
mount --bind /dev "$top/merged/dev" && exec chroot "$top/merged" sh -c "$script" sh "$@"`
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "--", "sh", "-c", outer, "sh",
		o.top, overlayPrelude + script, o.fixture}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "overlay") && err != nil {
		need.Missing(t, "no overlay of / here: "+strings.TrimSpace(string(out)))
	}
	o.settle(t)
	return string(out), err
}

// settle waits until no process has its root in the overlay any more:
// libzypp starts appdata plugins and leaves them running (zypp/
// ExternalProgram.cc ~ExternalProgram hands a live child to its
// CleanerThread), so they may outlive zypper and the chroot's shell.
func (o *hostOverlay) settle(t *testing.T) {
	t.Helper()
	merged := filepath.Join(o.top, "merged")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		var left []string
		roots, _ := filepath.Glob("/proc/[0-9]*/root")
		for _, r := range roots {
			if dst, err := os.Readlink(r); err == nil && dst == merged {
				left = append(left, filepath.Dir(r))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes still running in the overlay after a minute: %v", left)
		}
	}
}

// markers are the plugins that started in the overlay, as <kind>/<name>,
// sorted, of the given kinds only.
func (o *hostOverlay) markers(kinds ...string) []string {
	var out []string
	dir := filepath.Join(o.top, "upper/tmp/zypp-markers")
	kdirs, _ := os.ReadDir(dir)
	for _, k := range kdirs {
		ents, _ := os.ReadDir(filepath.Join(dir, k.Name()))
		for _, e := range ents {
			if len(kinds) == 0 || slices.Contains(kinds, k.Name()) {
				out = append(out, k.Name()+"/"+e.Name())
			}
		}
	}
	sort.Strings(out)
	return out
}

// running is the table's rows of kinds with runs = 1, as <kind>/<name>.
func running(rs []table.Row, kinds ...string) []string {
	var out []string
	for _, r := range rs {
		if slices.Contains(kinds, r["kind"]) && r["runs"] == "1" {
			out = append(out, r["kind"]+"/"+r["name"])
		}
	}
	sort.Strings(out)
	return out
}

// commitScript installs the tiny rpm from the plain-directory repository
// $1: a commit on the target root /.
const commitScript = `zypper --non-interactive ar -t plaindir "dir://$1" local
zypper --non-interactive --no-gpg-checks install tiny
`

// TestOracleCommitPlugins: Debian's zypper, committing a transaction on
// its own root, starts exactly the commit and system plugins the table
// says run.
func TestOracleCommitPlugins(t *testing.T) {
	o := newHostOverlay(t)
	rpmbuild := need.Program(t, "rpmbuild")
	spec := filepath.Join(o.top, "tiny.spec")
	if err := os.WriteFile(spec, []byte("Name: tiny\nVersion: 1.0\nRelease: 1\nSummary: tiny\nLicense: MIT\nBuildArch: noarch\n%description\ntiny\n%install\nmkdir -p %{buildroot}/opt/tiny\necho hi > %{buildroot}/opt/tiny/hi\n%files\n/opt/tiny/hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(rpmbuild, "--define", "_topdir "+o.top+"/build", "-bb", spec).CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	out, err := o.run(t, commitScript, filepath.Join(o.top, "build/RPMS/noarch"))
	// zypper may exit 106 (a repository skipped) after installing
	if !strings.Contains(out, "Installing: tiny") {
		t.Fatalf("zypper install in the overlay: %v\n%s", err, out)
	}
	got := o.markers("commit", "system")
	want := running(rows(t, o.fixture), "commit", "system")
	if !slices.Equal(got, want) || len(want) < 2 {
		t.Fatalf("zypper started %v; the table's running commit and system plugins %v\n%s", got, want, out)
	}
}

// TestOracleAppdataPlugins: adding a repository as root without --root
// makes Debian's zypper start, when its RepoManager goes, exactly the
// appdata plugins the table says run, and nothing else: not a hidden one,
// not one without r-x for root, not one in a subdirectory.
func TestOracleAppdataPlugins(t *testing.T) {
	o := newHostOverlay(t)
	out, err := o.run(t, `zypper --non-interactive ar -t plaindir dir:///nonexistent local`)
	// the first zypper run in the overlay also caches Debian's rpm
	// database: the system plugin gets PACKAGESETCHANGED
	got := slices.DeleteFunc(o.markers(), func(m string) bool { return strings.HasPrefix(m, "system/") })
	rs := rows(t, o.fixture)
	want := running(rs, "appdata")
	if !slices.Equal(got, want) || len(want) == 0 || len(want) == len(names(rs, "appdata", func(table.Row) bool { return true })) {
		t.Fatalf("zypper started %v; the table's running appdata plugins %v (%v)\n%s", got, want, err, out)
	}
}

// urlScript copies the fixture's repository files (its root is $1), adds,
// for each plugin name in the rest of $@, a repository whose URL is
// plugin:<name>, and refreshes them all.
const urlScript = `cp -a "$1/etc/zypp/repos.d/." /etc/zypp/repos.d/
shift
i=0
for n in "$@"; do
  i=$((i+1))
  printf '[url%s]\nname=url%s\nenabled=1\nautorefresh=0\ntype=rpm-md\nbaseurl=plugin:%s\n' $i $i "$n" >/etc/zypp/repos.d/url$i.repo
done
zypper --non-interactive ref || true
`

// TestOracleURLResolvers: refreshing a repository whose URL is
// plugin:<name> makes Debian's zypper start urlresolver/<name> exactly
// when the table says it runs; each entry of the directory gets its
// repository, and the fixture's own repositories name more: one outside
// urlresolver/ (../commit/backdoor.sh), one in a subdirectory on a
// continuation line, one in a gzip-compressed file, one in a disabled
// repository, one as a mirrorlist.
// A marker is <directory>/<name> of the file that started.
func TestOracleURLResolvers(t *testing.T) {
	o := newHostOverlay(t)
	rs := rows(t, o.fixture)
	all := strings.Fields(names(rs, "urlresolver", func(r table.Row) bool { return !strings.HasPrefix(r["trigger"], "whenever repository") }))
	out, err := o.run(t, urlScript, append([]string{o.fixture}, all...)...)
	got := o.markers("urlresolver", "sub", "commit")
	var want []string
	fromRepos := 0
	for _, r := range rs {
		if r["kind"] != "urlresolver" || r["runs"] != "1" {
			continue
		}
		if strings.HasPrefix(r["trigger"], "whenever repository") {
			fromRepos++
		}
		if m := filepath.Base(filepath.Dir(r["path"])) + "/" + filepath.Base(r["path"]); !slices.Contains(want, m) {
			want = append(want, m)
		}
	}
	sort.Strings(want)
	// the fixture's cases, so that the table and zypper cannot both miss one
	for _, m := range []string{"commit/backdoor.sh", "sub/deep", "sub/packed"} {
		if !slices.Contains(want, m) {
			t.Errorf("the table does not run %s", m)
		}
	}
	if !slices.Equal(got, want) || fromRepos < 3 || slices.Contains(got, "sub/off") {
		t.Fatalf("zypper started %v; the table's running URL resolvers %v (%v)\n%s", got, want, err, out)
	}
}
