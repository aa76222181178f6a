package rpmmacros

import (
	"bufio"
	"bytes"
	"path"
	"runtime"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// rpm 4.18's compiled-in directories (rpmConfigDir, SYSCONFDIR).
const (
	configDir = "/usr/lib/rpm"
	sysconfig = "/etc"
)

// pathEntry is one element of rpm's macro path (lib/rpmrc.c setDefaults:
// macrofiles), in load order.
type pathEntry struct {
	pattern string // with %{_target} and the vendor filled in
	home    bool   // ~/.rpmmacros
}

// macroPath is rpm 4.18's default macro path for a target and vendor:
// %{_rpmconfigdir}/macros, macros.d/macros.*, platform/%{_target}/macros,
// fileattrs/*.attr, <vendor>/macros, /etc/rpm/macros.*, /etc/rpm/macros,
// /etc/rpm/%{_target}/macros, ~/.rpmmacros.
func macroPath(target, vendor string) []pathEntry {
	e := []pathEntry{
		{pattern: configDir + "/macros"},
		{pattern: configDir + "/macros.d/macros.*"},
		{pattern: configDir + "/platform/" + target + "/macros"},
		{pattern: configDir + "/fileattrs/*.attr"},
	}
	if vendor != "" {
		e = append(e, pathEntry{pattern: configDir + "/" + vendor + "/macros"})
	}
	return append(e,
		pathEntry{pattern: sysconfig + "/rpm/macros.*"},
		pathEntry{pattern: sysconfig + "/rpm/macros"},
		pathEntry{pattern: sysconfig + "/rpm/" + target + "/macros"},
		pathEntry{pattern: "~/.rpmmacros", home: true},
	)
}

// skippedSuffix is a file rpmInitMacros passes over although the path
// matches it.
func skippedSuffix(name string) string {
	for _, s := range []string{".rpmnew", ".rpmsave", ".rpmorig"} {
		if strings.HasSuffix(name, s) {
			return s
		}
	}
	return ""
}

// glob expands a pattern whose wildcards are in its last element, as
// rpmGlob does: matches sorted byte-wise (rpm sets LC_COLLATE=C around its
// glob), a leading '.' never matched by a wildcard, a pattern without
// wildcards taken as it is (literal is then true).
func glob(fs *fsroot.Root, pattern string) (paths []string, literal bool) {
	dir, base := path.Split(pattern)
	if !strings.ContainsAny(base, "*?[") {
		return []string{pattern}, true
	}
	names, _ := fs.ReadDir(dir)
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		if ok, _ := path.Match(base, n); ok {
			out = append(out, dir+n)
		}
	}
	return out, false
}

// target is rpm's %{_target}, <cpu>-<os> in lower case: from the root's
// /etc/rpm/platform when it has one (rpmPlatform: its first line that is
// not a comment, cpu-vendor-os), else this machine's architecture and
// "linux". rpm refines the machine further on some architectures (i686 by
// CPU features, ARM by float ABI); those are not modelled.
func target(fs *fsroot.Root) string {
	if data, err := fs.ReadFile(sysconfig + "/rpm/platform"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l == "" || l[0] == '#' {
				continue
			}
			f := strings.FieldsFunc(strings.Fields(l)[0], func(r rune) bool { return r == '-' })
			switch len(f) {
			case 1:
				return strings.ToLower(f[0]) + "-unknown"
			case 2:
				return strings.ToLower(f[0] + "-" + f[1])
			default:
				return strings.ToLower(f[0] + "-" + f[2])
			}
		}
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return arch + "-linux"
}

// vendors maps os-release IDs to the vendor rpm is built with
// (RPMCANONVENDOR, the <vendor>/macros of the macro path).
var vendors = map[string]string{
	"debian": "debian", "ubuntu": "debian",
	"rhel": "redhat", "fedora": "redhat", "centos": "redhat", "rocky": "redhat", "almalinux": "redhat", "ol": "redhat", "amzn": "redhat",
	"opensuse": "suse", "opensuse-leap": "suse", "opensuse-tumbleweed": "suse", "sles": "suse", "sled": "suse",
	"mageia": "mageia", "openmandriva": "openmandriva",
}

// vendor is the vendor directory rpm of this root reads: the only
// %{_rpmconfigdir}/<vendor>/macros there is, or, when there are several,
// the one of the distribution /etc/os-release names; candidates lists
// every vendor directory with a macros file.
func vendor(fs *fsroot.Root) (chosen string, candidates []string) {
	names, _ := fs.ReadDir(configDir)
	sort.Strings(names)
	for _, n := range names {
		switch n {
		case "platform", "macros.d", "fileattrs":
			continue
		}
		if fs.Kind(configDir+"/"+n) == "dir" && fs.Kind(configDir+"/"+n+"/macros") != "" {
			candidates = append(candidates, n)
		}
	}
	if len(candidates) == 1 {
		return candidates[0], candidates
	}
	for _, f := range []string{sysconfig + "/os-release", "/usr/lib/os-release"} {
		data, err := fs.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "ID="); ok {
				if ven := vendors[strings.Trim(v, `"'`)]; ven != "" {
					return ven, candidates
				}
			}
		}
		break
	}
	return "", candidates
}

// home is one home directory and the users whose it is.
type home struct {
	dir   string
	users []string
	root  bool // uid 0's: the ~ of rpm run by root
}

// homes are the distinct home directories of the root's /etc/passwd.
func homes(fs *fsroot.Root) []home {
	data, err := fs.ReadFile(sysconfig + "/passwd")
	if err != nil {
		return []home{{dir: "/root", users: []string{"root"}, root: true}}
	}
	var out []home
	at := map[string]int{}
	rootSeen := false
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Split(l, ":")
		if len(f) < 6 || f[5] == "" || !strings.HasPrefix(f[5], "/") {
			continue
		}
		dir := path.Clean(f[5])
		i, ok := at[dir]
		if !ok {
			i = len(out)
			at[dir] = i
			out = append(out, home{dir: dir})
		}
		out[i].users = append(out[i].users, f[0])
		if f[2] == "0" && !rootSeen {
			// root's login sets HOME from its first passwd entry
			out[i].root, rootSeen = true, true
		}
	}
	return out
}

// rpmrcOptflags says which rpmrc file sets optflags for the target's cpu
// ("" when none does): rpmRebuildTargetVars then replaces a macro file's
// %optflags with it. rpm reads %{_rpmconfigdir}/rpmrc,
// %{_rpmconfigdir}/<vendor>/rpmrc, /etc/rpmrc and ~/.rpmrc.
func rpmrcOptflags(fs *fsroot.Root, tgt, ven string, root *home) string {
	cpu, _, _ := strings.Cut(tgt, "-")
	files := []string{configDir + "/rpmrc"}
	if ven != "" {
		files = append(files, configDir+"/"+ven+"/rpmrc")
	}
	files = append(files, sysconfig+"/rpmrc")
	if root != nil {
		files = append(files, root.dir+"/.rpmrc")
	}
	found := ""
	for _, f := range files {
		data, err := fs.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(l), ":")
			if !ok || strings.TrimSpace(k) != "optflags" {
				continue
			}
			if w := strings.Fields(v); len(w) >= 2 && w[0] == cpu {
				found = f
			}
		}
	}
	return found
}
