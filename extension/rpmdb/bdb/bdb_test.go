package bdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"
)

// record is one key/value pair of a database built for a test.
type record struct {
	num  uint32
	blob []byte
}

// build writes a Berkeley DB hash database of 512-byte pages, in byte order
// o, with one bucket (page 1) holding the records; a blob longer than 64
// bytes goes to a chain of overflow pages after it, as Berkeley DB puts
// large items. It follows the layout db_page.h describes.
func build(o byteOrder, recs ...record) []byte { return buildBuckets(o, recs) }

// buildBuckets is build with a bucket per list of records: bucket b is
// page b+1 (every spares entry 1), its overflow pages after the buckets.
func buildBuckets(o byteOrder, buckets ...[]record) []byte {
	const ps = 512
	pages := [][]byte{make([]byte, ps)}
	for range buckets {
		pages = append(pages, make([]byte, ps))
	}
	newPage := func(typ byte) (int, []byte) {
		p := make([]byte, ps)
		o.PutUint32(p[8:], uint32(len(pages)))
		p[25] = typ
		pages = append(pages, p)
		return len(pages) - 1, p
	}
	for b, recs := range buckets {
		bucket := pages[b+1]
		o.PutUint32(bucket[8:], uint32(b+1))
		bucket[25] = typeHash
		top, n := ps, 0
		put := func(it []byte) {
			top -= len(it)
			copy(bucket[top:], it)
			o.PutUint16(bucket[pageHeader+2*n:], uint16(top))
			n++
		}
		for _, r := range recs {
			put(append([]byte{itemKeyData}, o.AppendUint32(nil, r.num)...))
			if len(r.blob) <= 64 {
				put(append([]byte{itemKeyData}, r.blob...))
				continue
			}
			ref := make([]byte, offPageLength)
			ref[0] = itemOffPage
			o.PutUint32(ref[8:], uint32(len(r.blob)))
			var prev []byte
			for rest := r.blob; len(rest) > 0; {
				num, p := newPage(typeOverflow)
				chunk := rest[:min(len(rest), ps-pageHeader)]
				copy(p[pageHeader:], chunk)
				o.PutUint16(p[22:], uint16(len(chunk)))
				rest = rest[len(chunk):]
				if prev == nil {
					o.PutUint32(ref[4:], uint32(num))
				} else {
					o.PutUint32(prev[16:], uint32(num))
				}
				prev = p
			}
			put(ref)
		}
		o.PutUint16(bucket[20:], uint16(n))
	}
	meta := pages[0]
	o.PutUint32(meta[12:], hashMagic)
	o.PutUint32(meta[16:], 9)
	o.PutUint32(meta[20:], ps)
	meta[25] = typeHashMeta
	o.PutUint32(meta[32:], uint32(len(pages)-1))
	o.PutUint32(meta[72:], uint32(len(buckets)-1)) // max_bucket
	for i := 0; i < 32 && i < (ps-96)/4; i++ {
		o.PutUint32(meta[96+4*i:], 1) // spares: bucket b is page b+1
	}
	return bytes.Join(pages, nil)
}

var orders = []byteOrder{binary.LittleEndian, binary.BigEndian}

func sample() []record {
	return []record{
		{0, []byte{0, 0, 0, 9}}, // rpm's bookkeeping record, never a package
		{1, []byte("small header")},
		{7, bytes.Repeat([]byte("a header spanning overflow pages "), 40)},
		{3, []byte(strings.Repeat("x", 487))}, // fills one overflow page exactly
	}
}

// all reads every record, failing on any error.
func all(t *testing.T, data []byte) map[uint32]string {
	t.Helper()
	db, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32]string{}
	err = db.Each(context.Background(), func(num uint32, blob []byte, err error) error {
		if err != nil {
			return err
		}
		got[num] = string(blob)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestRecords: every record but 0 is read, in either byte order, by a
// walk and by key.
func TestRecords(t *testing.T) {
	for _, o := range orders {
		t.Run(fmt.Sprint(o), func(t *testing.T) {
			data := build(o, sample()...)
			got := all(t, data)
			db, _ := Open(bytes.NewReader(data), int64(len(data)))
			for _, r := range sample()[1:] {
				if got[r.num] != string(r.blob) {
					t.Errorf("record %d: %q", r.num, got[r.num])
				}
				if blob, err := db.Get(r.num); err != nil || string(blob) != string(r.blob) {
					t.Errorf("Get(%d): %q %v", r.num, blob, err)
				}
			}
			if len(got) != len(sample())-1 {
				t.Errorf("read %d records", len(got))
			}
			if _, err := db.Get(42); err == nil {
				t.Error("Get(42) found a record")
			}
		})
	}
}

// damage is a change to a built database and what reading it must say.
type damage struct {
	name   string
	change func(o byteOrder, data []byte) []byte
	want   string
}

var damages = []damage{
	{"truncated", func(o byteOrder, d []byte) []byte { return d[:len(d)-100] }, "is not in the file"},
	{"not a hash database", func(o byteOrder, d []byte) []byte { o.PutUint32(d[12:], 0x053162); return d }, "not a hash database"},
	{"overflow chain loops", func(o byteOrder, d []byte) []byte {
		o.PutUint32(d[2*512+16:], 2) // page 2, the first overflow page, follows itself
		return d
	}, "page 2 is read twice"},
	{"bucket chain loops", func(o byteOrder, d []byte) []byte { o.PutUint32(d[512+16:], 1); return d }, "read twice"},
	{"page says another number", func(o byteOrder, d []byte) []byte { o.PutUint32(d[512+8:], 5); return d }, "says it is page 5"},
	{"overflow page holds nothing", func(o byteOrder, d []byte) []byte { o.PutUint16(d[2*512+22:], 0); return d }, "holds 0 bytes"},
	{"entries out of order", func(o byteOrder, d []byte) []byte { o.PutUint16(d[512+pageHeader:], 3); return d }, "out of order"},
	{"too many entries", func(o byteOrder, d []byte) []byte { o.PutUint16(d[512+20:], 0xffff); return d }, "room for"},
	{"huge value", func(o byteOrder, d []byte) []byte {
		for off := 512 + pageHeader; ; off += 2 {
			if it := int(o.Uint16(d[off:])); d[512+it] == itemOffPage {
				o.PutUint32(d[512+it+8:], 0xfffffff0)
				return d
			}
		}
	}, "more than the file holds"},
	{"items share an overflow chain", func(o byteOrder, d []byte) []byte {
		var refs []int
		for off := 512 + pageHeader; off < 512+pageHeader+2*int(o.Uint16(d[512+20:])); off += 2 {
			if it := 512 + int(o.Uint16(d[off:])); d[it] == itemOffPage {
				refs = append(refs, it)
			}
		}
		copy(d[refs[1]:refs[1]+offPageLength], d[refs[0]:])
		return d
	}, "chain items share"},
	{"too many buckets", func(o byteOrder, d []byte) []byte { o.PutUint32(d[72:], 0xffffffff); return d }, "buckets in"},
}

// TestDamaged: a corrupt or truncated database is an error that says what
// is wrong, never a panic or a loop.
func TestDamaged(t *testing.T) {
	for _, o := range orders {
		for _, c := range damages {
			t.Run(fmt.Sprint(o, "/", c.name), func(t *testing.T) {
				data := c.change(o, build(o, sample()...))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				var errs []string
				db, err := Open(bytes.NewReader(data), int64(len(data)))
				if err == nil {
					err = db.Each(ctx, func(num uint32, blob []byte, err error) error {
						if err != nil {
							errs = append(errs, err.Error())
						}
						return nil
					})
				}
				if err != nil {
					errs = append(errs, err.Error())
				}
				if ctx.Err() != nil || !strings.Contains(strings.Join(errs, "; "), c.want) {
					t.Errorf("errors %q, want %q", errs, c.want)
				}
				// a lookup by key ends too, reading each page once
				if db != nil {
					done := make(chan struct{})
					go func() {
						defer close(done)
						for _, r := range sample() {
							db.Get(r.num)
						}
					}()
					select {
					case <-done:
					case <-ctx.Done():
						t.Error("Get does not end")
					}
				}
			})
		}
	}
}

// TestDeadline: a walk stops when its context ends.
func TestDeadline(t *testing.T) {
	data := build(binary.LittleEndian, sample()...)
	db, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Each(ctx, func(uint32, []byte, error) error { return nil }); err != context.Canceled {
		t.Errorf("Each after the end: %v", err)
	}
}

// FuzzBDB: any file is read to an end without a panic; memory is bounded
// by the file's size.
func FuzzBDB(f *testing.F) {
	for _, o := range orders {
		f.Add(build(o, sample()...))
		for _, c := range damages {
			f.Add(c.change(o, build(o, sample()...)))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		n, total := 0, 0
		db.Each(context.Background(), func(num uint32, blob []byte, err error) error {
			if total += len(blob); total > len(data) {
				t.Fatalf("read %d bytes of records from %d", total, len(data))
			}
			if n++; n < 8 {
				db.Get(num)
			}
			return nil
		})
	})
}

// countingReader counts the reads of a database.
type countingReader struct {
	r     *bytes.Reader
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// TestGetReadsEachPageOnce: a lookup whose overflow chain loops, each page
// giving one byte of a value as long as the file, stops at the first page
// read twice instead of reading that page for every byte.
func TestGetReadsEachPageOnce(t *testing.T) {
	o := binary.LittleEndian
	data := build(o, sample()...)
	o.PutUint32(data[2*512+16:], 2) // page 2 follows itself
	o.PutUint16(data[2*512+22:], 1) // and holds one byte
	pages := len(data) / 512
	for off := 512 + pageHeader; off < 512+pageHeader+2*int(o.Uint16(data[512+20:])); off += 2 {
		if it := 512 + int(o.Uint16(data[off:])); data[it] == itemOffPage && o.Uint32(data[it+4:]) == 2 {
			o.PutUint32(data[it+8:], uint32((pages-1)*(512-pageHeader)))
		}
	}
	r := &countingReader{r: bytes.NewReader(data)}
	db, err := Open(r, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Get(7); err == nil || !strings.Contains(err.Error(), "read twice") {
		t.Errorf("Get(7): %v", err)
	}
	if r.reads > pages+1 {
		t.Errorf("%d reads of a file of %d pages", r.reads, pages)
	}
}

// TestBlobsMayBeKept: a blob Each passed stays what it was after the walk
// goes on to the next bucket page: an item on its page (a value of a few
// bytes, as a hostile or hand-made header can be) is not a view of the
// page buffer the next page is read into.
func TestBlobsMayBeKept(t *testing.T) {
	for _, o := range orders {
		data := buildBuckets(o, []record{{1, []byte("first bucket")}}, []record{{2, []byte("second bucket")}})
		db, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		kept := map[uint32][]byte{}
		if err := db.Each(context.Background(), func(num uint32, blob []byte, err error) error {
			kept[num] = blob
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := string(kept[1]); got != "first bucket" {
			t.Errorf("%v: record 1 after the walk: %q", o, got)
		}
		if got := string(kept[2]); got != "second bucket" {
			t.Errorf("%v: record 2 after the walk: %q", o, got)
		}
	}
}
