package shellcmd_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/shellcmd"
	"github.com/pkgpersist/pkgpersist/extension/tables/hooktargets"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// The real shells are the oracle for which programs a command line runs.
// Each command line runs with dash (or bash) inside a private network
// namespace and a chroot that holds only the shells, a few real wrappers
// (nohup, setsid, env…) and a stub at every path and PATH name: a stub
// writes its name to a log and exits with $STUBRC. `set -x` (-x) names the
// builtins the shell runs, stderr the commands it could not find. Nothing
// of the host is reachable, and no network.

// straight: command lines in which every command runs, whatever the stubs
// return: the programs the shell runs must be exactly those Command lists.
var straight = []struct {
	d   shellcmd.Dialect
	src string
}{
	{shellcmd.Sh, `'/opt/a b' x; "/opt/"'c'/d; \/opt\/e\ f`},
	{shellcmd.Sh, "/opt/g\\\nh arg # /opt/not-run\n/opt/i"},
	{shellcmd.Sh, `>/tmp/o 2>&1 </dev/null /opt/j 3>>/tmp/l; /opt/k 2 >/dev/null`},
	{shellcmd.Sh, `/opt/l &> /tmp/o; wait`},
	{shellcmd.Bash, `/opt/l &> /tmp/o; /opt/m`},
	{shellcmd.Sh, "/opt/n <<EOF\n/opt/not-run $(/opt/o)\nEOF\n/opt/p <<'E'\n$(/opt/not-run)\nE\n"},
	{shellcmd.Sh, "/opt/q <<-EOF\n\t/opt/no\n\tEOF\n/opt/r"},
	{shellcmd.Sh, `(/opt/a; { /opt/b; }) >/dev/null; ! /opt/c`},
	{shellcmd.Sh, `/opt/x "$(/opt/a | /opt/b)" ` + "`/opt/c` \"`/opt/d`\""},
	{shellcmd.Sh, "echo `echo \\`/opt/deep\\``"},
	{shellcmd.Sh, `echo ${X:-$(/opt/d)} $(case x in x) /opt/c;; esac) $((1+2))`},
	{shellcmd.Sh, `f() { /opt/in-f; }; f; f`},
	{shellcmd.Sh, `eval "/opt/a;" /opt/b; eval '/opt/c "x y"'`},
	{shellcmd.Sh, `trap '/opt/t' EXIT; /opt/u`},
	{shellcmd.Sh, `. /opt/sourced; /opt/after`},
	{shellcmd.Sh, `command /opt/c; command -v /opt/no; exec /opt/last`},
	{shellcmd.Sh, `nohup setsid /opt/x; /usr/bin/nohup /opt/y`},
	{shellcmd.Sh, `env -i -u HOME A=1 B=2 /opt/x; env PATH=/stub xy`},
	{shellcmd.Sh, `timeout -k 5 --signal=KILL 10s /opt/x; timeout 5 nice -n 5 /opt/y; nice -10 /opt/z`},
	{shellcmd.Sh, `ionice -c 3 /opt/x; taskset -c 0 /opt/y; chrt -o 0 /opt/z`},
	{shellcmd.Sh, `echo a | xargs -0 -n 1 /opt/x; echo b | xargs -r`},
	{shellcmd.Sh, `flock /tmp/l -c '/opt/x; /opt/y'; flock -n /tmp/m /opt/z`},
	{shellcmd.Sh, `sh -c '/opt/a "$0"' name; /bin/sh -c "sh -c '/opt/deep'"`},
	{shellcmd.Sh, `sh /opt/script.sh arg; bash -c '/opt/b; echo'`},
	{shellcmd.Bash, `bash -o pipefail -ec '/opt/a'; /opt/b`},
	{shellcmd.Bash, `$'\x2fopt\x2fansi' x; /opt/"$"'q'`},
	{shellcmd.Bash, `[[ -n $(/opt/s) ]]; (( x = $(/opt/t) )); /opt/u`},
	{shellcmd.Bash, `function g { /opt/in-g; }; g; time /opt/timed`},
	{shellcmd.Bash, `source /opt/sourced; echo`},
	{shellcmd.Sh, `PATH=/stub:$PATH lookedup; cd /opt && ./rel; cd /; bin/rel2`},
	{shellcmd.Sh, `test -x /opt/a; [ -e /opt/b ]; true; false; printf x; kill -0 $$; :`},
	{shellcmd.Sh, `/opt/a; /opt/b && /opt/c; /opt/d | /opt/e & wait`},
}

// conditional: command lines with branches, loops and cases; the shell
// runs a part of them, which must be among the programs Command lists.
var conditional = []string{
	`if /opt/c; then /opt/t; elif /opt/e; then /opt/u; else /opt/v; fi`,
	`while /opt/w; do /opt/x; break; done; until /opt/y; do /opt/z; break; done`,
	`for i in a b; do /opt/y $i; done; case $1 in a|b) /opt/a;; (c) /opt/c ;; *) /opt/d; esac`,
	`/opt/a || /opt/b && /opt/c || exit 0`,
	`test -x /opt/x && /opt/x || /opt/y`,
	`sudo -u root /opt/x || true`,
}

func TestOracleShells(t *testing.T) {
	sb := newSandbox(t)
	for _, c := range straight {
		t.Run("", func(t *testing.T) {
			want, dyn := listed(c.src, c.d)
			got, stderr := sb.run(t, c.src, c.d, want)
			if dyn {
				t.Fatalf("%s: straight case lists a dynamic program", c.src)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s (%s)\n shell ran: %q\n   listed: %q\n shell's stderr: %q", c.src, c.d, got, want, stderr)
			}
		})
	}
	var corpus []string
	corpus = append(corpus, conditional...)
	corpus = append(corpus, fixtureCommands(t)...)
	for _, src := range corpus {
		want, dyn := listed(src, shellcmd.Sh)
		got, _ := sb.run(t, src, shellcmd.Sh, want)
		if missing := minus(got, want); len(missing) > 0 && !dyn {
			t.Errorf("%s\n dash ran programs not listed: %q\n listed: %q", src, missing, want)
		}
	}
	t.Logf("%d straight and %d conditional or fixture command lines checked", len(straight), len(corpus))
}

// TestOracleSyntax: Parse refuses exactly what `dash -n` and `bash -n`
// refuse.
func TestOracleSyntax(t *testing.T) {
	dash := need.Program(t, "dash")
	bash := need.Program(t, "bash")
	bad := []string{"if true; then", "/bin/a )", `echo "a`, "echo 'a", "()", "{ }", "case x in", "f() ", "a && ", "a |",
		"for x in a b c", "while true; do", "echo $(", "echo `a", "echo ${a", "fi", "done", "then x", "a; ;", "& b",
		"if then fi", "a <", "a >&", "(a", "a )b", "case x in a) b;; c", "{ a; } }", "! ! a"}
	var srcs []string
	for _, c := range straight {
		srcs = append(srcs, c.src)
	}
	srcs = append(append(srcs, conditional...), bad...)
	srcs = append(srcs, fixtureCommands(t)...)
	for _, src := range srcs {
		for _, d := range []shellcmd.Dialect{shellcmd.Sh, shellcmd.Bash} {
			prog := dash
			if d == shellcmd.Bash {
				prog = bash
			}
			refused, why := refuses(prog, src)
			if p := shellcmd.Parse(src, d); (p.Err != nil) != refused {
				t.Errorf("%s -n %q: shell says %q, Parse error %v", d, src, why, p.Err)
			}
		}
	}
}

// refuses runs `shell -n -c src`. bash -n reports some errors (in
// [[ ]]) on stderr only, with exit status 0; those count, its warnings
// do not.
func refuses(shell, src string) (bool, string) {
	var stderr bytes.Buffer
	cmd := exec.Command(shell, "-n", "-c", src)
	cmd.Stderr = &stderr
	refused := cmd.Run() != nil
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		refused = refused || (l != "" && !strings.Contains(l, "warning: "))
	}
	return refused, strings.TrimSpace(stderr.String())
}

// listed is what Command says a command line runs, in the oracle's terms:
// programs by the name the shell found them under, and builtins.
func listed(src string, d shellcmd.Dialect) ([]string, bool) {
	r := shellcmd.Command(src, d, shellcmd.Options{PATH: "/stub", Dir: "/"})
	set := map[string]bool{}
	dyn := false
	for _, x := range r.Execs {
		switch {
		case x.Lookup == shellcmd.LookupDynamic, x.Lookup == shellcmd.LookupError:
			dyn = true
		case x.How == shellcmd.HowScript && !isShell(x.Via):
			// python and perl read their script; the stub does not
		case x.Lookup == shellcmd.LookupRelative:
			set[path.Join(x.Dir, x.Word)] = true
		case x.Lookup == shellcmd.LookupFunction:
		case x.Word == "time" && d == shellcmd.Bash && x.Lookup == shellcmd.LookupBuiltin:
			// a reserved word: bash's trace does not show it
		default:
			set[x.Word] = true
		}
	}
	return sorted(set), dyn
}

func isShell(via []string) bool {
	if len(via) == 0 {
		return false
	}
	b := path.Base(via[len(via)-1])
	return b == "sh" || b == "bash" || b == "dash"
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

// fixtureCommands are the shell command lines of every fixture root's
// hooks and actions.
func fixtureCommands(t *testing.T) []string {
	roots, _ := filepath.Glob("../../test/roots/*")
	seen := map[string]bool{}
	var out []string
	for _, r := range roots {
		if fi, err := os.Stat(r); err != nil || !fi.IsDir() {
			continue
		}
		fs, err := fsroot.Open(r)
		if err != nil {
			t.Fatal(err)
		}
		srcs, err := hooktargets.Sources(context.Background(), fs, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range srcs {
			if s.Command != "" && s.RunsWithShell() && !seen[s.Command] {
				seen[s.Command] = true
				out = append(out, s.Command)
			}
		}
	}
	sort.Strings(out)
	return out
}

// sandbox is a chroot with the shells, real wrappers and stubs.
type sandbox struct {
	dir     string
	chroot  string
	created []string // stubs and their directories, removed after each run
}

// wrappers run for real in the sandbox: the oracle then checks where
// their options end and their command starts.
var realWrappers = []string{"nohup", "setsid", "env", "timeout", "nice", "xargs", "flock", "taskset", "ionice", "chrt"}

func newSandbox(t *testing.T) *sandbox {
	if os.Geteuid() != 0 {
		need.Missing(t, "the shell oracle runs in a chroot and a private network namespace, which need root")
	}
	need.Program(t, "unshare")
	sb := &sandbox{dir: t.TempDir(), chroot: need.Program(t, "chroot")}
	for _, d := range []string{".o/real", "stub", "tmp", "opt", "dev"} {
		if err := os.MkdirAll(filepath.Join(sb.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, sh := range []string{"dash", "bash"} {
		sb.copyProgram(t, need.Program(t, sh), "/.o/"+sh)
	}
	for _, w := range realWrappers {
		if p, err := exec.LookPath(w); err == nil {
			sb.copyProgram(t, p, "/.o/real/"+w)
		}
	}
	if err := os.WriteFile(filepath.Join(sb.dir, "dev/null"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	return sb
}

// copyProgram copies a host program and the libraries ldd names.
func (sb *sandbox) copyProgram(t *testing.T, host, as string) {
	out, err := exec.Command("ldd", host).Output()
	if err != nil {
		need.Missing(t, "ldd "+host+": "+err.Error())
	}
	files := map[string]string{host: as}
	for _, m := range regexp.MustCompile(`(/\S+\.so[.\d]*)`).FindAllString(string(out), -1) {
		files[m] = m
	}
	for src, dst := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(sb.dir, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// stub writes the stub for a program listed as name: an absolute path or
// a name looked up on PATH (/stub).
func (sb *sandbox) stub(t *testing.T, name string) {
	at := name
	if !strings.HasPrefix(name, "/") {
		at = "/stub/" + name
	}
	// run or sourced, a stub logs its name; run, it then exits (a
	// sourced one returns to the shell that reads it). Its own commands
	// write their trace to /dev/null, not among the shell's.
	body := "{ printf '%s\\n' " + quote(name) + " >> /.o/log\ncase \"$0\" in " + quote(at) + ") ;; *) return 0 ;; esac\n"
	base := path.Base(name)
	switch {
	case base == "sh" || base == "dash":
		body += "} 2>/dev/null\nexec /.o/dash -x \"$@\"\n"
	case base == "bash":
		body += "} 2>/dev/null\nexec /.o/bash -x \"$@\"\n"
	case fileExists(filepath.Join(sb.dir, ".o/real", base)):
		body += "} 2>/dev/null\nexec /.o/real/" + base + " \"$@\"\n"
	default:
		body += "exit ${STUBRC:-0}\n} 2>/dev/null\n"
	}
	p := filepath.Join(sb.dir, at)
	var dirs []string
	for d := filepath.Dir(p); !fileExists(d); d = filepath.Dir(d) {
		dirs = append(dirs, d)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	sb.created = append(sb.created, dirs...)
	if !fileExists(p) {
		sb.created = append([]string{p}, sb.created...)
	}
	if err := os.WriteFile(p, []byte("#!/.o/dash\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// clean removes the stubs of the last run, deepest first.
func (sb *sandbox) clean() {
	for _, p := range sb.created {
		os.Remove(p)
	}
	sb.created = nil
}

// traced lists the first word (past NAME=value words) at every place in
// the shell's stderr where an xtrace record's words may start.
func traced(stderr string) []string {
	var out []string
	for _, loc := range recordStart.FindAllStringIndex(stderr, -1) {
		line := stderr[loc[1]:]
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		for _, f := range strings.Fields(strings.ReplaceAll(line, "+ ", " ")) {
			if !strings.Contains(f, "=") {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

var (
	notFound = regexp.MustCompile(`(?m)^\S+: (?:line )?\d+: (.+): (?:not found|command not found|No such file or directory)$`)
	// where an xtrace record's words may start: dash writes a record in
	// pieces, and a background job's can come between its "+ " and its
	// words, or split them onto another line
	recordStart = regexp.MustCompile(`(?:^|\n|\++ )`)
	// a real wrapper that cannot find its command (LC_ALL=C)
	wrapperNotFound = regexp.MustCompile(`(?m)^(?:\S*/)?(?:nohup|setsid|env|timeout|nice|xargs|flock|taskset|ionice|chrt): (?:failed to (?:run command|execute) )?'?([^' ]+)'?: No such file or directory$`)
)

// run runs src with the shell of dialect d twice (stubs succeeding, then
// failing) and returns every program and builtin the shells ran.
func (sb *sandbox) run(t *testing.T, src string, d shellcmd.Dialect, listed []string) ([]string, []string) {
	defer sb.clean()
	for _, n := range listed {
		if n != "" && n != "." {
			sb.stub(t, n)
		}
	}
	sh := "/.o/dash"
	if d == shellcmd.Bash {
		sh = "/.o/bash"
	}
	set := map[string]bool{}
	var stderrs []string
	for _, rc := range []string{"0", "1"} {
		log := filepath.Join(sb.dir, ".o/log")
		os.Remove(log)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, "unshare", "--net", "--pid", "--fork", "--kill-child", sb.chroot, sb.dir, sh, "-x", "-c", src)
		cmd.Env = []string{"PATH=/stub", "STUBRC=" + rc, "HOME=/", "LC_ALL=C"}
		cmd.Dir = sb.dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		_ = cmd.Run()
		cancel()
		stderrs = append(stderrs, stderr.String())
		if strings.Contains(stderr.String(), "unshare: ") {
			need.Missing(t, "no namespaces here: "+stderr.String())
		}
		data, _ := os.ReadFile(log)
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if l != "" {
				set[l] = true
			}
		}
		for _, re := range []*regexp.Regexp{notFound, wrapperNotFound} {
			for _, m := range re.FindAllStringSubmatch(stderr.String(), -1) {
				set[m[1]] = true
			}
		}
		for _, w := range traced(stderr.String()) {
			if shellcmd.IsBuiltin(w, d) {
				set[w] = true
			}
		}
	}
	return sorted(set), stderrs
}
