// Package provenance answers, for a file of a root, what a detection
// engineer asks first: its hash, owner, mode and time, the package that
// owns it (dpkg's database, then rpm's), and whether that package's
// recorded checksum still matches.
package provenance

import (
	"strconv"

	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
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
	dbfs := fsroot.New(fs.Dir)
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
