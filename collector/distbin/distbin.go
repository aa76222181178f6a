// Package distbin picks the pkgpersist build to copy to a host hunted over
// SSH. The host may have any libc, or an old one, and any CPU, so what goes
// there is a static build for the CPU it reports (uname -m): from a make
// dist directory, found beside the running collector or named by the user,
// or the running collector itself when it is such a build.
package distbin

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
)

// Names of the programs in each architecture's directory.
const (
	Collector = "pkgpersist"
	Extension = "pkgpersist.ext"
)

// machines are the ELF machines of the architectures make dist builds.
var machines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// Arch returns the GOARCH of a host whose uname -m is machine: Linux says
// x86_64 and aarch64, the BSDs and macOS amd64 and arm64. Other names are
// returned as they are.
func Arch(machine string) string {
	switch machine {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	}
	return machine
}

// ArchDir is the directory of one architecture's programs in a make dist
// directory.
func ArchDir(dist, arch string) string { return filepath.Join(dist, "pkgpersist_linux_"+arch) }

// Build is what to copy to one host.
type Build struct {
	Arch      string
	Collector string
	// Extension is the pkgpersist.ext beside Collector, fit for the host
	// as Collector is; "" when there is none, NoExtension says why.
	Extension   string
	NoExtension error
}

// Finder looks for builds.
type Finder struct {
	// Dist is a make dist directory the user named (--dist): when set it
	// is the only place looked in.
	Dist string
	// Self is the running collector (os.Executable).
	Self string
}

// dists are the make dist directories looked in, in order: the one named,
// or those where the running collector's own layout puts them.
func (f Finder) dists() []string {
	if f.Dist != "" {
		return []string{f.Dist}
	}
	bin := filepath.Dir(f.Self)
	return []string{
		filepath.Dir(bin),                             // build/dist/pkgpersist_linux_ARCH/pkgpersist
		filepath.Join(bin, "dist"),                    // make build's build/pkgpersist beside build/dist
		filepath.Join(bin, "..", "lib", "pkgpersist"), // installed: PREFIX/bin, PREFIX/lib/pkgpersist
	}
}

// Find returns the build for a host whose uname -m is machine, or an error
// of one line saying what was looked at and how to get one.
func (f Finder) Find(machine string) (Build, error) {
	arch := Arch(machine)
	if _, ok := machines[arch]; !ok {
		return Build{}, fmt.Errorf("no pkgpersist binary for remote architecture %s: make dist builds amd64 and arm64 only", machine)
	}
	var why []string
	for _, dist := range f.dists() {
		dir := ArchDir(dist, arch)
		b, err := fromDir(filepath.Join(dir, Collector), arch, dir)
		if err == nil {
			return b, nil
		}
		why = append(why, err.Error())
	}
	if f.Dist == "" {
		// the package installs the static collector as PREFIX/bin/pkgpersist
		// and the extension where osqueryd's autoload accepts it,
		// PREFIX/lib/pkgpersist/pkgpersist.ext
		bin := filepath.Dir(f.Self)
		b, err := fromDir(f.Self, arch, bin, filepath.Join(bin, "..", "lib", "pkgpersist"))
		if err == nil {
			return b, nil
		}
		why = append(why, "this collector "+err.Error())
	}
	return Build{}, fmt.Errorf("no pkgpersist binary for remote architecture %s: build it with make dist or pass --dist DIR (%s)", machine, strings.Join(why, "; "))
}

// fromDir is the build of collector, with the first extension fit for
// arch in extDirs.
func fromDir(collector, arch string, extDirs ...string) (Build, error) {
	if err := Check(collector, arch); err != nil {
		return Build{}, err
	}
	b := Build{Arch: arch, Collector: collector}
	var why []error
	for _, dir := range extDirs {
		ext := filepath.Join(dir, Extension)
		err := Check(ext, arch)
		if err == nil {
			b.Extension = ext
			return b, nil
		}
		why = append(why, err)
	}
	b.NoExtension = joinLine(why)
	return b, nil
}

// joinLine joins errors on one line, as every error reaching the user is.
func joinLine(errs []error) error {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// Check says why the program at path cannot run on any Linux host of arch
// (a GOARCH): it is missing, not an ELF file, built for another CPU, or
// needs a program interpreter or shared libraries, which the host may not
// have or may have in another version.
func Check(path, arch string) error {
	f, err := elf.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: none", path)
	}
	var bad *elf.FormatError
	if errors.As(err, &bad) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: not an ELF program (%w)", path, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	want, ok := machines[arch]
	if !ok {
		return fmt.Errorf("%s: no build for %s", path, arch)
	}
	if f.Machine != want {
		return fmt.Errorf("%s: built for %s, not %s", path, f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: dynamically linked (has a program interpreter)", path)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(libs) > 0 {
		return fmt.Errorf("%s: needs shared libraries (%s)", path, strings.Join(libs, ", "))
	}
	return nil
}
