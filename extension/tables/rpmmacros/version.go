package rpmmacros

import (
	"context"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
)

// xdgSince is the first rpm version whose setDefaults (lib/rpmrc.c) looks
// for the user's macros in $XDG_CONFIG_HOME/rpm: commit f24ca5ead
// ("Support per-user macro configuration in XDG_CONFIG_HOME") is first in
// tag rpm-4.20.0-alpha, whose CMakeLists.txt says VERSION 4.19.90; no
// 4.19 release has it.
var xdgSince = []int{4, 19, 90}

// rpmVersion is the version of the rpm library that reads the root's
// macro files, and what says so ("" for both when nothing does).
type rpmVersion struct {
	version string
	from    string
}

// known reports whether the version could be read.
func (v rpmVersion) known() bool { return numbers(v.version) != nil }

// xdg reports whether that rpm reads the user's macros from
// ~/.config/rpm when the directory exists.
func (v rpmVersion) xdg() bool { return atLeast(numbers(v.version), xdgSince) }

// rpmFiles are the files whose package is the rpm that reads the macro
// path: librpm, which holds setDefaults and rpmReadConfigFiles (rpm-libs
// on Fedora, librpm<N> on Debian, whose rpm package asks only for
// librpm9 >= its version), found in the library directories, then the
// rpm program.
func rpmFiles(fs *fsroot.Root) []string {
	var dirs []string
	for _, d := range []string{"/usr/lib64", "/usr/lib", "/lib64", "/lib"} {
		dirs = append(dirs, d)
		names, _ := fs.ReadDir(d)
		for _, n := range sorted(names) {
			// Debian's multiarch directories (/usr/lib/x86_64-linux-gnu)
			if strings.Contains(n, "-linux-") {
				dirs = append(dirs, d+"/"+n)
			}
		}
	}
	var out []string
	for _, d := range dirs {
		names, _ := fs.ReadDir(d)
		for _, n := range sorted(names) {
			if strings.HasPrefix(n, "librpm.so.") {
				out = append(out, d+"/"+n)
			}
		}
	}
	return append(out, "/usr/bin/rpm", "/bin/rpm")
}

// installedRPM is the version of the package that installed rpm's library
// (or program) in the root, by dpkg's database, then rpm's: the package
// database records the version of the files it installed, which is the
// version of the code that reads the macro path. A root where no database
// owns them (rpm built from source, files copied in) has no known version,
// nor one whose candidates disagree on the user macro file: a package an
// attacker installs can own a librpm.so.0 that sorts first, so no single
// candidate decides.
func installedRPM(ctx context.Context, fs *fsroot.Root) rpmVersion {
	src := provenance.Cached(ctx, fs)
	defer src.Close()
	var found []rpmVersion
	var st *dpkgdb.Status
	for _, p := range rpmFiles(fs) {
		pkg, manager := src.OwnerOf(p)
		switch manager {
		case "dpkg":
			if st == nil {
				s := dpkgdb.ReadStatus(ctx, fs, dpkgdb.Admindir, nil)
				st = &s
			}
			for _, sp := range st.Packages {
				if sp.InfoName() == pkg && sp.Present() {
					found = append(found, rpmVersion{sp.Version, p + " of dpkg's package " + pkg + " " + sp.Version})
				}
			}
		case "rpm":
			db := rpmdb.Cached(ctx, ctx, fs)
			o := db.Lookup(p, func(int32) string { return "" })
			db.Close()
			if o.Version != "" {
				found = append(found, rpmVersion{o.Version, p + " of rpm's package " + o.Package + " " + o.Version})
			}
		}
	}
	for _, v := range found[min(1, len(found)):] {
		if v.known() != found[0].known() || v.xdg() != found[0].xdg() {
			return rpmVersion{from: "the packages of rpm's files disagree: " + found[0].from + ", " + v.from}
		}
	}
	if len(found) == 0 {
		return rpmVersion{}
	}
	return found[0]
}

// numbers are the leading numeric components of a package version's
// upstream part: "4.18.0+dfsg-1+deb12u1" (dpkg, epoch and Debian revision
// around it) and "4.20.0" (rpm) give [4 18 0] and [4 20 0]; nil when it
// does not start with a number.
func numbers(v string) []int {
	if _, rest, ok := strings.Cut(v, ":"); ok {
		v = rest
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	var out []int
	for _, c := range strings.Split(v, ".") {
		end := 0
		for end < len(c) && c[end] >= '0' && c[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(c[:end])
		if err != nil {
			break
		}
		out = append(out, n)
		if end < len(c) {
			break
		}
	}
	return out
}

// atLeast compares version components, a missing one counting as 0.
func atLeast(v, min []int) bool {
	if v == nil {
		return false
	}
	for i := range min {
		n := 0
		if i < len(v) {
			n = v[i]
		}
		if n != min[i] {
			return n > min[i]
		}
	}
	return true
}
