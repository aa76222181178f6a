// Package provenance answers, for a file of a root, what a detection
// engineer asks first: its hash, owner, mode and time, the package that
// owns it (dpkg's database, then rpm's), and whether that package's
// recorded checksum still matches.
package provenance

import (
	"context"
	"strconv"

	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Of is the provenance of one file.
type Of struct {
	Found    bool // the file could be stat'ed
	Facts    fsroot.Facts
	Package  string
	Modified bool
}

// Columns are the provenance columns' values, keyed by column name.
func (o Of) Columns() map[string]string {
	c := map[string]string{"sha256": "", "mtime": "", "size": "", "uid": "", "mode": "",
		"package": o.Package, "package_modified": "0"}
	if o.Modified {
		c["package_modified"] = "1"
	}
	if o.Found {
		c["sha256"] = o.Facts.SHA256
		c["mtime"] = strconv.FormatInt(o.Facts.Mtime, 10)
		c["size"] = strconv.FormatInt(o.Facts.Size, 10)
		c["uid"] = strconv.FormatInt(o.Facts.UID, 10)
		c["mode"] = o.Facts.Mode
	}
	return c
}

// Source answers for the files of one root, reading each file and the
// package database at most once. It is meant for one table generation.
type Source struct {
	fs    *fsroot.Root
	dpkg  *dpkgdb.DB
	rpm   *rpmdb.DB
	cache map[string]Of
}

// New returns a Source reading through fs.
func New(fs *fsroot.Root) *Source {
	dbfs := fs.Sub()
	// package databases hold large file lists
	dbfs.MaxFileSize = 64 << 20
	return &Source{fs: fs, dpkg: dpkgdb.New(dbfs), rpm: rpmdb.New(fs), cache: map[string]Of{}}
}

// Prefetch tells the package database which paths will be asked about,
// so that it reads its file lists once for all of them.
func (s *Source) Prefetch(paths []string) { s.dpkg.Prefetch(paths) }

// owner asks dpkg's database, then rpm's.
func (s *Source) owner(path string, data []byte) (string, bool) {
	if o := s.dpkg.Lookup(path, data); o.Package != "" {
		return o.Package, o.Modified
	}
	o := s.rpm.Lookup(path, data)
	return o.Package, o.Modified
}

// Close releases the package databases.
func (s *Source) Close() { s.rpm.Close() }

// File returns the provenance of path; data is its contents when the
// caller has read them already (nil to read them here).
func (s *Source) File(path string, data []byte) Of {
	if o, ok := s.cache[path]; ok || path == "" {
		return o
	}
	if data == nil {
		data, _ = s.fs.ReadFile(path)
	}
	var o Of
	if f, err := s.fs.Describe(path, data); err == nil {
		o.Found, o.Facts = true, f
		pkg, modified := s.owner(path, data)
		o.Package = pkg
		// without the contents there is nothing to compare
		o.Modified = modified && data != nil
	}
	s.cache[path] = o
	return o
}

// Item is one row's own columns and the file whose provenance it carries.
type Item struct {
	Row  table.Row
	Path string
	Data []byte // the file's contents when already read; nil to read them here
}

// Rows completes each item with the provenance columns among columns (the
// table's), reading the root's package databases once for all of them.
func Rows(ctx context.Context, fs *fsroot.Root, columns []table.Column, items []Item) ([]table.Row, error) {
	if err := table.Check(ctx); err != nil {
		return nil, err
	}
	s := New(fs)
	defer s.Close()
	paths := make([]string, len(items))
	for i, it := range items {
		paths[i] = it.Path
	}
	s.Prefetch(paths)
	wanted := map[string]bool{}
	for _, c := range columns {
		wanted[c.Name] = true
	}
	rows := make([]table.Row, len(items))
	for i, it := range items {
		if i%256 == 0 {
			if err := table.Check(ctx); err != nil {
				return nil, err
			}
		}
		for k, v := range s.File(it.Path, it.Data).Columns() {
			if wanted[k] {
				it.Row[k] = v
			}
		}
		rows[i] = it.Row
	}
	return rows, nil
}

// Columns are the provenance columns a table declares, describing "of"
// (e.g. "the file", "the module"); size adds the file's size.
func Columns(of string, size bool) []table.Column {
	cols := []table.Column{
		{Name: "sha256", Type: table.Text, Description: "SHA-256 of " + of},
		{Name: "mtime", Type: table.BigInt, Description: "Modification time of " + of + " (Unix seconds)"},
	}
	if size {
		cols = append(cols, table.Column{Name: "size", Type: table.BigInt, Description: "Size of " + of + " in bytes"})
	}
	return append(cols,
		table.Column{Name: "uid", Type: table.BigInt, Description: "Owner of " + of},
		table.Column{Name: "mode", Type: table.Text, Description: "Permission bits of " + of + ", octal"},
		table.Column{Name: "package", Type: table.Text, Description: "The Debian or RPM package that owns " + of + ", `''` when none does"},
		table.Column{Name: "package_modified", Type: table.Integer, Description: "1 when " + of + " no longer has the checksum its package recorded"},
	)
}

// Owner returns the package whose file list has path, whether or not the
// file exists now ("" when no package lists it).
func (s *Source) Owner(path string) string {
	pkg, _ := s.owner(path, nil)
	return pkg
}
