// Package emptyroot runs static programs in a root that holds nothing but
// them and what a test puts there: no libc, no dynamic loader, no /etc. The
// root is a chroot in new mount and PID namespaces with /proc mounted, as on
// any host (the tables reopen the files they read through /proc/self/fd).
// A program for another CPU runs under qemu-user copied into the root, so
// the host needs no binfmt_misc registration.
package emptyroot

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/aptoracle"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// qemuArch is qemu-user's name for each GOARCH.
var qemuArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// Root is an empty root for programs built for one architecture.
type Root struct {
	Dir  string
	qemu string // the emulator's path inside the root, "" for the host's CPU
}

// New makes an empty root for programs built for arch (a GOARCH), with an
// empty /proc to mount proc on. It needs root for chroot and mounts
// (skipped without, failed when CI is set).
func New(t testing.TB, arch string) *Root {
	t.Helper()
	if os.Geteuid() != 0 {
		need.Missing(t, "chroot and mounting /proc need root")
	}
	need.Program(t, "unshare")
	need.Program(t, "chroot")
	r := &Root{Dir: t.TempDir()}
	if err := os.Mkdir(filepath.Join(r.Dir, "proc"), 0o555); err != nil {
		t.Fatal(err)
	}
	if arch != runtime.GOARCH {
		q, ok := qemuArch[arch]
		if !ok {
			t.Fatalf("no qemu-user name for %s", arch)
		}
		r.qemu = "/qemu-" + q + "-static"
		r.Add(t, need.Program(t, "qemu-"+q+"-static"), r.qemu)
	}
	return r
}

// Add copies the file src into the root as name, executable.
func (r *Root) Add(t testing.TB, src, name string) {
	t.Helper()
	if out, err := exec.Command("install", "-D", "-m", "0755", src, filepath.Join(r.Dir, name)).CombinedOutput(); err != nil {
		t.Fatalf("install %s: %v\n%s", src, err, out)
	}
}

// AddTree copies the directory tree src into the root at name.
func (r *Root) AddTree(t testing.TB, src, name string) {
	t.Helper()
	if err := aptoracle.CopyTree(src, filepath.Join(r.Dir, name)); err != nil {
		t.Fatal(err)
	}
}

// Enter is the host command line that runs the program and arguments
// following it in the root (program is a path inside the root).
func (r *Root) Enter() []string {
	argv := []string{"unshare", "--mount", "--pid", "--fork", "--mount-proc=" + filepath.Join(r.Dir, "proc"), "chroot", r.Dir}
	if r.qemu != "" {
		argv = append(argv, r.qemu)
	}
	return argv
}

// Command runs name with args in the root.
func (r *Root) Command(name string, args ...string) *exec.Cmd {
	argv := append(append(r.Enter(), name), args...)
	return exec.Command(argv[0], argv[1:]...)
}
