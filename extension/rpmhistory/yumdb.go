package rpmhistory

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// loadYumDB reads YUM 3's yumdb: a directory per installed package,
// yumdb/<first letter>/<pkgid>-<name>-<version>-<release>-<arch>/, with a
// file per attribute (yum/rpmsack.py's RPMDBAdditionalData): from_repo,
// reason, installed_by, command_line, each holding its value alone.
func loadYumDB(ctx context.Context, fs *fsroot.Root, h *History) bool {
	letters, err := fs.ReadDir(YumDB)
	if err != nil {
		return fs.Kind(YumDB) != "" // a problem ReadDir recorded, when there is a yumdb
	}
	for _, l := range letters {
		dir := path.Join(YumDB, l)
		pkgs, err := fs.ReadDir(dir)
		if err != nil {
			continue // a problem, or not a directory
		}
		for _, p := range pkgs {
			if ctx.Err() != nil {
				fs.Report(YumDB, fmt.Errorf("yumdb: not read to the end: %w", ctx.Err()))
				return true
			}
			n, err := ParseYumDBName(l, p)
			if err != nil {
				fs.Report(path.Join(dir, p), fmt.Errorf("yumdb: %w", err))
				continue
			}
			pdir := path.Join(dir, p)
			attr := func(name string) string {
				b, err := fs.ReadFile(path.Join(pdir, name))
				if err != nil {
					return "" // absent, or a problem ReadFile recorded
				}
				return string(b)
			}
			h.add(n, Record{Manager: "yum", File: pdir, Repo: attr("from_repo"),
				Cmdline: attr("command_line"), User: yumUser(attr("installed_by")), Reason: attr("reason")})
		}
	}
	return true
}

// yumUser is installed_by's login uid; YUM writes 4294967295 for none.
func yumUser(s string) string {
	if s == "4294967295" || s == "-1" {
		return ""
	}
	return s
}

var errYumDBName = errors.New("not <pkgid>-<name>-<version>-<release>-<arch>")

// ParseYumDBName reads a yumdb package directory's name in its letter
// directory. The epoch is not in it (Epoch is -1: any); the name may
// have dashes, the checksum, version, release and architecture have none.
func ParseYumDBName(letter, dir string) (NEVRA, error) {
	parts := strings.Split(dir, "-")
	if len(parts) < 5 {
		return NEVRA{}, fmt.Errorf("%q: %w", dir, errYumDBName)
	}
	k := len(parts)
	n := NEVRA{Name: strings.Join(parts[1:k-3], "-"), Epoch: -1, Version: parts[k-3], Release: parts[k-2], Arch: parts[k-1]}
	for _, s := range append(parts[:1], parts[k-3:]...) {
		if s == "" {
			return NEVRA{}, fmt.Errorf("%q: %w", dir, errYumDBName)
		}
	}
	if n.Name == "" || n.Name[:1] != letter {
		return NEVRA{}, fmt.Errorf("%q: %w in directory %q", dir, errYumDBName, letter)
	}
	return n, nil
}
