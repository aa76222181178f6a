package rpmdb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RPM header tags read here (rpm's rpmtag.h).
const (
	TagName           = 1000
	TagVersion        = 1001
	TagRelease        = 1002
	TagFileDigests    = 1035 // FILEMD5S in rpm < 4.6: the same tag
	TagDirIndexes     = 1116
	TagBaseNames      = 1117
	TagDirNames       = 1118
	TagFileDigestAlgo = 5011
)

// AlgoMD5 is PGPHASHALGO_MD5, the file digest algorithm of a header
// without FILEDIGESTALGO (rpm < 4.6 recorded only MD5).
const AlgoMD5 = 1

// Header is a parsed header blob: the index entries and the data store.
// It keeps the blob, so every tag stays readable.
type Header struct {
	entries map[int32]entry
	store   []byte
}

type entry struct {
	typ, offset, count int32
}

// Header entry types (rpm's rpmTagType).
const (
	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

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
	h := &Header{entries: make(map[int32]entry, il), store: b[8+il*16 : 8+il*16+dl]}
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
	if !ok || (e.typ != typeString && e.typ != typeStringArray && e.typ != typeI18NString) || e.offset < 0 || int(e.offset) > len(h.store) {
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
		if e.typ == typeString {
			break
		}
	}
	return out
}

// String returns a string tag's first value, "" when it has none.
func (h *Header) String(tag int32) string {
	if s := h.Strings(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

// Ints returns an INT32 tag's values.
func (h *Header) Ints(tag int32) []int32 {
	e, ok := h.entries[tag]
	if !ok || e.typ != typeInt32 || e.offset < 0 || e.count < 0 || int64(e.offset)+int64(e.count)*4 > int64(len(h.store)) {
		return nil
	}
	out := make([]int32, e.count)
	for i := range out {
		out[i] = int32(binary.BigEndian.Uint32(h.store[int(e.offset)+i*4:]))
	}
	return out
}

// Has reports whether the header has tag.
func (h *Header) Has(tag int32) bool {
	_, ok := h.entries[tag]
	return ok
}

// File is one file of a package as rpm recorded it.
type File struct {
	Path   string
	Digest string // hex, "" when rpm recorded none (directories, links, ghosts)
	Algo   int32  // the digest's PGPHASHALGO_* algorithm
}

// DigestAlgo is the algorithm of the header's file digests.
func (h *Header) DigestAlgo() int32 {
	if a := h.Ints(TagFileDigestAlgo); len(a) > 0 {
		return a[0]
	}
	return AlgoMD5
}

// Files lists the package's files: each base name joined to its directory
// (rpm's compressed file list). A list whose arrays disagree is an error:
// the header is damaged.
func (h *Header) Files() ([]File, error) {
	bases := h.Strings(TagBaseNames)
	if len(bases) == 0 {
		return nil, nil
	}
	dirs, dirIdx := h.Strings(TagDirNames), h.Ints(TagDirIndexes)
	if len(dirIdx) != len(bases) {
		return nil, fmt.Errorf("header: %d base names, %d directory indexes", len(bases), len(dirIdx))
	}
	digests, algo := h.Strings(TagFileDigests), h.DigestAlgo()
	out := make([]File, len(bases))
	for i, b := range bases {
		d := dirIdx[i]
		if d < 0 || int(d) >= len(dirs) {
			return nil, fmt.Errorf("header: file %d names directory %d of %d", i, d, len(dirs))
		}
		out[i] = File{Path: dirs[d] + b, Algo: algo}
		if i < len(digests) {
			out[i].Digest = digests[i]
		}
	}
	return out, nil
}
