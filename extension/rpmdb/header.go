package rpmdb

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// RPM header tags (rpm's rpmtag.h). The script tags are for readers of
// scriptlets: a header keeps every tag, read with the accessors below.
const (
	TagHeaderImage      = 61 // region tags: the first entry of a header
	TagHeaderSignatures = 62
	TagHeaderImmutable  = 63
	TagI18NTable        = 100 // the locales of I18NSTRING values
	TagSHA1Header       = 269 // digests of the immutable region, from the package's signature
	TagSHA256Header     = 273

	TagName              = 1000
	TagVersion           = 1001
	TagRelease           = 1002
	TagEpoch             = 1003
	TagInstallTime       = 1008
	TagArch              = 1022
	TagPreIn             = 1023
	TagPostIn            = 1024
	TagPreUn             = 1025
	TagPostUn            = 1026
	TagOldFileNames      = 1027 // full paths, in headers older than rpm 4's compressed file lists
	TagFileDigests       = 1035 // FILEMD5S in rpm < 4.6: the same tag
	TagTriggerScripts    = 1065
	TagPreInProg         = 1085
	TagPostInProg        = 1086
	TagPreUnProg         = 1087
	TagPostUnProg        = 1088
	TagTriggerScriptProg = 1092
	TagDirIndexes        = 1116
	TagBaseNames         = 1117
	TagDirNames          = 1118
	TagFileDigestAlgo    = 5011
)

// Header entry types (rpm's rpmTagType).
const (
	TypeNull        = 0
	TypeChar        = 1
	TypeInt8        = 2
	TypeInt16       = 3
	TypeInt32       = 4
	TypeInt64       = 5
	TypeString      = 6
	TypeBin         = 7
	TypeStringArray = 8
	TypeI18NString  = 9
)

// typeSizes are the bytes of one value of each type; 0 for the string
// types, whose values end in NUL, and for NULL, which holds nothing.
var typeSizes = [...]int64{TypeChar: 1, TypeInt8: 1, TypeInt16: 2, TypeInt32: 4, TypeInt64: 8, TypeBin: 1, TypeI18NString: 0}

// The bounds rpm's header reader sets (lib/header.c): a header has at most
// 0xffff entries and 256 MiB of data, an array (not BIN) at most 0xfffff
// values.
const (
	MaxHeaderEntries = 0x0000ffff
	maxHeaderData    = 0x0fffffff
	maxHeaderBytes   = 256 << 20
	maxArray         = 0x000fffff
	entrySize        = 16
)

// AlgoMD5 is PGPHASHALGO_MD5, the file digest algorithm of a header
// without FILEDIGESTALGO (rpm < 4.6 recorded only MD5).
const AlgoMD5 = 1

// Header is a parsed header blob. It keeps the blob, so every tag stays
// readable.
type Header struct {
	entries map[int32]Entry
	region  []byte // what rpm's header digests cover: magic, ril, rdl, the region's entries and data
}

// Entry is one tag's value: its type, its count and its bytes as the
// header stores them (big-endian numbers, NUL-terminated strings).
type Entry struct {
	Type  int32
	Count int
	data  []byte
}

// ParseHeader reads a header blob as rpm stores it in its database (no
// magic: index length, data length, the index entries, the data), with the
// checks rpm makes before it uses one (hdrblobInit: hdrblobVerifyRegion,
// hdrblobVerifyInfo), so a header rpm refuses is refused here too. Entries
// appended after the immutable region at install time replace those of the
// region with the same tag, as rpm's hdrblobImport has them do.
func ParseHeader(b []byte) (*Header, error) {
	if len(b) < 8 {
		return nil, errors.New("header: shorter than its lengths")
	}
	il, dl := int64(binary.BigEndian.Uint32(b)), int64(binary.BigEndian.Uint32(b[4:]))
	if il > MaxHeaderEntries || dl > maxHeaderData {
		return nil, fmt.Errorf("header: %d entries, %d bytes of data: out of range", il, dl)
	}
	if size := 8 + il*entrySize + dl; size >= maxHeaderBytes || size != int64(len(b)) {
		return nil, fmt.Errorf("header: %d entries and %d bytes of data in a blob of %d bytes", il, dl, len(b))
	}
	index, data := b[8:8+il*entrySize], b[8+il*entrySize:]
	info := func(i int64) (tag, typ, off, count int64) {
		e := index[i*entrySize:]
		return int64(int32(binary.BigEndian.Uint32(e))), int64(binary.BigEndian.Uint32(e[4:])),
			int64(int32(binary.BigEndian.Uint32(e[8:]))), int64(binary.BigEndian.Uint32(e[12:]))
	}
	region, ril, rdl, err := verifyRegion(il, dl, data, info)
	if err != nil {
		return nil, err
	}
	h := &Header{entries: make(map[int32]Entry, il)}
	if region != 0 {
		h.region = append([]byte{}, headerMagic...)
		h.region = binary.BigEndian.AppendUint32(h.region, uint32(ril))
		h.region = binary.BigEndian.AppendUint32(h.region, uint32(rdl))
		h.region = append(append(h.region, index[:ril*entrySize]...), data[:rdl]...)
	}
	first, end, packed, prevTag := int64(0), int64(0), int64(0), int64(-1)
	if region != 0 {
		first = 1
	}
	for i := first; i < il; i++ {
		tag, typ, off, count := info(i)
		inRegion := region != 0 && i < ril
		bad := func(why string) error {
			return fmt.Errorf("header: entry %d (tag %d type %d offset %d count %d): %s", i, tag, typ, off, count, why)
		}
		switch {
		case off < end:
			return nil, bad("overlaps the entry before it")
		case tag < TagI18NTable:
			return nil, bad("not a tag a header entry may have")
		case typ > TypeI18NString:
			return nil, bad("no such type")
		case count < 1 || count > dl:
			return nil, bad("count out of range")
		case typ != TypeBin && count > maxArray:
			return nil, bad("more values than rpm reads")
		case off > dl:
			return nil, bad("offset past the data")
		case typeSizes[typ] > 1 && off%typeSizes[typ] != 0:
			return nil, bad("misaligned")
		case (region == TagHeaderImmutable || region == TagHeaderImage) && !typeFits(int32(tag), int32(typ)):
			return nil, bad("the wrong type for its tag")
		case inRegion && tag <= prevTag:
			return nil, bad("not after the tag before it")
		}
		if inRegion {
			prevTag = tag
		}
		n, err := dataLength(typ, count, data[off:])
		if err != nil {
			return nil, bad(err.Error())
		}
		end = off + n
		if region != 0 && end > rdl-entrySize && off < rdl {
			return nil, bad("overlaps the region's trailer")
		}
		h.entries[int32(tag)] = Entry{Type: int32(typ), Count: int(count), data: data[off:end]}
		if sz := typeSizes[typ]; sz > 1 && packed%sz != 0 {
			packed += sz - packed%sz
		}
		packed += n
	}
	// the values fill the data, each aligned to its size, the region's
	// trailer besides (hdrblobImport's rdlen)
	if region != 0 {
		packed += entrySize
	}
	if packed != dl {
		return nil, fmt.Errorf("header: its values take %d bytes of its %d of data", packed, dl)
	}
	return h, nil
}

// headerMagic starts a header in a package file or an exported list.
var headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}

// CheckDigests compares the header's immutable region with the digests
// rpm recorded of it (SHA1HEADER, SHA256HEADER), as rpm does each time it
// reads a header from its database (rpmdbNextIterator skips a header
// whose digest is BAD). A header without them, or without a region, has
// nothing to check.
func (h *Header) CheckDigests() error {
	if h.region == nil {
		return nil
	}
	for _, d := range []struct {
		tag  int32
		name string
		sum  func([]byte) []byte
	}{
		{TagSHA1Header, "SHA1", func(b []byte) []byte { s := sha1.Sum(b); return s[:] }},
		{TagSHA256Header, "SHA256", func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
	} {
		e, ok := h.entries[d.tag]
		if !ok {
			continue
		}
		if want, got := h.String(d.tag), hex.EncodeToString(d.sum(h.region)); e.Type != TypeString || want != got {
			return fmt.Errorf("header %s digest: BAD (recorded %q, the header's is %s)", d.name, want, got)
		}
	}
	return nil
}

// verifyRegion checks the header's region (rpm's hdrblobVerifyRegion):
// a first entry with a region tag is of type BIN and count 16, and points
// at a trailer inside the data that repeats the tag and gives the region's
// size: its ril entries and rdl bytes of data. A header without one
// (rpm < 4.0.1) has region 0.
func verifyRegion(il, dl int64, data []byte, info func(int64) (tag, typ, off, count int64)) (region int32, ril, rdl int64, err error) {
	if il < 1 {
		return 0, 0, 0, errors.New("header: no entries")
	}
	tag, typ, off, count := info(0)
	if tag != TagHeaderImage && tag != TagHeaderSignatures && tag != TagHeaderImmutable {
		return 0, 0, 0, nil
	}
	if typ != TypeBin || count != entrySize {
		return 0, 0, 0, fmt.Errorf("header: region tag %d of type %d count %d", tag, typ, count)
	}
	if off < 0 || off+entrySize > dl {
		return 0, 0, 0, fmt.Errorf("header: region %d's trailer at %d is not in the data", tag, off)
	}
	t := data[off:]
	ttag, ttyp := int64(int32(binary.BigEndian.Uint32(t))), int64(binary.BigEndian.Uint32(t[4:]))
	toff, tcount := -int64(int32(binary.BigEndian.Uint32(t[8:]))), int64(binary.BigEndian.Uint32(t[12:]))
	if tag == TagHeaderSignatures && ttag == TagHeaderImage {
		ttag = TagHeaderSignatures // as rpm fixes up old packages' signature trailers
	}
	if ttag != tag || ttyp != TypeBin || tcount != entrySize {
		return 0, 0, 0, fmt.Errorf("header: region %d's trailer says tag %d type %d count %d", tag, ttag, ttyp, tcount)
	}
	if ril = toff / entrySize; toff%entrySize != 0 || ril < 0 || ril > il {
		return 0, 0, 0, fmt.Errorf("header: region %d of %d bytes of entries, in a header of %d entries", tag, toff, il)
	}
	return int32(tag), ril, off + entrySize, nil
}

// dataLength is the bytes count values of type typ take at the start of
// data (rpm's dataLength): strings up to their NULs, which must be there.
func dataLength(typ, count int64, data []byte) (int64, error) {
	switch typ {
	case TypeString, TypeStringArray, TypeI18NString:
		if typ == TypeString && count != 1 {
			return 0, errors.New("a STRING of more than one value")
		}
		n := int64(0)
		for i := int64(0); i < count; i++ {
			end := bytes.IndexByte(data[n:], 0)
			if end < 0 {
				return 0, errors.New("a string runs past the data")
			}
			n += int64(end) + 1
		}
		return n, nil
	case TypeNull:
		return 0, errors.New("a NULL entry")
	}
	n := typeSizes[typ] * count
	if n > int64(len(data)) {
		return 0, errors.New("values run past the data")
	}
	return n, nil
}

// tagTypes are the types of the tags read here (rpm's tag table). rpm
// refuses a package header whose known tags have another type, except that
// a string tag may have any of the string types (hdrchkTagType).
var tagTypes = map[int32]int32{
	TagName: TypeString, TagVersion: TypeString, TagRelease: TypeString, TagArch: TypeString,
	TagEpoch: TypeInt32, TagInstallTime: TypeInt32, TagFileDigestAlgo: TypeInt32, TagDirIndexes: TypeInt32,
	TagOldFileNames: TypeStringArray, TagFileDigests: TypeStringArray, TagBaseNames: TypeStringArray, TagDirNames: TypeStringArray,
}

func typeFits(tag, typ int32) bool {
	want, known := tagTypes[tag]
	return !known || typ == want || isString(want) && isString(typ)
}

func isString(typ int32) bool {
	return typ == TypeString || typ == TypeStringArray || typ == TypeI18NString
}

// Get returns a tag's entry.
func (h *Header) Get(tag int32) (Entry, bool) {
	e, ok := h.entries[tag]
	return e, ok
}

// Has reports whether the header has tag.
func (h *Header) Has(tag int32) bool {
	_, ok := h.entries[tag]
	return ok
}

// Strings returns a STRING, STRING_ARRAY or I18NSTRING tag's values (nil
// for a tag of another type). An I18NSTRING has one value per locale of
// the header's I18NTABLE, the first being the C locale's.
func (h *Header) Strings(tag int32) []string {
	e, ok := h.entries[tag]
	if !ok || !isString(e.Type) {
		return nil
	}
	out := make([]string, 0, e.Count)
	for rest := e.data; len(rest) > 0; {
		end := bytes.IndexByte(rest, 0) // ParseHeader found every NUL
		out = append(out, string(rest[:end]))
		rest = rest[end+1:]
	}
	return out
}

// String returns a string tag's first value (an I18NSTRING's C-locale
// one), "" when it has none.
func (h *Header) String(tag int32) string {
	if s := h.Strings(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

// Int32s returns an INT32 tag's values (nil for a tag of another type).
func (h *Header) Int32s(tag int32) []int32 {
	return numbers(h, tag, TypeInt32, func(b []byte) int32 { return int32(binary.BigEndian.Uint32(b)) })
}

// Int32 returns an INT32 tag's first value, and whether it has one.
func (h *Header) Int32(tag int32) (int32, bool) {
	if v := h.Int32s(tag); len(v) > 0 {
		return v[0], true
	}
	return 0, false
}

// Uint16s returns an INT16 tag's values (file modes, say; nil for a tag
// of another type).
func (h *Header) Uint16s(tag int32) []uint16 {
	return numbers(h, tag, TypeInt16, binary.BigEndian.Uint16)
}

// numbers decodes the values of a tag of number type typ, each from its
// bytes.
func numbers[T any](h *Header, tag, typ int32, decode func([]byte) T) []T {
	e, ok := h.entries[tag]
	if !ok || e.Type != typ {
		return nil
	}
	size := int(typeSizes[typ])
	out := make([]T, e.Count)
	for i := range out {
		out[i] = decode(e.data[size*i:])
	}
	return out
}

// Bytes returns a BIN, CHAR or INT8 tag's bytes (nil for another type).
func (h *Header) Bytes(tag int32) []byte {
	e, ok := h.entries[tag]
	if !ok || (e.Type != TypeBin && e.Type != TypeChar && e.Type != TypeInt8) {
		return nil
	}
	return e.data
}

// File is one file of a package as rpm recorded it.
type File struct {
	Path   string
	Digest string // hex, "" when rpm recorded none (directories, links, ghosts)
	Algo   int32  // the digest's PGPHASHALGO_* algorithm
}

// DigestAlgo is the algorithm of the header's file digests.
func (h *Header) DigestAlgo() int32 {
	if a, ok := h.Int32(TagFileDigestAlgo); ok {
		return a
	}
	return AlgoMD5
}

// Files lists the package's files: each base name joined to its
// directory (rpm's compressed file list), or the full paths of a header
// that predates it (OLDFILENAMES). Arrays that disagree are an error: the
// header is damaged.
func (h *Header) Files() ([]File, error) {
	var paths []string
	if bases := h.Strings(TagBaseNames); len(bases) > 0 {
		dirs, dirIdx := h.Strings(TagDirNames), h.Int32s(TagDirIndexes)
		if len(dirIdx) != len(bases) {
			return nil, fmt.Errorf("header: %d base names, %d directory indexes", len(bases), len(dirIdx))
		}
		paths = make([]string, len(bases))
		for i, b := range bases {
			d := dirIdx[i]
			if d < 0 || int(d) >= len(dirs) {
				return nil, fmt.Errorf("header: file %d names directory %d of %d", i, d, len(dirs))
			}
			paths[i] = dirs[d] + b
		}
	} else {
		paths = h.Strings(TagOldFileNames)
	}
	digests, algo := h.Strings(TagFileDigests), h.DigestAlgo()
	if len(digests) != 0 && len(digests) != len(paths) {
		return nil, fmt.Errorf("header: %d file digests for %d files", len(digests), len(paths))
	}
	out := make([]File, len(paths))
	for i, p := range paths {
		out[i] = File{Path: p, Algo: algo}
		if len(digests) > 0 {
			out[i].Digest = digests[i]
		}
	}
	return out, nil
}
