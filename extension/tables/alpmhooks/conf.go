package alpmhooks

import (
	"path"

	"github.com/pkgpersist/pkgpersist/extension/alpmdb"
)

// pacman's compiled-in hook directories (Debian's and Arch's build:
// meson's sysconfdir /etc, datarootdir /usr/share).
const (
	// SYSHOOKDIR, which libalpm puts first (lib/libalpm/alpm.c
	// alpm_initialize), below every HookDir
	sysHookDir = "/usr/share/libalpm/hooks"
	// HOOKDIR, the HookDir when pacman.conf names none (src/pacman/conf.c
	// setdefaults)
	defaultHookDir = "/etc/pacman.d/hooks"
)

// hookDirs are libalpm's hook directories, lowest priority first.
func hookDirs(c alpmdb.Config) []string {
	dirs := []string{sysHookDir}
	hd := c.HookDirs
	if hd == nil {
		hd = []string{defaultHookDir}
	}
	for _, d := range hd {
		dirs = append(dirs, path.Clean("/"+d))
	}
	return dirs
}
