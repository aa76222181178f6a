// Package bdb reads rpm's Berkeley DB package database (/var/lib/rpm/Packages:
// CentOS/RHEL ≤ 8, Amazon Linux 2) from an io.ReaderAt, never by name, the
// way rpm's own read-only reader (lib/backend/bdb_ro.c, the "bdb_ro"
// backend) walks it: the hash table's buckets in order, each bucket's chain
// of pages, each page's key/value pairs, a value too large for its page
// following its chain of overflow pages.
//
// The file's layout is Berkeley DB's (db_page.h): a 512-byte metadata page,
// then pages of the size it gives, in the byte order its magic number shows.
// Nothing in the file is trusted: every offset, length and page number is
// checked, every page is visited at most once per walk, and a record is no
// larger than the file, so a corrupt or hostile database is an error, never
// a panic, a loop or an allocation beyond the file's size.
package bdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// Berkeley DB constants (db_page.h, hash.h).
const (
	hashMagic     = 0x061561
	metaSize      = 512
	pageHeader    = 26 // lsn, pgno, prev, next, entries, hf_offset, level, type
	typeHashOld   = 2  // P_HASH_UNSORTED: hash pages before Berkeley DB 4.6 (CentOS 5)
	typeOverflow  = 7  // P_OVERFLOW
	typeHashMeta  = 8  // P_HASHMETA
	typeHash      = 13 // P_HASH
	itemKeyData   = 1  // H_KEYDATA: the item is on the page
	itemOffPage   = 3  // H_OFFPAGE: the item is on overflow pages
	offPageLength = 12 // type, 3 unused bytes, first page, total length
)

// DB is an open Packages file.
type DB struct {
	r         io.ReaderAt
	order     byteOrder
	pageSize  uint32
	lastPage  uint32
	maxBucket uint32
	highMask  uint32
	lowMask   uint32
	spares    [32]uint32
}

// byteOrder is the database's: the byte order of the host that wrote it.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Open reads the metadata page of a hash database of size bytes.
func Open(r io.ReaderAt, size int64) (*DB, error) {
	meta := make([]byte, metaSize)
	if n, err := r.ReadAt(meta, 0); n != metaSize {
		return nil, fmt.Errorf("berkeley db: metadata page: %d of %d bytes: %w", n, metaSize, noEOF(err))
	}
	db := &DB{r: r}
	switch magic := binary.LittleEndian.Uint32(meta[12:]); {
	case magic == hashMagic:
		db.order = binary.LittleEndian
	case bits.ReverseBytes32(magic) == hashMagic:
		db.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("berkeley db: magic %#x is not a hash database's", magic)
	}
	u := func(off int) uint32 { return db.order.Uint32(meta[off:]) }
	// rpm's bdb_ro reads hash versions 8 to 10 (Berkeley DB 4.x to 5.x)
	if v := u(16); v < 8 || v > 10 {
		return nil, fmt.Errorf("berkeley db: hash version %d: %w", v, fsroot.ErrUnsupported)
	}
	db.pageSize = u(20)
	if db.pageSize < metaSize || db.pageSize > 65536 || db.pageSize&(db.pageSize-1) != 0 {
		return nil, fmt.Errorf("berkeley db: page size %d", db.pageSize)
	}
	if meta[24] != 0 {
		return nil, fmt.Errorf("berkeley db: encrypted (algorithm %d): %w", meta[24], fsroot.ErrUnsupported)
	}
	db.lastPage, db.maxBucket, db.highMask, db.lowMask = u(32), u(72), u(76), u(80)
	// pages past the end of the file cannot be read: bounding the last
	// page by the file bounds every walk and allocation by its size
	if pages := size / int64(db.pageSize); int64(db.lastPage) >= pages {
		db.lastPage = uint32(max(pages-1, 0))
	}
	// each bucket has a page of its own
	if db.maxBucket > db.lastPage {
		return nil, fmt.Errorf("berkeley db: %d buckets in %d pages", uint64(db.maxBucket)+1, db.lastPage)
	}
	for i := range db.spares {
		db.spares[i] = u(96 + 4*i)
	}
	return db, nil
}

func noEOF(err error) error {
	if err == nil || err == io.EOF {
		return errors.New("the file ends")
	}
	return err
}

// PageSize is the database's page size.
func (db *DB) PageSize() int { return int(db.pageSize) }

// A page is one page of the file, read whole.
type page []byte

func (db *DB) u16(p page, off int) int    { return int(db.order.Uint16(p[off:])) }
func (db *DB) u32(p page, off int) uint32 { return db.order.Uint32(p[off:]) }

// page reads page n, checking that it says it is page n (as bdb_ro does).
func (db *DB) page(n uint32, buf page) (page, error) {
	if n == 0 || n > db.lastPage {
		return nil, fmt.Errorf("berkeley db: page %d is not in the file (pages 1..%d)", n, db.lastPage)
	}
	if buf == nil {
		buf = make(page, db.pageSize)
	}
	if got, err := db.r.ReadAt(buf, int64(n)*int64(db.pageSize)); got != len(buf) {
		return nil, fmt.Errorf("berkeley db: page %d: %w", n, noEOF(err))
	}
	if pg := db.u32(buf, 8); pg != n {
		return nil, fmt.Errorf("berkeley db: page %d says it is page %d", n, pg)
	}
	return buf, nil
}

// bucketPage is the first page of a bucket (bdb_ro's hash_bucket_to_page).
func (db *DB) bucketPage(bucket uint32) uint32 {
	return bucket + db.spares[bits.Len32(bucket)%32]
}

// visits marks the pages one walk has read, so that a chain that loops
// (a corrupt or hostile file) ends.
type visits []uint64

func (db *DB) newVisits() visits { return make(visits, uint64(db.lastPage)/64+1) }

func (v visits) first(n uint32) bool {
	w, b := n/64, uint64(1)<<(n%64)
	if int(w) >= len(v) || v[w]&b != 0 {
		return false
	}
	v[w] |= b
	return true
}

// Each calls fn with each package's record number and header blob, in
// the order rpm reads them; record 0 (rpm's own bookkeeping, which rpm
// skips) is left out. A record that cannot be read is passed with its
// error, and the walk goes on where the file allows; Each returns the
// error that stopped the walk (a page that cannot be read, ctx's end, or
// fn's own error).
func (db *DB) Each(ctx context.Context, fn func(num uint32, blob []byte, err error) error) error {
	seen := db.newVisits()
	buf := make(page, db.pageSize)
	for b := uint64(0); b <= uint64(db.maxBucket); b++ {
		for n := db.bucketPage(uint32(b)); n != 0; {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !seen.first(n) {
				return fmt.Errorf("berkeley db: bucket %d: page %d is read twice (a loop)", b, n)
			}
			p, err := db.bucketChainPage(n, buf)
			if err != nil {
				return err
			}
			if err := db.pairs(p, func(key, val item) error {
				num, err := db.recordNumber(key, seen)
				if err != nil {
					return fn(0, nil, err)
				}
				if num == 0 {
					return nil
				}
				blob, err := db.value(val, seen)
				return fn(num, blob, err)
			}); err != nil {
				return err
			}
			n = db.u32(p, 16)
		}
	}
	return nil
}

// bucketChainPage reads a page of a bucket's chain.
func (db *DB) bucketChainPage(n uint32, buf page) (page, error) {
	p, err := db.page(n, buf)
	if err != nil {
		return nil, err
	}
	if t := p[25]; t != typeHash && t != typeHashOld && t != typeHashMeta {
		return nil, fmt.Errorf("berkeley db: page %d of a bucket has type %d, not a hash page", n, t)
	}
	return p, nil
}

// An item is a key or value as a hash page holds it: its bytes on the
// page, which start with the item's type.
type item []byte

// pairs calls fn with each key/value pair of a hash page. Items are stored
// from the end of the page down: an item ends where the one before it
// starts.
func (db *DB) pairs(p page, fn func(key, val item) error) error {
	n := db.u16(p, 20)
	if max := (len(p) - pageHeader) / 2; n > max {
		return fmt.Errorf("berkeley db: page %d has %d entries, room for %d", db.u32(p, 8), n, max)
	}
	end := len(p)
	for i := 0; i+1 < n; i += 2 {
		koff, voff := db.u16(p, pageHeader+2*i), db.u16(p, pageHeader+2*i+2)
		if voff < pageHeader+2*n || voff >= koff || koff >= end {
			return fmt.Errorf("berkeley db: page %d: entry %d at %d..%d..%d out of order", db.u32(p, 8), i, voff, koff, end)
		}
		if err := fn(item(p[koff:end]), item(p[voff:koff])); err != nil {
			return err
		}
		end = voff
	}
	return nil
}

// recordNumber is a Packages key: a record number, four bytes in the
// database's byte order.
func (db *DB) recordNumber(key item, seen visits) (uint32, error) {
	// a key too large for its page would be on overflow pages: a record
	// number never is, so none is read
	if len(key) == offPageLength && key[0] == itemOffPage && db.order.Uint32(key[8:]) != 4 {
		return 0, fmt.Errorf("berkeley db: a key of %d bytes, not a record number", db.order.Uint32(key[8:]))
	}
	k, err := db.value(key, seen)
	if err != nil {
		return 0, err
	}
	if len(k) != 4 {
		return 0, fmt.Errorf("berkeley db: a key of %d bytes, not a record number", len(k))
	}
	return db.order.Uint32(k), nil
}

// value returns an item's bytes, from the page or from its overflow
// pages. seen are the pages read so far: each overflow page belongs to one
// item, so a page read twice (a loop, or items sharing a chain: a corrupt
// or hostile file) is an error, and no walk or lookup reads a page twice.
func (db *DB) value(it item, seen visits) ([]byte, error) {
	if len(it) == 0 {
		return nil, errors.New("berkeley db: an empty item")
	}
	switch it[0] {
	case itemKeyData:
		// a copy: the page is a buffer the walk reads the next page
		// into, and a caller may keep what it was given
		return append([]byte(nil), it[1:]...), nil
	case itemOffPage:
		if len(it) != offPageLength {
			return nil, fmt.Errorf("berkeley db: an overflow reference of %d bytes", len(it))
		}
		return db.overflow(db.order.Uint32(it[4:]), db.order.Uint32(it[8:]), seen)
	}
	return nil, fmt.Errorf("berkeley db: item type %d (rpm's Packages has no duplicates)", it[0])
}

// overflow reads a value of length bytes from its chain of overflow pages
// (bdb_ro's ovfl_get): each page holds hf_offset bytes of it. The length
// is checked against what the file's pages can hold before anything is
// allocated.
func (db *DB) overflow(first, length uint32, seen visits) ([]byte, error) {
	if length == 0 {
		return nil, errors.New("berkeley db: an overflow value of 0 bytes")
	}
	if uint64(length) > uint64(db.lastPage)*uint64(db.pageSize-pageHeader) {
		return nil, fmt.Errorf("berkeley db: an overflow value of %d bytes, more than the file holds", length)
	}
	// grown as pages are read, not allocated at the length the item
	// claims: a page is read once, so a walk allocates about what it reads
	out := make([]byte, 0, min(length, db.pageSize))
	buf := make(page, db.pageSize)
	for n := first; uint32(len(out)) < length; {
		if !seen.first(n) {
			return nil, fmt.Errorf("berkeley db: overflow chain from page %d: page %d is read twice (a loop, or a chain items share)", first, n)
		}
		p, err := db.page(n, buf)
		if err != nil {
			return nil, fmt.Errorf("overflow chain from page %d: %w", first, err)
		}
		if p[25] != typeOverflow {
			return nil, fmt.Errorf("berkeley db: overflow chain from page %d: page %d has type %d", first, n, p[25])
		}
		used := db.u16(p, 22)
		if used == 0 || pageHeader+used > len(p) || used > int(length)-len(out) {
			return nil, fmt.Errorf("berkeley db: overflow chain from page %d: page %d holds %d bytes", first, n, used)
		}
		out = append(out, p[pageHeader:pageHeader+used]...)
		n = db.u32(p, 16)
	}
	return out, nil
}

// Get returns the header blob of record num, found as rpm finds it: the
// key's hash names its bucket, whose chain holds the key.
func (db *DB) Get(num uint32) ([]byte, error) {
	key := db.order.AppendUint32(nil, num)
	var h uint32
	for _, c := range key {
		h = h*16777619 ^ uint32(c)
	}
	bucket := h & db.highMask
	if bucket > db.maxBucket {
		bucket &= db.lowMask
	}
	seen := db.newVisits()
	buf := make(page, db.pageSize)
	errFound := errors.New("found")
	var blob []byte
	var blobErr error
	for n := db.bucketPage(bucket); n != 0; {
		if !seen.first(n) {
			return nil, fmt.Errorf("berkeley db: bucket %d: page %d is read twice (a loop)", bucket, n)
		}
		p, err := db.bucketChainPage(n, buf)
		if err != nil {
			return nil, err
		}
		err = db.pairs(p, func(k, v item) error {
			if got, err := db.recordNumber(k, seen); err != nil || got != num {
				return nil
			}
			blob, blobErr = db.value(v, seen)
			return errFound
		})
		if err == errFound {
			return blob, blobErr
		}
		if err != nil {
			return nil, err
		}
		n = db.u32(p, 16)
	}
	return nil, fmt.Errorf("berkeley db: no record %d", num)
}
