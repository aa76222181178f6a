// Package ndb reads rpm's NDB package database (Packages.db: SUSE, and rpm
// built with --enable-ndb) from an io.ReaderAt, never by name, as rpm's
// lib/backend/ndb/rpmpkg.c reads it: a 32-byte header, slot pages that say
// where each package's blob lies (in 16-byte blocks), and the blobs, each
// framed by a head and a tail that repeat its package index and length.
//
// Every number in the file is checked before it is used to read or
// allocate: a blob is no larger than the file, slots lie in the slot pages
// the header counts, so a corrupt or hostile file is an error, never a
// panic, a loop or an allocation beyond the file's size.
package ndb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// rpmpkg.c's constants. All numbers in the file are little-endian.
const (
	pageSize   = 4096
	slotSize   = 16
	blockSize  = 16
	headerSize = 32 // the file header, which takes the first two slots
	blobHead   = 16 // magic, package index, generation, length
	blobTail   = 12 // adler32, length, magic
	version    = 0

	dbMagic   = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	slotMagic = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	headMagic = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	tailMagic = 'B' | 'l'<<8 | 'b'<<16 | 'E'<<24

	// slot and block numbers fit in 32 bits (PKGDB_MAX_SLOTNPAGES)
	maxSlotPages = 0xffffffff / (pageSize / blockSize)
)

var le = binary.LittleEndian

// A slot says where one package's blob lies.
type slot struct {
	pkgidx, blkoff, blkcnt uint32
}

// DB is an open Packages.db.
type DB struct {
	r      io.ReaderAt
	slots  []slot // in file order (rpm's list order)
	byIdx  map[uint32]slot
	blocks uint32 // the file's size in blocks
}

// Open reads the header and the slot pages (rpmpkgReadHeader,
// rpmpkgReadSlots); size is the file's size.
func Open(r io.ReaderAt, size int64) (*DB, error) {
	h := make([]byte, headerSize)
	if n, err := r.ReadAt(h, 0); n != headerSize {
		return nil, fmt.Errorf("ndb: header: %w", noEOF(err))
	}
	if le.Uint32(h) != dbMagic {
		return nil, fmt.Errorf("ndb: magic %#x is not rpm's NDB", le.Uint32(h))
	}
	if v := le.Uint32(h[4:]); v != version {
		return nil, fmt.Errorf("ndb: version %d, not %d: %w", v, version, fsroot.ErrUnsupported)
	}
	slotPages := le.Uint32(h[12:])
	if slotPages > maxSlotPages {
		return nil, fmt.Errorf("ndb: %d slot pages", slotPages)
	}
	if size%blockSize != 0 || size/blockSize >= 0xffffffff {
		return nil, fmt.Errorf("ndb: a file of %d bytes is not whole blocks", size)
	}
	if int64(slotPages)*pageSize > size {
		return nil, fmt.Errorf("ndb: %d slot pages in a file of %d bytes", slotPages, size)
	}
	db := &DB{r: r, byIdx: map[uint32]slot{}, blocks: uint32(size / blockSize)}
	minOff := slotPages * (pageSize / blockSize)
	buf := make([]byte, pageSize)
	for p := uint32(0); p < slotPages; p++ {
		if n, err := r.ReadAt(buf, int64(p)*pageSize); n != pageSize {
			return nil, fmt.Errorf("ndb: slot page %d: %w", p, noEOF(err))
		}
		start := 0
		if p == 0 {
			start = headerSize
		}
		for o := start; o < pageSize; o += slotSize {
			b := buf[o : o+slotSize]
			if le.Uint32(b) != slotMagic {
				return nil, fmt.Errorf("ndb: slot page %d: no slot at %d", p, o)
			}
			s := slot{pkgidx: le.Uint32(b[4:]), blkoff: le.Uint32(b[8:]), blkcnt: le.Uint32(b[12:])}
			if s.blkoff == 0 {
				continue // a free slot
			}
			if s.blkoff >= 0xffffffff-s.blkcnt || s.blkoff+s.blkcnt > db.blocks {
				return nil, fmt.Errorf("ndb: package %d lies past the end of the file (truncated)", s.pkgidx)
			}
			if s.pkgidx == 0 || s.blkcnt == 0 || s.blkoff < minOff {
				return nil, fmt.Errorf("ndb: slot page %d: a bad slot at %d", p, o)
			}
			db.slots = append(db.slots, s)
			if _, dup := db.byIdx[s.pkgidx]; !dup {
				db.byIdx[s.pkgidx] = s
			}
		}
	}
	// rpm lists packages in the order of their blobs (rpmpkgOrderSlots)
	sort.SliceStable(db.slots, func(i, j int) bool { return db.slots[i].blkoff < db.slots[j].blkoff })
	return db, nil
}

func noEOF(err error) error {
	if err == nil || err == io.EOF {
		return errors.New("the file ends")
	}
	return err
}

// Len is the number of packages.
func (db *DB) Len() int { return len(db.slots) }

// Each calls fn with each package's index and header blob in rpm's
// order; a blob that cannot be read is passed with its error. Each returns
// ctx's error or fn's.
func (db *DB) Each(ctx context.Context, fn func(num uint32, blob []byte, err error) error) error {
	end := uint32(0)
	for _, s := range db.slots {
		if err := ctx.Err(); err != nil {
			return err
		}
		var blob []byte
		var err error
		// blobs never overlap in a database rpm wrote; refusing those that
		// do keeps a walk from reading more than the file
		if s.blkoff < end {
			err = fmt.Errorf("ndb: package %d overlaps the package before it", s.pkgidx)
		} else {
			blob, err = db.blob(s)
			end = s.blkoff + s.blkcnt
		}
		if err := fn(s.pkgidx, blob, err); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the header blob of package index num.
func (db *DB) Get(num uint32) ([]byte, error) {
	s, ok := db.byIdx[num]
	if !ok {
		return nil, fmt.Errorf("ndb: no package %d", num)
	}
	return db.blob(s)
}

// blob reads a slot's blob (rpmpkgReadBlob): the head names the slot's
// package and the blob's length, which must fill the slot's blocks; the
// tail at the end of the blocks repeats the length. Like rpm when it
// reads a package, the tail's adler32 is not checked (rpm checks it only
// when verifying the database).
func (db *DB) blob(s slot) ([]byte, error) {
	if uint64(s.blkcnt)*blockSize < blobHead+blobTail {
		return nil, fmt.Errorf("ndb: package %d: %d blocks", s.pkgidx, s.blkcnt)
	}
	off := int64(s.blkoff) * blockSize
	head := make([]byte, blobHead)
	if n, err := db.r.ReadAt(head, off); n != blobHead {
		return nil, fmt.Errorf("ndb: package %d: %w", s.pkgidx, noEOF(err))
	}
	if le.Uint32(head) != headMagic || le.Uint32(head[4:]) != s.pkgidx {
		return nil, fmt.Errorf("ndb: package %d: no blob where its slot points", s.pkgidx)
	}
	length := le.Uint32(head[12:])
	if (blobHead+uint64(length)+blobTail+blockSize-1)/blockSize != uint64(s.blkcnt) {
		return nil, fmt.Errorf("ndb: package %d: a blob of %d bytes in %d blocks", s.pkgidx, length, s.blkcnt)
	}
	tail := make([]byte, blobTail)
	end := off + int64(s.blkcnt)*blockSize
	if n, err := db.r.ReadAt(tail, end-blobTail); n != blobTail {
		return nil, fmt.Errorf("ndb: package %d: %w", s.pkgidx, noEOF(err))
	}
	if le.Uint32(tail[4:]) != length || le.Uint32(tail[8:]) != tailMagic {
		return nil, fmt.Errorf("ndb: package %d: its blob's tail does not match its head", s.pkgidx)
	}
	blob := make([]byte, length)
	if n, err := db.r.ReadAt(blob, off+blobHead); n != int(length) {
		return nil, fmt.Errorf("ndb: package %d: %w", s.pkgidx, noEOF(err))
	}
	return blob, nil
}
