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
	home    bool   // ~/.rpmmacros, or the user's file userMacros says
}

// macroPath is rpm 4.18's default macro path for a target and vendor
// (rpm 4.20's differs in its last, the user's file: userMacros):
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

// userFile is a user's macro file rpm may read: loaded says whether it
// does, reason why not, or, when rpm's version is unknown, which versions
// read it.
type userFile struct {
	path   string
	loaded bool
	reason string
	// alone: rpm's version is unknown and both user files may be the one
	// read, so neither is put last on the system's path
	alone bool
}

// userMacros are the macro files of a home rpm reads last on its path
// (lib/rpmrc.c setDefaults), the ones there are: rpm 4.18 and 4.19 read
// ~/.rpmmacros; rpm 4.19.90 (4.20) and later read
// $XDG_CONFIG_HOME/rpm/macros (~/.config/rpm/macros: rpm run by root from
// a service, sudo or a login shell has no XDG_CONFIG_HOME) when the
// directory ~/.config/rpm exists in any form (rpmGlob of a name without
// wildcards), else ~/.rpmmacros (when it or ~/.rpmrc exists, and without
// either nothing is read). rc is the user's rpmrc that same rpm reads.
func userMacros(fs *fsroot.Root, dir string, v rpmVersion) (files []userFile, rc []string) {
	old, xdg := dir+"/.rpmmacros", dir+"/.config/rpm/macros"
	_, err := fs.Lstat(dir + "/.config/rpm")
	hasXDG := err == nil
	add := func(p string, f userFile) {
		if fs.Kind(p) != "" {
			f.path = p
			files = append(files, f)
		}
	}
	switch {
	case !hasXDG:
		add(old, userFile{loaded: true})
		return files, []string{dir + "/.rpmrc"}
	case !v.known():
		unknown := "no package database owns librpm or /usr/bin/rpm"
		if v.from != "" {
			unknown = v.from
		}
		why := "rpm's version is unknown (" + unknown + "): rpm 4.19.90 (4.20) and later read " + xdg + " since " + dir + "/.config/rpm exists, earlier ones " + old + "; evaluated alone, as the last file on the path"
		add(old, userFile{loaded: true, alone: true, reason: why})
		add(xdg, userFile{loaded: true, alone: true, reason: why})
		return files, []string{dir + "/.rpmrc", dir + "/.config/rpm/rpmrc"}
	case v.xdg():
		add(old, userFile{reason: "not loaded: rpm " + v.version + " (" + v.from + ") reads " + xdg + " instead, since " + dir + "/.config/rpm exists (lib/rpmrc.c setDefaults)"})
		add(xdg, userFile{loaded: true})
		return files, []string{dir + "/.config/rpm/rpmrc"}
	default:
		add(old, userFile{loaded: true})
		add(xdg, userFile{reason: "not loaded: rpm " + v.version + " (" + v.from + ") reads " + old + "; only rpm 4.19.90 (4.20) and later read this file"})
		return files, []string{dir + "/.rpmrc"}
	}
}

// rpmrcOptflags says which rpmrc file sets optflags for the target's cpu
// ("" when none does): rpmRebuildTargetVars then replaces a macro file's
// %optflags with it. rpm reads %{_rpmconfigdir}/rpmrc,
// %{_rpmconfigdir}/<vendor>/rpmrc, /etc/rpmrc and root's user rpmrc
// (userRC: ~/.rpmrc, or ~/.config/rpm/rpmrc as userMacros says).
func rpmrcOptflags(fs *fsroot.Root, tgt, ven string, userRC []string) string {
	cpu, _, _ := strings.Cut(tgt, "-")
	files := []string{configDir + "/rpmrc"}
	if ven != "" {
		files = append(files, configDir+"/"+ven+"/rpmrc")
	}
	files = append(append(files, sysconfig+"/rpmrc"), userRC...)
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
