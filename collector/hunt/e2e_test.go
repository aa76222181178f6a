package hunt_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/pkgpersist/pkgpersist/collector/hunt/hunttest"
	"github.com/pkgpersist/pkgpersist/collector/report/ecscheck"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/test/aptoracle"
	"github.com/pkgpersist/pkgpersist/test/distbuild"
	"github.com/pkgpersist/pkgpersist/test/emptyroot"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// dist is make dist, the builds hunt copies to the lab's hosts.
var dist = &distbuild.Dist{Arches: []string{"amd64", "arm64"}}

func TestMain(m *testing.M) {
	code := m.Run()
	dist.Remove()
	os.Exit(code)
}

// lab is two SSH "hosts": one sshd on 127.0.0.1 listening on two ports,
// a throwaway key pair, and an ssh_config for the collector.
type lab struct {
	dir, bin, sshConfig string
	ports               [2]int
	extraArgs           []string
	// timeout is hunt's per-host --timeout: generous, for a loaded
	// machine, unless a test waits for a hanging host
	timeout string
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func sh(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func startLab(t testing.TB) *lab { return startLabWith(t, nil) }

// startLabWith adds the lines extra returns (given the lab, its ports
// chosen) to sshd_config.
func startLabWith(t testing.TB, extra func(*lab) string) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		need.Missing(t, "sshd on 127.0.0.1 needs root")
	}
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		need.Missing(t, "openssh-server is not installed")
	}
	need.Program(t, "ssh")
	need.Program(t, "ssh-keygen")
	l := &lab{dir: t.TempDir(), timeout: "60s"}
	// make dist's collector, which copies itself to the hosts
	l.bin = filepath.Join(distbuild.Arch(dist.Dir(t), runtime.GOARCH), "pkgpersist")
	sh(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(l.dir, "hostkey"))
	sh(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(l.dir, "id"))
	pub, _ := os.ReadFile(filepath.Join(l.dir, "id.pub"))
	must(t, os.WriteFile(filepath.Join(l.dir, "authorized_keys"), pub, 0o600))
	l.ports = [2]int{freePort(t), freePort(t)}
	more := ""
	if extra != nil {
		more = extra(l)
	}
	cfg := fmt.Sprintf(`Port %d
Port %d
ListenAddress 127.0.0.1
HostKey %s/hostkey
AuthorizedKeysFile %s/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile %s/sshd.pid
%s
`, l.ports[0], l.ports[1], l.dir, l.dir, l.dir, more)
	must(t, os.WriteFile(filepath.Join(l.dir, "sshd_config"), []byte(cfg), 0o600))
	_ = os.MkdirAll("/run/sshd", 0o755)
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(l.dir, "sshd_config"))
	var logs bytes.Buffer
	cmd.Stderr = &logs
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	l.sshConfig = filepath.Join(l.dir, "ssh_config")
	must(t, os.WriteFile(l.sshConfig, []byte(fmt.Sprintf(`Host 127.0.0.1
  IdentityFile %s/id
  IdentitiesOnly yes
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  LogLevel ERROR
`, l.dir)), 0o600))
	for _, p := range l.ports {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sshd does not listen on %d: %s", p, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return l
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hunt runs the collector binary; it returns the exit code and stderr.
func (l *lab) hunt(t *testing.T, db, queries string, targets ...string) (int, string) {
	t.Helper()
	code, _, errs := l.huntOut(t, db, queries, targets...)
	return code, errs
}

// huntClean runs the collector binary and wants a clean hunt.
func (l *lab) huntClean(t *testing.T, db, queries string, targets ...string) {
	t.Helper()
	code, errs := l.hunt(t, db, queries, targets...)
	hunttest.WantClean(t, code, errs)
}

// huntOut runs the collector binary; it returns the exit code, stdout
// and stderr.
func (l *lab) huntOut(t *testing.T, db, queries string, targets ...string) (int, string, string) {
	t.Helper()
	args := append([]string{"hunt", "--db", db, "--queries", queries, "--ssh-config", l.sshConfig, "--timeout", l.timeout, "--parallel", "4", "--format", "json"}, l.extraArgs...)
	args = append(args, targets...)
	cmd := exec.Command(l.bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func (l *lab) diff(t *testing.T, db string, run int) []map[string]any {
	t.Helper()
	out, err := exec.Command(l.bin, "diff", "--db", db, "--run", fmt.Sprint(run), "--format", "ndjson", "--ecs").Output()
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	ecscheck.Check(t, out)
	var docs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var d map[string]any
		must(t, json.Unmarshal([]byte(line), &d))
		docs = append(docs, d)
	}
	return docs
}

// hooksQuery is the one query the end-to-end hunts run: active APT hooks
// and enabled DNF plugins.
const hooksQuery = `-- id: hooks
-- title: APT hooks and DNF plugins
-- description: test query
-- attack: T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
SELECT 'apt' AS kind, hook AS name, command, path FROM apt_hooks WHERE active = 1
UNION ALL
SELECT 'dnf', name, '', path FROM dnf_plugins WHERE enabled = 1
`

func TestHuntOverSSH(t *testing.T) {
	l := startLab(t)
	qdir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
	rootA, rootB := t.TempDir(), t.TempDir()
	for _, fx := range []string{"planted", "dnf4"} {
		must(t, aptoracle.CopyTree(filepath.Join("../../test/roots", fx), rootA))
	}
	must(t, aptoracle.CopyTree("../../test/roots/debian-real", rootB))
	hostA := fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[0], rootA)
	hostB := fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[1], rootB)
	db := filepath.Join(t.TempDir(), "p.db")

	l.huntClean(t, db, qdir, hostA, hostB)
	if first := l.diff(t, db, 1); len(first) < 20 {
		t.Fatalf("first run found only %d rows", len(first))
	}
	// plant an APT hook and a DNF plugin on host A
	must(t, os.WriteFile(filepath.Join(rootA, "etc/apt/apt.conf.d/60zz-new.conf"), []byte("DPkg::Post-Invoke:: \"/tmp/.x/run\";\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(rootA, "usr/lib/python3/dist-packages/dnf-plugins/zz_new.py"), []byte("import dnf\n\nclass N(dnf.Plugin):\n    name = 'zz-new'\n"), 0o644))
	l.huntClean(t, db, qdir, hostA, hostB)
	got := map[string]bool{}
	for _, d := range l.diff(t, db, 2) {
		// host.name is the machine's name, the root hunted in
		// pkgpersist.root: together the name the host is stored under
		custom := d["pkgpersist"].(map[string]any)
		host := d["host"].(map[string]any)["name"].(string) + ":" + fmt.Sprint(custom["root"])
		row := custom["row"].(map[string]any)
		got[fmt.Sprintf("%s|%s|%s|%s", d["event"].(map[string]any)["action"], host, row["kind"], row["name"])] = true
		if d["event"].(map[string]any)["kind"] != "alert" || d["rule"].(map[string]any)["id"] != "hooks" {
			t.Errorf("ECS document: %v", d)
		}
	}
	wantA := storedName(t, db, hostA)
	want := map[string]bool{
		"new|" + wantA + "|apt|DPkg::Post-Invoke": true,
		"new|" + wantA + "|dnf|zz-new":            true,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("second run's changes:\n got %v\nwant %v", got, want)
	}
	// remove the hook: reported as gone
	must(t, os.Remove(filepath.Join(rootA, "etc/apt/apt.conf.d/60zz-new.conf")))
	l.huntClean(t, db, qdir, hostA, hostB)
	third := l.diff(t, db, 3)
	if len(third) != 1 || third[0]["event"].(map[string]any)["action"] != "gone" {
		t.Fatalf("third run: %v", third)
	}
}

// TestFaults: a target that refuses connections and one that never answers
// are reported with reasons (the second by the per-host timeout); the good
// hosts' results are stored and the exit code says partial failure. The
// timeout is generous so that the good host, on a loaded machine, never
// hits it: how long the run takes is not what is tested.
func TestFaults(t *testing.T) {
	l := startLab(t)
	l.timeout = "45s"
	qdir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
	refused := freePort(t)
	hang := hangingListener(t)
	abs, _ := filepath.Abs("../../test/roots/planted")
	good := fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[0], abs)
	db := filepath.Join(t.TempDir(), "p.db")
	code, errs := l.hunt(t, db, qdir, good,
		fmt.Sprintf("ssh://root@127.0.0.1:%d", refused),
		fmt.Sprintf("ssh://root@127.0.0.1:%d", hang.Addr().(*net.TCPAddr).Port))
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.Contains(errs, "Connection refused") || !strings.Contains(errs, "timed out") {
		t.Fatalf("reasons missing:\n%s", errs)
	}
	st, err := store.Open(db)
	must(t, err)
	defer st.Close()
	cur, err := st.Current(context.Background(), "", "hooks")
	must(t, err)
	if len(cur) < 20 {
		t.Fatalf("good host's rows not stored: %d\n%s", len(cur), errs)
	}
}

// TestCrash: kill -9 in the middle of a multi-host run leaves a database
// that opens cleanly, with every committed host complete; a re-run
// completes the rest.
func TestCrash(t *testing.T) {
	l := startLab(t)
	qdir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
	hang := hangingListener(t)
	var targets []string
	for i, root := range roots(t, 3, "planted") {
		targets = append(targets, fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[i%2], root))
	}
	slow := fmt.Sprintf("ssh://root@127.0.0.1:%d", hang.Addr().(*net.TCPAddr).Port)
	db := filepath.Join(t.TempDir(), "p.db")
	cmd := exec.Command(l.bin, append([]string{"hunt", "--db", db, "--queries", qdir, "--ssh-config", l.sshConfig, "--timeout", "60s", "--parallel", "4", "--format", "json"}, append(targets, slow)...)...)
	must(t, cmd.Start())
	// wait until the three good hosts are committed, then kill
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if n := committedHosts(t, db); n >= 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	must(t, cmd.Process.Kill())
	cmd.Wait()
	if n := committedHosts(t, db); n != 3 {
		t.Fatalf("%d hosts committed before the kill", n)
	}
	st, err := store.Open(db)
	must(t, err)
	var check string
	sdb, _ := sql.Open("sqlite3", db)
	must(t, sdb.QueryRow("PRAGMA integrity_check").Scan(&check))
	sdb.Close()
	if check != "ok" {
		t.Fatalf("integrity: %s", check)
	}
	cur, err := st.Current(context.Background(), "", "hooks")
	must(t, err)
	st.Close()
	// every committed host hunted the same root: each has all its rows
	perHost := map[string]int{}
	for _, c := range cur {
		perHost[c.Host]++
	}
	if len(perHost) != 3 {
		t.Fatalf("hosts with rows: %v", perHost)
	}
	for h, n := range perHost {
		if n != perHost[storedName(t, db, targets[0])] || n < 20 {
			t.Errorf("host %s incomplete: %d rows (%v)", h, n, perHost)
		}
	}
	// the re-run (without the hanging host) completes
	l.huntClean(t, db, qdir, targets...)
}

// hangingListener accepts connections and never says anything: an SSH
// server that hangs.
func hangingListener(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return l
}

func committedHosts(t *testing.T, db string) int {
	sdb, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	if err != nil {
		return 0
	}
	defer sdb.Close()
	var n int
	if err := sdb.QueryRow("SELECT count(*) FROM host_runs WHERE error = ''").Scan(&n); err != nil {
		return 0
	}
	return n
}

// TestRemoteOsqueryi: where the host has osqueryi, the hunt copies the
// extension too (make dist's, beside the build it copies) and runs the
// queries through osqueryi. The host's osqueryi here is a stand-in script
// (osquery is not packaged for Debian) that records how it was called and
// answers through pkgpersist's own engine; the stored rows equal those of
// the pkgpersist engine on the same host.
func TestRemoteOsqueryi(t *testing.T) {
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	fake := `#!/bin/sh
# stand-in for osqueryi --json --extension EXT ... SQL
ext=""; prev=""
for a in "$@"; do
  [ "$prev" = "--extension" ] && ext="$a"
  prev="$a"; sql="$a"
done
[ -x "$ext" ] || { echo "extension $ext missing" >&2; exit 1; }
echo "$@" >> ` + calls + `
exec "$(dirname "$ext")/pkgpersist" query --root / --format json "$sql"
`
	must(t, os.WriteFile(filepath.Join(bin, "osqueryi"), []byte(fake), 0o755))
	l := startLabWith(t, func(*lab) string { return "SetEnv PATH=" + bin + ":/usr/sbin:/usr/bin:/sbin:/bin" })
	qdir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
	target := fmt.Sprintf("ssh://root@127.0.0.1:%d", l.ports[0])
	counts := map[string]int{}
	for _, engine := range []string{"osqueryi", "pkgpersist"} {
		l.extraArgs = []string{"--remote-engine", engine}
		db := filepath.Join(t.TempDir(), engine+".db")
		l.huntClean(t, db, qdir, target)
		st, err := store.Open(db)
		must(t, err)
		cur, err := st.Current(context.Background(), "", "hooks")
		must(t, err)
		st.Close()
		counts[engine] = len(cur)
	}
	data, err := os.ReadFile(calls)
	if err != nil || !strings.Contains(string(data), "--extensions_require=pkgpersist") {
		t.Fatalf("osqueryi was not run with the extension: %v %q", err, data)
	}
	if counts["osqueryi"] != counts["pkgpersist"] || counts["pkgpersist"] == 0 {
		t.Fatalf("rows differ: %v", counts)
	}
}

// startHostileLab is a lab whose second port's "host" runs every command
// it is given, except those the shell case patterns in cases (each with
// its command and ;;) catch.
func startHostileLab(t *testing.T, cases string) *lab {
	t.Helper()
	script := filepath.Join(t.TempDir(), "hostile")
	must(t, os.WriteFile(script, []byte(`#!/bin/sh
case "$SSH_ORIGINAL_COMMAND" in
`+cases+`
*) exec sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
`), 0o755))
	return startLabWith(t, func(l *lab) string {
		return fmt.Sprintf("Match LocalPort %d\n  ForceCommand %s\n", l.ports[1], script)
	})
}

// TestHostileHostAmongGood: a host whose answer names a query that was not
// asked and answers another twice is incomplete with those reasons; the
// good host beside it is reported and stored, and its findings are new in
// this run and present in the next (none lost to the bad answer).
func TestHostileHostAmongGood(t *testing.T) {
	// the second port's "host" adds an answer to an unknown query and a
	// second answer to hooks to what pkgpersist batch prints
	l := startHostileLab(t, `*" batch "*) sh -c "$SSH_ORIGINAL_COMMAND" | sed 's/^\[/[{"id":"no-such-query","rows":[{"a":"b"}]},{"id":"hooks","rows":[{"kind":"twice"}]},/' ;;`)
	qdir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
	rs := roots(t, 2, "planted")
	good := fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[0], rs[0])
	bad := fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[1], rs[1])
	badName := strings.TrimPrefix(bad, "ssh://")
	db := filepath.Join(t.TempDir(), "p.db")
	changes := func(out string) map[string]int {
		t.Helper()
		var rows []struct{ Host, Change string }
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("hunt output: %v\n%s", err, out)
		}
		n := map[string]int{}
		for _, r := range rows {
			n[r.Host+" "+r.Change]++
		}
		return n
	}
	code, out, errs := l.huntOut(t, db, qdir, good, bad)
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, errs)
	}
	for _, want := range []string{
		badName + `: incomplete: answer to a query that was not asked: "no-such-query"`,
		badName + ": incomplete: query hooks answered 2 times",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("missing %q in\n%s", want, errs)
		}
	}
	first := changes(out)
	goodName, badName := storedName(t, db, good), storedName(t, db, bad)
	if first[goodName+" new"] < 20 || first[badName+" new"] != first[goodName+" new"]+1 {
		t.Fatalf("first run: %v\n%s", first, errs)
	}
	code, out, errs = l.huntOut(t, db, qdir, good, bad)
	second := changes(out)
	if code != 1 || second[goodName+" present"] != first[goodName+" new"] || second[goodName+" new"] != 0 {
		t.Fatalf("second run: exit %d, %v (first %v)\n%s", code, second, first, errs)
	}
}

// TestHuntInEmptyRoot: for each architecture, the host on the lab's second
// port runs what it is sent in an empty root (no libc, no dynamic loader,
// no /etc): its shell makes the private directory inside that root (TMPDIR)
// and answers uname -m (an arm64 host's says aarch64, and its programs run
// under qemu-user), but pkgpersist batch runs chrooted there, over a fixture
// at /fixture. The collector, dynamically linked itself, copies make dist's
// static build for the host's CPU, and the host's rows equal those of the
// same fixture hunted on the first port without the empty root. Without a
// build for the host (--dist naming an empty directory) the host fails
// with one line saying so.
func TestHuntInEmptyRoot(t *testing.T) {
	// the collector as make build writes it, dynamically linked, with make
	// dist's builds beside it in dist/ as in build/
	bin := filepath.Join(t.TempDir(), "pkgpersist")
	if out, err := exec.Command("go", "build", "-tags", "sqlite_vtable", "-o", bin, "../").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	must(t, os.Symlink(dist.Dir(t), filepath.Join(filepath.Dir(bin), "dist")))
	machines := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
	for _, arch := range dist.Arches {
		t.Run(arch, func(t *testing.T) {
			r := emptyroot.New(t, arch)
			for _, fx := range []string{"planted", "dnf4"} {
				r.AddTree(t, filepath.Join("../../test/roots", fx), "/fixture")
			}
			must(t, os.Mkdir(filepath.Join(r.Dir, "tmp"), 0o1777))
			// the host's shell: its uname says the CPU the root's programs run on
			path := t.TempDir()
			if arch != runtime.GOARCH {
				must(t, os.WriteFile(filepath.Join(path, "uname"), []byte("#!/bin/sh\necho "+machines[arch]+"\n"), 0o755))
			}
			ran := filepath.Join(t.TempDir(), "ran")
			enter := ""
			for _, a := range r.Enter() {
				enter += shellQuote(a) + " "
			}
			wrapper := filepath.Join(t.TempDir(), "empty-root-host")
			must(t, os.WriteFile(wrapper, []byte(`#!/bin/sh
case "$SSH_ORIGINAL_COMMAND" in
*" batch "*)
  eval "set -- $SSH_ORIGINAL_COMMAND"
  bin=$1; shift
  echo "$bin $*" >> `+shellQuote(ran)+`
  exec `+enter+`"${bin#`+shellQuote(r.Dir)+`}" "$@" ;;
*) exec sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
`), 0o755))
			l := startLabWith(t, func(l *lab) string {
				return fmt.Sprintf("Match LocalPort %d\n  SetEnv TMPDIR=%s/tmp PATH=%s:/usr/sbin:/usr/bin:/sbin:/bin\n  ForceCommand %s\n", l.ports[1], r.Dir, path, wrapper)
			})
			l.bin = bin
			qdir := t.TempDir()
			must(t, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
			plain := fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s/fixture", l.ports[0], r.Dir)
			empty := fmt.Sprintf("ssh://root@127.0.0.1:%d?root=/fixture", l.ports[1])
			db := filepath.Join(t.TempDir(), "p.db")
			l.huntClean(t, db, qdir, plain, empty)
			log, err := os.ReadFile(ran)
			if err != nil || !strings.HasPrefix(string(log), r.Dir+"/tmp/") || !strings.Contains(string(log), "/pkgpersist batch --root /fixture") {
				t.Fatalf("the empty-root host did not run the batch in its root: %v %q", err, log)
			}
			st, err := store.Open(db)
			must(t, err)
			cur, err := st.Current(context.Background(), "", "hooks")
			must(t, err)
			st.Close()
			rows := map[string][]string{}
			for _, c := range cur {
				rows[c.Host] = append(rows[c.Host], fmt.Sprint(c.Row))
			}
			p, e := rows[storedName(t, db, plain)], rows[storedName(t, db, empty)]
			sort.Strings(p)
			sort.Strings(e)
			if len(e) < 20 || strings.Join(p, "\n") != strings.Join(e, "\n") {
				t.Fatalf("rows differ: %d on the plain host, %d in the empty root\n%v\n%v", len(p), len(e), p, e)
			}

			l.extraArgs = []string{"--dist", t.TempDir()}
			code, errs := l.hunt(t, filepath.Join(t.TempDir(), "none.db"), qdir, empty)
			want := "failed: no pkgpersist binary for remote architecture " + machines[arch] + ": build it with make dist or pass --dist DIR ("
			if code != 1 || !strings.Contains(errs, want) {
				t.Fatalf("without a build: exit %d, want 1 and %q in\n%s", code, want, errs)
			}
		})
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
