package distbin

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// elfFile is the smallest ELF64 executable debug/elf reads: a header, a
// PT_INTERP program header when interp, and, for needed, a .dynamic
// section naming those libraries (DT_NEEDED) through a .dynstr section.
func elfFile(machine elf.Machine, interp bool, needed ...string) []byte {
	const ehsize, phsize, shsize = 64, 56, 64
	var phdrs, body, shdrs bytes.Buffer
	le := binary.LittleEndian
	nph := 0
	if interp {
		nph = 1
		binary.Write(&phdrs, le, elf.Prog64{Type: uint32(elf.PT_INTERP), Flags: uint32(elf.PF_R), Filesz: 1, Memsz: 1, Align: 1})
	}
	dataOff := uint64(ehsize + nph*phsize)
	nsh := 0
	if len(needed) > 0 {
		strtab := []byte{0}
		var dyn bytes.Buffer
		for _, lib := range needed {
			binary.Write(&dyn, le, elf.Dyn64{Tag: int64(elf.DT_NEEDED), Val: uint64(len(strtab))})
			strtab = append(append(strtab, lib...), 0)
		}
		binary.Write(&dyn, le, elf.Dyn64{Tag: int64(elf.DT_NULL)})
		body.Write(strtab)
		body.Write(dyn.Bytes())
		nsh = 3 // null, .dynstr, .dynamic; no section names (e_shstrndx 0)
		binary.Write(&shdrs, le, elf.Section64{})
		binary.Write(&shdrs, le, elf.Section64{Type: uint32(elf.SHT_STRTAB), Off: dataOff, Size: uint64(len(strtab)), Addralign: 1})
		binary.Write(&shdrs, le, elf.Section64{Type: uint32(elf.SHT_DYNAMIC), Off: dataOff + uint64(len(strtab)), Size: uint64(dyn.Len()), Link: 1, Addralign: 1, Entsize: 16})
	}
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Ehsize: ehsize, Phentsize: phsize, Phnum: uint16(nph), Shentsize: shsize, Shnum: uint16(nsh),
	}
	copy(hdr.Ident[:], []byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)})
	if nph > 0 {
		hdr.Phoff = ehsize
	}
	if nsh > 0 {
		hdr.Shoff = dataOff + uint64(body.Len())
	}
	var out bytes.Buffer
	binary.Write(&out, le, hdr)
	out.Write(phdrs.Bytes())
	out.Write(body.Bytes())
	out.Write(shdrs.Bytes())
	return out.Bytes()
}

var (
	staticAMD64 = elfFile(elf.EM_X86_64, false)
	staticARM64 = elfFile(elf.EM_AARCH64, false)
	withInterp  = elfFile(elf.EM_X86_64, true)
	withNeeded  = elfFile(elf.EM_X86_64, false, "libc.so.6", "libm.so.6")
)

// tree writes files (path relative to dir: contents) and returns dir.
func tree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestArch(t *testing.T) {
	for machine, want := range map[string]string{"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "riscv64": "riscv64", "armv7l": "armv7l"} {
		if got := Arch(machine); got != want {
			t.Errorf("Arch(%q) = %q, want %q", machine, got, want)
		}
	}
}

// TestCheck: only a static ELF program for the architecture passes; each
// other file is refused with its reason.
func TestCheck(t *testing.T) {
	dir := tree(t, map[string][]byte{
		"static": staticAMD64, "arm64": staticARM64, "interp": withInterp, "needed": withNeeded,
		"script": []byte("#!/bin/sh\nexec true\n"), "short": []byte("#!/bin/sh\n"),
	})
	for _, c := range []struct{ name, arch, want string }{
		{"static", "amd64", ""},
		{"arm64", "arm64", ""},
		{"arm64", "amd64", "built for EM_AARCH64, not EM_X86_64"},
		{"static", "arm64", "built for EM_X86_64, not EM_AARCH64"},
		{"interp", "amd64", "dynamically linked (has a program interpreter)"},
		{"needed", "amd64", "needs shared libraries (libc.so.6, libm.so.6)"},
		{"script", "amd64", "not an ELF program"},
		{"short", "amd64", "not an ELF program"},
		{"missing", "amd64", "none"},
		{"static", "riscv64", "no build for riscv64"},
	} {
		err := Check(filepath.Join(dir, c.name), c.arch)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s for %s: %v", c.name, c.arch, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, c.name)+": ") || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s for %s: %v, want %q", c.name, c.arch, err, c.want)
		}
	}
}

// TestFind: the build for the host's uname -m, from the layouts the
// collector may run in, a --dist directory, or the collector itself.
func TestFind(t *testing.T) {
	dist := map[string][]byte{
		"pkgpersist_linux_amd64/pkgpersist": staticAMD64, "pkgpersist_linux_amd64/pkgpersist.ext": staticAMD64,
		"pkgpersist_linux_arm64/pkgpersist": staticARM64, "pkgpersist_linux_arm64/pkgpersist.ext": staticARM64,
	}
	under := func(prefix string, files map[string][]byte) map[string][]byte {
		out := map[string][]byte{}
		for k, v := range files {
			out[filepath.Join(prefix, k)] = v
		}
		return out
	}
	with := func(a, b map[string][]byte) map[string][]byte {
		out := under("", a)
		for k, v := range b {
			out[k] = v
		}
		return out
	}
	for _, c := range []struct {
		name    string
		files   map[string][]byte
		self    string // relative to the tree
		dist    string // --dist, relative to the tree
		machine string
		// want is the collector picked, relative to the tree, and wantExt
		// its extension; or err a part of the error
		want, wantExt, err string
	}{
		{name: "running from the dist directory", files: under("build/dist", dist), self: "build/dist/pkgpersist_linux_amd64/pkgpersist",
			machine: "aarch64", want: "build/dist/pkgpersist_linux_arm64/pkgpersist", wantExt: "build/dist/pkgpersist_linux_arm64/pkgpersist.ext"},
		{name: "the dist directory, the host's own CPU", files: under("build/dist", dist), self: "build/dist/pkgpersist_linux_amd64/pkgpersist",
			machine: "x86_64", want: "build/dist/pkgpersist_linux_amd64/pkgpersist", wantExt: "build/dist/pkgpersist_linux_amd64/pkgpersist.ext"},
		{name: "make build beside make dist", files: with(under("build/dist", dist), map[string][]byte{"build/pkgpersist": withInterp}), self: "build/pkgpersist",
			machine: "x86_64", want: "build/dist/pkgpersist_linux_amd64/pkgpersist", wantExt: "build/dist/pkgpersist_linux_amd64/pkgpersist.ext"},
		{name: "installed", files: with(under("usr/lib/pkgpersist", dist), map[string][]byte{"usr/bin/pkgpersist": withNeeded}), self: "usr/bin/pkgpersist",
			machine: "arm64", want: "usr/lib/pkgpersist/pkgpersist_linux_arm64/pkgpersist", wantExt: "usr/lib/pkgpersist/pkgpersist_linux_arm64/pkgpersist.ext"},
		{name: "--dist", files: with(under("elsewhere", dist), map[string][]byte{"bin/pkgpersist": withInterp}), self: "bin/pkgpersist", dist: "elsewhere",
			machine: "aarch64", want: "elsewhere/pkgpersist_linux_arm64/pkgpersist", wantExt: "elsewhere/pkgpersist_linux_arm64/pkgpersist.ext"},
		{name: "--dist is the only place looked in", files: map[string][]byte{"bin/pkgpersist": staticAMD64, "elsewhere/pkgpersist_linux_arm64/pkgpersist": staticARM64},
			self: "bin/pkgpersist", dist: "elsewhere", machine: "x86_64", err: "elsewhere/pkgpersist_linux_amd64/pkgpersist: none)"},
		{name: "a static collector copies itself", files: map[string][]byte{"bin/pkgpersist": staticAMD64, "bin/pkgpersist.ext": staticAMD64},
			self: "bin/pkgpersist", machine: "x86_64", want: "bin/pkgpersist", wantExt: "bin/pkgpersist.ext"},
		{name: "the package: static in PREFIX/bin, its extension in PREFIX/lib/pkgpersist", files: map[string][]byte{"usr/bin/pkgpersist": staticAMD64, "usr/lib/pkgpersist/pkgpersist.ext": staticAMD64},
			self: "usr/bin/pkgpersist", machine: "x86_64", want: "usr/bin/pkgpersist", wantExt: "usr/lib/pkgpersist/pkgpersist.ext"},
		{name: "the package's extension does not go to another CPU", files: map[string][]byte{"usr/bin/pkgpersist": staticARM64, "usr/lib/pkgpersist/pkgpersist.ext": staticAMD64},
			self: "usr/bin/pkgpersist", machine: "aarch64", want: "usr/bin/pkgpersist"},
		{name: "a static collector without an extension", files: map[string][]byte{"bin/pkgpersist": staticAMD64, "bin/pkgpersist.ext": withNeeded},
			self: "bin/pkgpersist", machine: "x86_64", want: "bin/pkgpersist"},
		{name: "a static collector is not for another CPU", files: map[string][]byte{"bin/pkgpersist": staticAMD64},
			self: "bin/pkgpersist", machine: "aarch64", err: "this collector "},
		{name: "a dynamic collector does not copy itself", files: map[string][]byte{"bin/pkgpersist": withInterp},
			self: "bin/pkgpersist", machine: "x86_64", err: "bin/pkgpersist: dynamically linked"},
		{name: "a dist build that is not static", files: map[string][]byte{"bin/pkgpersist": withInterp, "pkgpersist_linux_amd64/pkgpersist": withNeeded},
			self: "bin/pkgpersist", machine: "x86_64", err: "pkgpersist_linux_amd64/pkgpersist: needs shared libraries (libc.so.6, libm.so.6)"},
		{name: "an architecture make dist does not build", files: under("build/dist", dist), self: "build/dist/pkgpersist_linux_amd64/pkgpersist",
			machine: "riscv64", err: "no pkgpersist binary for remote architecture riscv64: make dist builds amd64 and arm64 only"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := tree(t, c.files)
			f := Finder{Self: filepath.Join(dir, c.self)}
			if c.dist != "" {
				f.Dist = filepath.Join(dir, c.dist)
			}
			b, err := f.Find(c.machine)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %+v, %v; want one line with %q", b, err, c.err)
				}
				if Arch(c.machine) == "riscv64" {
					return
				}
				if want := "no pkgpersist binary for remote architecture " + c.machine + ": build it with make dist or pass --dist DIR ("; !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("error %q does not start with %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rel := func(p string) string {
				if p == "" {
					return ""
				}
				r, _ := filepath.Rel(dir, p)
				return r
			}
			if rel(b.Collector) != c.want || rel(b.Extension) != c.wantExt || b.Arch != Arch(c.machine) {
				t.Fatalf("got %s, %s (%s), want %s, %s", rel(b.Collector), rel(b.Extension), b.Arch, c.want, c.wantExt)
			}
			if (b.Extension == "") != (b.NoExtension != nil) {
				t.Fatalf("extension %q, but why none: %v", b.Extension, b.NoExtension)
			}
		})
	}
}
