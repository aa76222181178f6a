// Package dist_test checks what make dist writes: static programs for every
// architecture that run where there is nothing else, not even a libc.
package dist_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/distbuild"
	"github.com/pkgpersist/pkgpersist/test/emptyroot"
	"github.com/pkgpersist/pkgpersist/test/need"
)

var dist = &distbuild.Dist{Arches: []string{"amd64", "arm64"}}

func TestMain(m *testing.M) {
	code := m.Run()
	dist.Remove()
	os.Exit(code)
}

// cpu is how readelf -h and file name each architecture's CPU.
var cpu = map[string]struct{ readelf, file string }{
	"amd64": {"Advanced Micro Devices X86-64", "x86-64"},
	"arm64": {"AArch64", "ARM aarch64"},
}

// dynamicParts lists what makes path depend on other files at run time, as
// readelf reports it: a program interpreter (PT_INTERP) and each library
// it needs (DT_NEEDED).
func dynamicParts(t *testing.T, readelf, path string) []string {
	t.Helper()
	var parts []string
	for _, line := range strings.Split(output(t, readelf, "-lW", path)+output(t, readelf, "-dW", path), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "INTERP" || strings.Contains(line, "(NEEDED)") {
			parts = append(parts, strings.TrimSpace(line))
		}
	}
	return parts
}

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// TestStatic: every program make dist writes is for the CPU its directory
// names, and readelf finds no program interpreter and no needed library in
// it (file agrees: statically linked). The same check finds both in the
// host's own dynamically linked sh, so it can fail.
func TestStatic(t *testing.T) {
	readelf := need.Program(t, "readelf")
	file := need.Program(t, "file")
	if parts := dynamicParts(t, readelf, need.Program(t, "sh")); len(parts) < 2 {
		t.Fatalf("the check finds no interpreter and library in sh: %q", parts)
	}
	dir := dist.Dir(t)
	for _, arch := range dist.Arches {
		for _, prog := range distbuild.Programs {
			path := filepath.Join(distbuild.Arch(dir, arch), prog)
			if parts := dynamicParts(t, readelf, path); len(parts) > 0 {
				t.Errorf("%s/%s is not static: %q", arch, prog, parts)
			}
			if h := output(t, readelf, "-hW", path); !strings.Contains(h, "Machine:") || !strings.Contains(h, cpu[arch].readelf) {
				t.Errorf("%s/%s: readelf -h says\n%s", arch, prog, h)
			}
			if f := output(t, file, "-b", path); !strings.Contains(f, cpu[arch].file) || !strings.Contains(f, "statically linked") {
				t.Errorf("%s/%s: file says %s", arch, prog, f)
			}
		}
	}
}

// TestSums: SHA256SUMS names every program, and sha256sum -c accepts it.
func TestSums(t *testing.T) {
	sum := need.Program(t, "sha256sum")
	dir := dist.Dir(t)
	cmd := exec.Command(sum, "--check", "--strict", "SHA256SUMS")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	for _, arch := range dist.Arches {
		for _, prog := range distbuild.Programs {
			if want := "pkgpersist_linux_" + arch + "/" + prog + ": OK"; !strings.Contains(string(out), want) {
				t.Errorf("SHA256SUMS does not cover %s:\n%s", want, out)
			}
		}
	}
}

// TestEmptyRootIsEmpty: the empty root has no dynamic loader, so the
// host's dynamically linked true cannot start in it.
func TestEmptyRootIsEmpty(t *testing.T) {
	r := emptyroot.New(t, runtime.GOARCH)
	r.Add(t, need.Program(t, "true"), "/true")
	out, err := r.Command("/true").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "No such file or directory") {
		t.Fatalf("a dynamically linked program ran in the empty root: %v\n%s", err, out)
	}
}

// TestEmptyRoot: each architecture's programs, alone in an empty root with a
// fixture root (arm64 under qemu-user): pkgpersist --version, pkgpersist
// query over the fixture's APT hooks and pkgpersist.ext --print yum_plugins
// succeed, say nothing on stderr, and print what the host's own build of
// the same programs prints for the same fixture.
func TestEmptyRoot(t *testing.T) {
	dir := dist.Dir(t)
	host := distbuild.Arch(dir, runtime.GOARCH)
	for _, arch := range dist.Arches {
		t.Run(arch, func(t *testing.T) {
			r := emptyroot.New(t, arch)
			for _, prog := range distbuild.Programs {
				r.Add(t, filepath.Join(distbuild.Arch(dir, arch), prog), "/"+prog)
			}
			for _, fx := range []string{"planted", "yum"} {
				r.AddTree(t, filepath.Join("../roots", fx), "/fixture")
			}
			fixture := filepath.Join(r.Dir, "fixture")
			if out := run(t, r.Command("/pkgpersist", "--version")); !strings.HasPrefix(out, "pkgpersist version ") {
				t.Errorf("--version: %q", out)
			}
			const hooks = "SELECT * FROM apt_hooks"
			got := run(t, r.Command("/pkgpersist", "query", "--root", "/fixture", "--format", "json", hooks))
			want := run(t, exec.Command(filepath.Join(host, "pkgpersist"), "query", "--root", fixture, "--format", "json", hooks))
			sameRows(t, "apt_hooks", got, want, "DPkg::Post-Invoke")
			got = run(t, r.Command("/pkgpersist.ext", "--print", "yum_plugins", "--root", "/fixture"))
			want = run(t, exec.Command(filepath.Join(host, "pkgpersist.ext"), "--print", "yum_plugins", "--root", fixture))
			// --print shows the root column, the root as each run named it
			want = strings.ReplaceAll(want, `"root": "`+fixture+`"`, `"root": "/fixture"`)
			sameRows(t, "yum_plugins", got, want, "backdoor")
		})
	}
}

// run wants cmd to succeed with nothing on stderr; it returns stdout.
func run(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || errb.Len() > 0 {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, errb.String())
	}
	return out.String()
}

// sameRows wants got and want to be the same JSON rows, among them one
// holding mark.
func sameRows(t *testing.T, what, got, want, mark string) {
	t.Helper()
	var rows []map[string]string
	if err := json.Unmarshal([]byte(got), &rows); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, got)
	}
	if len(rows) == 0 || !strings.Contains(got, mark) {
		t.Errorf("%s: %d rows, none with %q", what, len(rows), mark)
	}
	if got != want {
		t.Errorf("%s differs from the host's run:\n got %s\nwant %s", what, got, want)
	}
}
