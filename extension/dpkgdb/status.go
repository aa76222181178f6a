package dpkgdb

import (
	"context"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/deb822"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// Admindir is dpkg's default database directory.
const Admindir = "/var/lib/dpkg"

// Package is one package of dpkg's status file.
type Package struct {
	Name, Arch, MultiArch, Version string
	// Want, Flag and State are the three words of the Status field
	// ("install ok installed", "deinstall ok config-files").
	Want, Flag, State string
	Line              int // line of its stanza in the status file
	Conffiles         string
}

// InfoName is the name dpkg gives the package's files in its info
// directory (pkg_infodb_get_file: the package name, with ":<arch>" for a
// Multi-Arch: same package).
func (p Package) InfoName() string {
	if p.MultiArch == "same" && p.Arch != "" {
		return p.Name + ":" + p.Arch
	}
	return p.Name
}

// Present reports whether the package is unpacked in some form: every
// state but not-installed and config-files (removed, configuration kept).
func (p Package) Present() bool {
	return p.State != "" && p.State != "not-installed" && p.State != "config-files"
}

// Status is what was read of a status file: every package stanza, and
// why it was not read (OpenErr) or not to the end (ParseErr).
type Status struct {
	Packages          []Package
	OpenErr, ParseErr error
	Info              fs.FileInfo // of the file read (nil when not opened)
}

// Complete reports whether st is all the status file says (a missing file
// says nothing).
func (st Status) Complete() bool {
	return fsroot.Classify(st.OpenErr) == "" && st.ParseErr == nil
}

// ReadStatus reads the status file of admindir, once for every query of
// the run when ctx has a cache (dbcache); stop (nil for none) is polled
// while parsing. The packages may be shared: not to be changed.
func ReadStatus(ctx context.Context, root *fsroot.Root, admindir string, stop func() error) Status {
	name := path.Clean("/"+admindir) + "/status"
	return dbcache.Get(ctx, root, "dpkg status "+name, func(r *dbcache.Reader) (Status, bool) {
		var st Status
		f, err := r.OpenFile(name)
		if err != nil {
			st.OpenErr = err
			return st, st.Complete()
		}
		defer f.Close()
		st.Info = f.Info
		st.ParseErr = ParseStatus(f, stop, func(p Package) { st.Packages = append(st.Packages, p) })
		return st, st.Complete()
	})
}

// ParseStatus calls fn for every package stanza of a dpkg status file; the
// error is what ended the reading early.
func ParseStatus(r io.Reader, stop func() error, fn func(Package)) error {
	return deb822.Each(r, []string{"Package", "Architecture", "Multi-Arch", "Version", "Status", "Conffiles"}, stop, func(s deb822.Stanza) {
		f := s.Fields
		if f["Package"] == "" {
			return
		}
		p := Package{Name: f["Package"], Arch: f["Architecture"], MultiArch: f["Multi-Arch"], Version: f["Version"],
			Line: s.Line, Conffiles: f["Conffiles"]}
		st := strings.Fields(f["Status"])
		if len(st) == 3 {
			p.Want, p.Flag, p.State = st[0], st[1], st[2]
		}
		fn(p)
	})
}
