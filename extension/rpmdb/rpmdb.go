// Package rpmdb answers, from a root's RPM database, which package owns a
// file, at which version, and whether the file still has the digest rpm
// recorded; and it lists every package with its files. It reads the three
// formats rpm keeps its database in, each by its own package: Berkeley DB
// (bdb: /var/lib/rpm/Packages, CentOS/RHEL ≤ 8, Amazon Linux 2), NDB (ndb:
// Packages.db, SUSE) and SQLite (sqlite: rpmdb.sqlite, rpm ≥ 4.16), found
// where the root's rpm configuration puts them (config.go). A header is
// read as rpm reads it (header.go): one rpm would refuse or skip is a
// problem of the root, never a package. LMDB (data.mdb) is not read: a
// root with it has a problem of cause unsupported.
//
// The database is opened inside the root by fsroot, and read through that
// descriptor only, read-only and never written, so it is safe on a mounted
// evidence image, however hostile: what cannot be read is a problem of the
// root (fsroot.Problem), never a panic or a hang.
package rpmdb

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/bdb"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/ndb"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb/sqlite"
)

// FS is the root the database is found and opened through (see
// fsroot.Root).
type FS interface {
	OpenFile(name string) (*fsroot.File, error)
	ReadFile(name string) ([]byte, error)
	ReadDir(name string) ([]string, error)
	Stat(name string) (fs.FileInfo, error)
	Report(name string, err error) error
	ReportLimit(name, what string)
}

// Store is one format's reader of package headers, each under its record
// number (rpm's "header instance").
type Store interface {
	// Each calls fn with each record in rpm's order; a record that
	// cannot be read is passed with its error. It returns what stopped
	// it: the file, ctx's end, or fn's error.
	Each(ctx context.Context, fn func(num uint32, blob []byte, err error) error) error
	// Get returns record num's header blob.
	Get(num uint32) ([]byte, error)
}

// DB is one root's RPM database, opened on first use. It is meant for one
// table generation.
type DB struct {
	ctx    context.Context
	fs     FS
	opened bool
	path   string // the database file, as seen inside the root
	file   *fsroot.File
	store  Store
	sql    *sqlite.DB       // set when the store is SQLite: its Basenames index
	index  map[string][]ref // file path → files, for stores without an index
	cache  map[uint32]*pkg
	err    error
	// run has the run's cache, root the root it knows, when the DB was
	// made by Cached (nil by New)
	run  context.Context
	root *fsroot.Root
}

// located is where the database is, as a run keeps it (Cached): its file
// ("" when none), or why none is read.
type located struct {
	path string
	err  error
}

// ref is file idx of package num.
type ref struct {
	num uint32
	idx int32
}

// pkg is what a lookup needs of a package.
type pkg struct {
	name, version string
	files         []File
}

// MaxIndexedFiles bounds the file index of a database without one of its
// own: past it the index is incomplete, which is a problem of the root.
const MaxIndexedFiles = 1 << 23

// maxCached bounds the headers kept for lookups.
const maxCached = 256

// New returns a DB for the root whose reading ctx bounds.
func New(ctx context.Context, fs FS) *DB { return &DB{ctx: ctx, fs: fs} }

// Cached is New with where the database is (rpm's macro files read) and
// the file index of a database without one of its own (every header
// read) from the run's cache in run (dbcache): read once for every query
// of the run, and again when a file they were read from changes. Without
// a cache it is New. Each DB opens the database itself, and reads through
// its own descriptor the records its lookups need.
func Cached(ctx, run context.Context, root *fsroot.Root) *DB {
	d := New(ctx, root)
	if dbcache.Active(run) {
		d.run, d.root = run, root
	}
	return d
}

// Path is the database file read, as seen inside the root ("" when none
// was found or opened).
func (d *DB) Path() string {
	d.open()
	return d.path
}

// Owner is what rpm knows of a file.
type Owner struct {
	Package  string // the package name, "" when no package owns it
	Version  string
	Modified bool // the file's digest differs from rpm's record
}

// ErrNoDatabase is what a DB returns for a root without an rpm database:
// nothing to read, which is no problem.
var ErrNoDatabase = errors.New("no rpm database")

// open finds and opens the database. A database that cannot be read is a
// problem of the root.
func (d *DB) open() error {
	if d.opened {
		return d.err
	}
	d.opened = true
	p, err := d.where()
	if err == nil {
		err = d.openFile(p, path.Base(p))
	}
	d.err = err
	return d.err
}

// where is the database file, found as find finds it: kept in the run's
// cache when the DB has one.
func (d *DB) where() (string, error) {
	if d.run == nil {
		return d.find()
	}
	loc := dbcache.Get(d.run, d.root, "rpm database", func(r *dbcache.Reader) (located, bool) {
		p, err := New(d.ctx, r).find()
		return located{p, err}, true
	})
	return loc.path, loc.err
}

// find finds the database file: in each directory the root's
// configuration names, the configured backend's file, else the first of
// rpm's backends that has one (as rpm's dbDetectBackend does).
func (d *DB) find() (string, error) {
	found := ErrNoDatabase
	loc := d.locate()
	for _, dir := range loc.dirs {
		for _, name := range candidates(loc.backend) {
			p := path.Join(dir, name)
			if _, err := d.fs.Stat(p); err != nil {
				if fsroot.Classify(err) != "" {
					found = d.fs.Report(p, err)
				}
				continue
			}
			return p, nil
		}
	}
	return "", found
}

// candidates are the database files to look for, the configured backend's
// first.
func candidates(backend string) []string {
	var out []string
	seen := map[string]bool{}
	for _, configured := range []bool{true, false} {
		for _, b := range backendFiles {
			if (b.backend == backend) == configured && !seen[b.file] {
				seen[b.file] = true
				out = append(out, b.file)
			}
		}
	}
	return out
}

// openFile opens the database file p, in the format its name says.
func (d *DB) openFile(p, name string) error {
	f, err := d.fs.OpenFile(p)
	if err != nil {
		return err // a problem, which OpenFile recorded
	}
	switch name {
	case "rpmdb.sqlite":
		var db *sqlite.DB
		if db, err = sqlite.Open(f.Descriptor()); err == nil {
			d.store, d.sql = db, db
			d.checkWAL(p)
		}
	case "data.mdb":
		err = fsroot.ErrUnsupported // pkgpersist has no LMDB reader
	case "Packages.db":
		var db *ndb.DB
		if db, err = ndb.Open(f.Descriptor(), f.Info.Size()); err == nil {
			d.store = db
		}
	default:
		var db *bdb.DB
		if db, err = bdb.Open(f.Descriptor(), f.Info.Size()); err == nil {
			d.store = db
		}
	}
	if err != nil {
		f.Close()
		return d.fs.Report(p, fmt.Errorf("rpm database: %w", err))
	}
	d.file, d.path = f, p
	return nil
}

// checkWAL records, as a problem of the database, transactions in a
// write-ahead log that the immutable read does not see. rpm truncates its
// log when it closes the database: one with content means an rpm
// transaction was running, or was cut short, when the root was read.
func (d *DB) checkWAL(p string) {
	if fi, err := d.fs.Stat(p + "-wal"); err == nil && fi.Size() > 0 {
		d.fs.Report(p, fmt.Errorf("rpm database: its write-ahead log (%d bytes) is not read", fi.Size()))
	}
}

// Close releases the database.
func (d *DB) Close() {
	if d.sql != nil {
		d.sql.Close()
	}
	if d.file != nil {
		d.file.Close()
	}
}

// readHeader reads a header blob of the database as rpm does: a header
// that is damaged, or whose digests do not match it, is skipped by rpm
// ("rpmdb: damaged header #N retrieved -- skipping").
func readHeader(blob []byte) (*Header, error) {
	h, err := ParseHeader(blob)
	if err == nil {
		err = h.CheckDigests()
	}
	return h, err
}

// Package is one installed package: its record number (rpm's header
// instance) and header, which has every tag (Header.Get, Strings, Int32s).
type Package struct {
	Num    uint32
	Header *Header
}

// Name is the package's name.
func (p Package) Name() string { return p.Header.String(TagName) }

// Version is the package's version.
func (p Package) Version() string { return p.Header.String(TagVersion) }

// Release is the package's release.
func (p Package) Release() string { return p.Header.String(TagRelease) }

// Arch is the package's architecture ("" for gpg-pubkey, which has none).
func (p Package) Arch() string { return p.Header.String(TagArch) }

// Epoch is the package's epoch, and whether it has one (rpm's %{EPOCH} is
// "(none)" when not).
func (p Package) Epoch() (int32, bool) { return p.Header.Int32(TagEpoch) }

// EVR is the package's version as rpm -q --qf '%{EVR}' prints it, the
// form rpm's own messages and dnf use: [epoch:]version-release, the
// epoch (read unsigned) only when the header has one (lib/tagexts.c,
// getNEVRA).
func (p Package) EVR() string {
	var b strings.Builder
	if e, ok := p.Epoch(); ok {
		b.WriteString(strconv.FormatUint(uint64(uint32(e)), 10) + ":")
	}
	if p.Header.Has(TagVersion) {
		b.WriteString(p.Version() + "-")
	}
	b.WriteString(p.Release())
	return b.String()
}

// InstallTime is when the package was installed (Unix seconds), and
// whether rpm recorded it. rpm stores it as an INT32 it reads unsigned.
func (p Package) InstallTime() (int64, bool) {
	t, ok := p.Header.Int32(TagInstallTime)
	return int64(uint32(t)), ok
}

// Files are the package's files with their recorded digests.
func (p Package) Files() ([]File, error) { return p.Header.Files() }

// Packages calls fn with each package of the database, in rpm's order. A
// record that cannot be read or parsed is a problem of the database,
// skipped as rpm skips it; a walk that stops early (the file, the
// context's deadline) is a problem too, and its error is returned.
func (d *DB) Packages(fn func(Package) error) error {
	if err := d.open(); err != nil {
		return err
	}
	var fnErr error
	err := d.store.Each(d.ctx, func(num uint32, blob []byte, err error) error {
		var h *Header
		if err == nil {
			h, err = readHeader(blob)
		}
		if err != nil {
			d.fs.Report(d.path, fmt.Errorf("rpm database: package record %d: %w", num, err))
			return nil
		}
		fnErr = fn(Package{Num: num, Header: h})
		return fnErr
	})
	if err != nil && err != fnErr {
		return d.fs.Report(d.path, fmt.Errorf("rpm database: not read to the end: %w", err))
	}
	return err
}

// Lookup finds the package that owns name (a path inside the root) and
// compares the file's digest, which sum computes in the algorithm rpm
// recorded (a PGPHASHALGO_* value; "" when the contents are unknown), with
// the recorded one. Of several owners (a file shared by packages), the
// first whose record the file matches is returned, else the first.
func (d *DB) Lookup(name string, sum func(algo int32) string) Owner {
	if d.open() != nil {
		return Owner{}
	}
	var first *Owner
	for _, r := range d.refs(name) {
		p := d.pkg(r.num)
		if p == nil || int(r.idx) >= len(p.files) || p.files[r.idx].Path != name {
			continue
		}
		o := Owner{Package: p.name, Version: p.version}
		if f := p.files[r.idx]; f.Digest != "" && NewHash(f.Algo) == nil {
			d.fs.Report(d.path, fmt.Errorf("rpm database: %s's digest is in algorithm %d: %w", name, f.Algo, fsroot.ErrUnsupported))
		} else if f.Digest != "" {
			if cur := sum(f.Algo); cur != "" {
				o.Modified = cur != f.Digest
			}
		}
		if !o.Modified {
			return o
		}
		if first == nil {
			first = &o
		}
	}
	if first != nil {
		return *first
	}
	return Owner{}
}

// refs are the files that may be name: from SQLite's Basenames index, or
// from the index built from every header once.
func (d *DB) refs(name string) []ref {
	if d.sql != nil {
		rs, err := d.sql.Basename(d.ctx, path.Base(name))
		if err != nil {
			d.fs.Report(d.path, fmt.Errorf("rpm database: Basenames: %w", err))
		}
		out := make([]ref, 0, len(rs))
		for _, r := range rs {
			if r.Idx >= 0 && r.Idx <= 1<<31-1 {
				out = append(out, ref{r.Num, int32(r.Idx)})
			}
		}
		return out
	}
	if d.index == nil {
		d.index = d.keptIndex()
	}
	if d.index == nil {
		d.buildIndex()
	}
	return d.index[name]
}

// keptIndex is the database's file index from the run's cache, nil
// without a cache or when the database file is no longer the one the run
// indexed (replaced since the cache checked it).
func (d *DB) keptIndex() map[string][]ref {
	if d.run == nil {
		return nil
	}
	index, ok, _ := kept(d, "rpm file index", func(db *DB) (map[string][]ref, error) {
		db.buildIndex()
		return db.index, nil
	})
	if !ok {
		return nil
	}
	return index
}

// readOnce is what the run keeps of the database file (Cached): the value
// read of it, how the reading ended, and the file it was read from.
type readOnce[T any] struct {
	info  fs.FileInfo
	value T
	err   error
}

// kept is what read makes of the database, read once for the run (kind
// names it) through a DB of its own and kept while the file is unchanged;
// ok is false when the run has no such reading of the file this DB
// opened (it was replaced since the cache checked it). A reading that
// failed, or that the deadline cut short, is not kept.
func kept[T any](d *DB, kind string, read func(db *DB) (T, error)) (value T, ok bool, err error) {
	r := dbcache.Get(d.run, d.root, kind+" "+d.path, func(r *dbcache.Reader) (*readOnce[T], bool) {
		db := &DB{ctx: d.ctx, fs: r, opened: true}
		defer db.Close()
		if db.err = db.openFile(d.path, path.Base(d.path)); db.err != nil {
			return nil, false
		}
		v, err := read(db)
		return &readOnce[T]{db.file.Info, v, err}, err == nil && d.ctx.Err() == nil
	})
	if r == nil || !dbcache.Same(d.file.Info, r.info) {
		return value, false, nil
	}
	return r.value, true, r.err
}

// buildIndex indexes every file of every package by its path: Berkeley DB
// and NDB databases have index files of their own, but rpm's other files
// are not always there (images ship Packages alone) and are not needed.
func (d *DB) buildIndex() {
	d.index = map[string][]ref{}
	n := 0
	d.Packages(func(p Package) error {
		files, err := p.Header.Files()
		if err != nil {
			d.fs.Report(d.path, fmt.Errorf("rpm database: package record %d (%s): %w", p.Num, p.Name(), err))
			return nil
		}
		for i, f := range files {
			if n == MaxIndexedFiles {
				d.fs.ReportLimit(d.path, fmt.Sprintf("rpm database: more than %d files; the ones after are not indexed", MaxIndexedFiles))
				return errIndexFull
			}
			n++
			d.index[f.Path] = append(d.index[f.Path], ref{p.Num, int32(i)})
		}
		return nil
	})
}

var errIndexFull = errors.New("index full")

// pkg returns what lookups need of package num, from a small cache.
func (d *DB) pkg(num uint32) *pkg {
	if p, ok := d.cache[num]; ok {
		return p
	}
	var p *pkg
	blob, err := d.store.Get(num)
	var h *Header
	if err == nil {
		h, err = readHeader(blob)
	}
	var files []File
	if err == nil {
		files, err = h.Files()
	}
	if err != nil {
		d.fs.Report(d.path, fmt.Errorf("rpm database: package record %d: %w", num, err))
	} else {
		p = &pkg{name: h.String(TagName), version: h.String(TagVersion), files: files}
	}
	if d.cache == nil || len(d.cache) >= maxCached {
		d.cache = map[uint32]*pkg{}
	}
	d.cache[num] = p
	return p
}

// NewHash returns a hash for an rpm PGPHASHALGO_* algorithm, or nil for one
// rpm does not use for file digests.
func NewHash(algo int32) hash.Hash {
	switch algo {
	case 1:
		return md5.New()
	case 2:
		return sha1.New()
	case 8:
		return sha256.New()
	case 9:
		return sha512.New384()
	case 10:
		return sha512.New()
	case 11:
		return sha256.New224()
	}
	return nil
}
