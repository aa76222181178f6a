package apkdb

import (
	"bytes"
	"encoding/hex"
	"io"
)

// FS is what the database needs of a root.
type FS interface {
	Kind(name string) string
	Open(name string) (io.ReadCloser, error)
}

// Owner is the package that lists a file.
type Owner struct {
	Package  string
	Modified bool // the file's checksum differs from the Z: line
}

type entry struct {
	pkg    string
	digest Digest
}

// DB answers which installed package lists a path, reading the installed
// database once, on the first question.
type DB struct {
	fs     FS
	loaded bool
	files  map[string]entry
	err    error
}

// New returns the database of fs's root.
func New(fs FS) *DB { return &DB{fs: fs} }

func (d *DB) load() {
	if d.loaded {
		return
	}
	d.loaded = true
	pkgs, err := Packages(d.fs, nil)
	d.err = err
	d.files = map[string]entry{}
	for _, p := range pkgs {
		for path, z := range p.Files {
			d.files[path] = entry{p.Name, z}
		}
	}
}

// Err is what kept the database from being read in full (nil when it was,
// or when the root has none).
func (d *DB) Err() error { d.load(); return d.err }

// Lookup returns the package listing path; sum gives the file's digest in
// an algorithm ("sha1" or "sha256"), hex ("" when it cannot be read).
func (d *DB) Lookup(path string, sum func(alg string) string) Owner {
	d.load()
	e, ok := d.files[path]
	if !ok {
		return Owner{}
	}
	o := Owner{Package: e.pkg}
	if e.digest.Valid() && sum != nil {
		if got, err := hex.DecodeString(sum(e.digest.Alg)); err == nil && len(got) > 0 {
			o.Modified = !bytes.Equal(got, e.digest.Sum)
		}
	}
	return o
}

// Packages reads the installed database whole (nil when the root has
// none); stop is asked as it goes (nil never stops).
func Packages(fs FS, stop func() error) ([]Package, error) {
	if fs.Kind(InstalledFile) != "file" {
		return nil, nil
	}
	f, err := fs.Open(InstalledFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseInstalled(f, stop)
}
