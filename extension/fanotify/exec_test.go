package fanotify

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// elfHeader is a 64-bit little-endian ELF header with program headers
// of the given types right after it.
func elfHeader(types ...uint32) []byte {
	b := make([]byte, 64+56*len(types))
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = 2, 1, 1
	le := binary.LittleEndian
	le.PutUint64(b[32:], 64)
	le.PutUint16(b[54:], 56)
	le.PutUint16(b[56:], uint16(len(types)))
	for i, typ := range types {
		le.PutUint32(b[64+56*i:], typ)
	}
	return b
}

func classifySeeds() [][]byte {
	return [][]byte{
		[]byte("#!/usr/bin/python3\nprint(1)\n"),
		elfHeader(6, 3, 1, 1),   // PHDR, INTERP, LOAD, LOAD: dynamic
		elfHeader(1, 1, 0x474e), // LOAD, LOAD, GNU_STACK-like: static
		[]byte("MZ\x90\x00"),
	}
}

// TestClassify: the kinds of synthetic files, and of this machine's
// programs as the kernel sees them: a dynamic program, its interpreter,
// a static busybox, a script.
func TestClassify(t *testing.T) {
	s := classifySeeds()
	for i, want := range []Kind{Script, Dynamic, Static, Other} {
		if got := Classify(bytes.NewReader(s[i])); got != want {
			t.Errorf("seed %d: %v, want %v", i, got, want)
		}
	}
	// a header cut inside its program headers says nothing of an
	// interpreter: static, the kernel would refuse it anyway
	if got := Classify(bytes.NewReader(s[1][:100])); got != Static {
		t.Errorf("cut header: %v", got)
	}
	files := map[string]Kind{"/usr/bin/true": Dynamic, "/lib64/ld-linux-x86-64.so.2": Static}
	if _, err := os.Stat("/bin/busybox"); err == nil {
		files["/bin/busybox"] = Static
	} else {
		need.Missing(t, "busybox-static is not installed")
	}
	script := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	files[script] = Script
	for name, want := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := Classify(f); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		f.Close()
	}
}

// FuzzClassify: any bytes classify without panicking; a `#!` start is
// always a script and bytes that do not start with ELF's magic are
// never ELF.
func FuzzClassify(f *testing.F) {
	for _, s := range classifySeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k := Classify(bytes.NewReader(b))
		if bytes.HasPrefix(b, []byte("#!")) != (k == Script) {
			t.Fatalf("%q: %v", b, k)
		}
		if !bytes.HasPrefix(b, []byte("\x7fELF")) && (k == Dynamic || k == Static) {
			t.Fatalf("%q: %v", b, k)
		}
	})
}

func TestParseMountinfo(t *testing.T) {
	in := "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n" +
		"23 22 0:21 / /proc rw,nosuid - proc proc rw\n" +
		"24 22 0:22 / /mnt/with\\040space rw master:3 shared:9 - tmpfs tmpfs rw\n" +
		"garbage\n" +
		"25 22 0:23 / /x rw - \n"
	want := []Mount{{"254:0", "/", "ext4"}, {"0:21", "/proc", "proc"}, {"0:22", "/mnt/with space", "tmpfs"}}
	if got := ParseMountinfo([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if Executable("proc") || Executable("cgroup2") || !Executable("tmpfs") || !Executable("overlay") {
		t.Fatal("Executable")
	}
}

// TestExecs: a dynamic program run from the root filesystem and a script
// run from a tmpfs (/dev/shm) are reported with their pid, path and kind,
// in the order the kernel opened them: the script, its interpreter, the
// interpreter's ELF interpreter; the program, its ELF interpreter.
func TestExecs(t *testing.T) {
	if os.Geteuid() != 0 {
		need.Missing(t, "fanotify needs root")
	}
	x, err := OpenExecs()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if x.Marked() < 2 {
		t.Fatalf("%d filesystems marked, want / and the tmpfs at least", x.Marked())
	}
	dir, err := os.MkdirTemp("/dev/shm", "pkgpersist-exec")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "s.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ld, _ := filepath.EvalSymlinks("/lib64/ld-linux-x86-64.so.2")
	sh, _ := filepath.EvalSymlinks("/bin/sh")
	for _, c := range []struct {
		prog string
		want []Exec
	}{
		{"/usr/bin/true", []Exec{{Path: "/usr/bin/true", Kind: Dynamic}, {Path: ld, Kind: Static}}},
		{script, []Exec{{Path: script, Kind: Script}, {Path: sh, Kind: Dynamic}, {Path: ld, Kind: Static}}},
	} {
		cmd := exec.Command(c.prog)
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		var got []Exec
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			var all []Exec
			all, lost, err := x.Read(nil)
			if err != nil || lost != 0 {
				t.Fatalf("Read: %d lost, %v", lost, err)
			}
			for _, e := range all {
				if e.PID == cmd.Process.Pid {
					e.PID = 0
					got = append(got, e)
				}
			}
			if len(got) >= len(c.want) {
				break
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.prog, got, c.want)
		}
	}
}

// FuzzParseMountinfo: any table parses without panicking, into mounts
// with a device, a mount point and a type, none holding a space (the
// kernel escapes them; a line is split on spaces).
func FuzzParseMountinfo(f *testing.F) {
	f.Add([]byte("22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n24 22 0:22 / /mnt/a\\040b rw - tmpfs tmpfs rw\n"))
	f.Add([]byte("1 2 3 4 5 6 - \n\\\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range ParseMountinfo(b) {
			if m.Dev == "" || m.Point == "" || m.FSType == "" || strings.ContainsAny(m.Dev+m.FSType, " \t\n") {
				t.Fatalf("%q: %+v", b, m)
			}
		}
	})
}
