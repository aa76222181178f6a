package ndb

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// build writes an NDB Packages.db of one slot page holding blobs, the
// package index of blob i being i+1, as rpmpkg.c lays one out: header,
// slots, then each blob framed by head and tail in whole blocks.
func build(blobs ...[]byte) []byte {
	out := make([]byte, pageSize)
	le.PutUint32(out, dbMagic)
	le.PutUint32(out[8:], 1) // generation
	le.PutUint32(out[12:], 1)
	le.PutUint32(out[16:], uint32(len(blobs)+1))
	for o := headerSize; o < pageSize; o += slotSize {
		le.PutUint32(out[o:], slotMagic)
	}
	for i, b := range blobs {
		blocks := (blobHead + len(b) + blobTail + blockSize - 1) / blockSize
		s := out[headerSize+i*slotSize:]
		le.PutUint32(s[4:], uint32(i+1))
		le.PutUint32(s[8:], uint32(len(out)/blockSize))
		le.PutUint32(s[12:], uint32(blocks))
		blob := make([]byte, blocks*blockSize)
		le.PutUint32(blob, headMagic)
		le.PutUint32(blob[4:], uint32(i+1))
		le.PutUint32(blob[12:], uint32(len(b)))
		copy(blob[blobHead:], b)
		le.PutUint32(blob[len(blob)-8:], uint32(len(b)))
		le.PutUint32(blob[len(blob)-4:], tailMagic)
		out = append(out, blob...)
	}
	return out
}

func sample() [][]byte {
	return [][]byte{[]byte("first header"), bytes.Repeat([]byte("second "), 100), {}}
}

func TestRecords(t *testing.T) {
	data := build(sample()...)
	db, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = db.Each(context.Background(), func(num uint32, blob []byte, err error) error {
		if err != nil {
			return err
		}
		got = append(got, fmt.Sprintf("%d:%s", num, blob))
		if b, err := db.Get(num); err != nil || !bytes.Equal(b, blob) {
			t.Errorf("Get(%d): %q %v", num, b, err)
		}
		return nil
	})
	want := []string{"1:first header", "2:" + string(sample()[1]), "3:"}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read %q, %v", got, err)
	}
}

type damage struct {
	name   string
	change func(d []byte) []byte
	want   string
}

var damages = []damage{
	{"truncated", func(d []byte) []byte { return d[:len(d)-16] }, "truncated"},
	{"not whole blocks", func(d []byte) []byte { return d[:len(d)-1] }, "not whole blocks"},
	{"not NDB", func(d []byte) []byte { d[0] = 'X'; return d }, "not rpm's NDB"},
	{"slot pages past the end", func(d []byte) []byte { le.PutUint32(d[12:], 1000); return d }, "slot pages in a file"},
	{"no slot", func(d []byte) []byte { d[pageSize-16] = 0; return d }, "no slot at"},
	{"slot into the slot pages", func(d []byte) []byte { le.PutUint32(d[headerSize+8:], 1); return d }, "bad slot"},
	{"blob of another package", func(d []byte) []byte { le.PutUint32(d[pageSize+4:], 9); return d }, "no blob where its slot points"},
	{"blob longer than its blocks", func(d []byte) []byte { le.PutUint32(d[pageSize+12:], 0xfffffff0); return d }, "blocks"},
	{"tail does not match", func(d []byte) []byte { le.PutUint32(d[pageSize+48-8:], 3); return d }, "tail does not match"},
	{"overlapping blobs", func(d []byte) []byte { copy(d[headerSize+16+4:], d[headerSize+4:headerSize+16]); return d }, "overlaps"},
	{"huge block count", func(d []byte) []byte { le.PutUint32(d[headerSize+12:], 0xfffffff0); return d }, "truncated"},
}

func TestDamaged(t *testing.T) {
	for _, c := range damages {
		t.Run(c.name, func(t *testing.T) {
			data := c.change(build(sample()...))
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
		})
	}
}

// realDB is SUSE's: the Packages.db of a SLE 15 SP3 BCI base image, as
// github.com/knqyf263/go-rpmdb added it to its testdata in commit
// 1369b2ee40b7 (see rpmdb's TestNDBAgainstRPM, its oracle).
const realDB = "testdata/sle15-bci/Packages.db"

func FuzzNDB(f *testing.F) {
	f.Add(build(sample()...))
	for _, c := range damages {
		f.Add(c.change(build(sample()...)))
	}
	if real, err := os.ReadFile(realDB); err == nil {
		f.Add(real[:2*pageSize]) // its slots, and the blobs cut off
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		n, total := 0, 0
		db.Each(context.Background(), func(num uint32, blob []byte, err error) error {
			if total += len(blob); total > len(data) {
				t.Fatalf("read %d bytes of blobs from %d", total, len(data))
			}
			if n++; n < 8 {
				db.Get(num)
			}
			return nil
		})
	})
}
