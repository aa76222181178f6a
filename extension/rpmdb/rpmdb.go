// Package rpmdb answers, from an RPM database (rpm 4.16+'s sqlite backend)
// under a root, which package owns a file and whether the file still has
// the digest rpm recorded. The database is opened inside the root, by
// descriptor, read-only and never written, so it is safe on a mounted
// evidence image, however hostile.
package rpmdb

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"path"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// Paths where distributions keep the sqlite database.
var Paths = []string{"/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite"}

// FS is the root the database is opened through (see fsroot.Root).
type FS interface {
	OpenFile(name string) (*fsroot.File, error)
	Stat(name string) (fs.FileInfo, error)
	Report(name string, err error) error
}

// DB is one root's RPM database, opened on first use.
type DB struct {
	fs     FS
	opened bool
	file   *fsroot.File // the database file, open while db is
	db     *sql.DB
	err    error
}

// New returns a DB for the root.
func New(fs FS) *DB { return &DB{fs: fs} }

// Owner is what rpm knows of a file.
type Owner struct {
	Package  string // the package name, "" when no package owns it
	Modified bool   // the file's digest differs from rpm's record
}

// open opens the first database of Paths that exists. The file is
// resolved and opened inside the root by fsroot, and SQLite reads that
// descriptor: no name from the root reaches SQLite, whose URI syntax
// (%2f, ?, #) a hostile image could otherwise use to open or create a
// file anywhere. It is read immutable: nothing is locked or written, so
// a read-only evidence mount is fine; a write-ahead log beside it is not
// read. A database that cannot be read is a problem of the root.
func (d *DB) open() error {
	if d.opened {
		return d.err
	}
	d.opened = true
	for _, p := range Paths {
		f, err := d.fs.OpenFile(p)
		if err != nil {
			if fsroot.Classify(err) != "" {
				d.err = err // a problem, which OpenFile recorded
			}
			continue
		}
		db, err := openSQLite(f.Descriptor())
		if err == nil {
			var n int
			if err = db.QueryRow("SELECT count(*) FROM Packages").Scan(&n); err != nil {
				db.Close()
			}
		}
		if err != nil {
			f.Close()
			d.err = d.fs.Report(p, fmt.Errorf("rpm database: %w", err))
			continue
		}
		d.file, d.db = f, db
		d.checkWAL(p)
		return nil
	}
	if d.err == nil {
		d.err = errNoDB
	}
	return d.err
}

var errNoDB = errors.New("no rpm database")

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
	if d.db != nil {
		d.db.Close()
		d.file.Close()
	}
}

// Lookup finds the package that owns name (a path inside the root) and
// compares the file's digest, which sum computes in the algorithm rpm
// recorded (a PGPHASHALGO_* value; "" when the contents are unknown), with
// the recorded one.
func (d *DB) Lookup(name string, sum func(algo int32) string) Owner {
	if d.open() != nil {
		return Owner{}
	}
	rows, err := d.db.Query("SELECT p.blob, b.idx FROM Basenames b JOIN Packages p ON p.hnum = b.hnum WHERE b.key = ?", path.Base(name))
	if err != nil {
		return Owner{}
	}
	defer rows.Close()
	for rows.Next() {
		var blob []byte
		var idx int
		if rows.Scan(&blob, &idx) != nil {
			continue
		}
		h, err := ParseHeader(blob)
		if err != nil {
			continue
		}
		dirs, bases, dirIdx := h.Strings(TagDirNames), h.Strings(TagBaseNames), h.Ints(TagDirIndexes)
		if idx < 0 || idx >= len(bases) || idx >= len(dirIdx) || int(dirIdx[idx]) >= len(dirs) {
			continue
		}
		if dirs[dirIdx[idx]]+bases[idx] != name {
			continue
		}
		o := Owner{}
		if n := h.Strings(TagName); len(n) > 0 {
			o.Package = n[0]
		}
		if digests := h.Strings(TagFileDigests); idx < len(digests) && digests[idx] != "" {
			algo := int32(1)
			if a := h.Ints(TagFileDigestAlgo); len(a) > 0 {
				algo = a[0]
			}
			if cur := sum(algo); cur != "" {
				o.Modified = cur != digests[idx]
			}
		}
		return o
	}
	return Owner{}
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

// RPM header tags used here (rpm's rpmtag.h).
const (
	TagName           = 1000
	TagFileDigests    = 1035
	TagDirIndexes     = 1116
	TagBaseNames      = 1117
	TagDirNames       = 1118
	TagFileDigestAlgo = 5011
)

// Header is a parsed header blob: the index entries and the data store.
type Header struct {
	entries map[int32]entry
	store   []byte
}

type entry struct {
	typ, offset, count int32
}

// MaxHeaderEntries bounds a header, as rpm's own reader does (hdrchk.h).
const MaxHeaderEntries = 0x0000ffff

// ParseHeader reads a header blob as rpm stores it in the database: index
// length, data length, the index entries, then the data.
func ParseHeader(b []byte) (*Header, error) {
	if len(b) < 8 {
		return nil, errors.New("header too short")
	}
	il := int64(binary.BigEndian.Uint32(b[0:4]))
	dl := int64(binary.BigEndian.Uint32(b[4:8]))
	if il > MaxHeaderEntries || 8+il*16+dl > int64(len(b)) {
		return nil, errors.New("header lengths out of range")
	}
	h := &Header{entries: map[int32]entry{}, store: b[8+il*16 : 8+il*16+dl]}
	for i := int64(0); i < il; i++ {
		e := b[8+i*16 : 8+i*16+16]
		tag := int32(binary.BigEndian.Uint32(e[0:4]))
		h.entries[tag] = entry{
			typ:    int32(binary.BigEndian.Uint32(e[4:8])),
			offset: int32(binary.BigEndian.Uint32(e[8:12])),
			count:  int32(binary.BigEndian.Uint32(e[12:16])),
		}
	}
	return h, nil
}

// Strings returns a STRING, STRING_ARRAY or I18NSTRING tag's values.
func (h *Header) Strings(tag int32) []string {
	e, ok := h.entries[tag]
	if !ok || (e.typ != 6 && e.typ != 8 && e.typ != 9) || e.offset < 0 || int(e.offset) > len(h.store) {
		return nil
	}
	data := h.store[e.offset:]
	var out []string
	for i := int32(0); i < e.count && len(data) > 0; i++ {
		end := 0
		for end < len(data) && data[end] != 0 {
			end++
		}
		out = append(out, string(data[:end]))
		if end == len(data) {
			break
		}
		data = data[end+1:]
		if e.typ == 6 {
			break
		}
	}
	return out
}

// Ints returns an INT32 tag's values.
func (h *Header) Ints(tag int32) []int32 {
	e, ok := h.entries[tag]
	if !ok || e.typ != 4 || e.offset < 0 || e.count < 0 || int64(e.offset)+int64(e.count)*4 > int64(len(h.store)) {
		return nil
	}
	out := make([]int32, e.count)
	for i := range out {
		out[i] = int32(binary.BigEndian.Uint32(h.store[int(e.offset)+i*4:]))
	}
	return out
}
