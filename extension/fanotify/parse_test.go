package fanotify

import (
	"encoding/binary"
	"reflect"
	"testing"
)

// encode lays out one event as the kernel does: metadata, then each
// (type, entry) DFID_NAME record padded to 4 bytes.
func encode(mask uint64, fd, pid int32, recs ...any) []byte {
	ne := binary.NativeEndian
	var info []byte
	for i := 0; i < len(recs); i += 2 {
		typ, e := recs[i].(int), recs[i+1].(Entry)
		r := make([]byte, infoHdrLen+fsidLen+handleHdrLen, 64)
		r[0] = byte(typ)
		ne.PutUint32(r[4:], uint32(e.Dir.FSID[0]))
		ne.PutUint32(r[8:], uint32(e.Dir.FSID[1]))
		ne.PutUint32(r[12:], uint32(len(e.Dir.Handle)))
		ne.PutUint32(r[16:], uint32(e.Dir.Type))
		r = append(append(append(r, e.Dir.Handle...), e.Name...), 0)
		for len(r)%4 != 0 {
			r = append(r, 0)
		}
		ne.PutUint16(r[2:], uint16(len(r)))
		info = append(info, r...)
	}
	md := make([]byte, metadataLen)
	ne.PutUint32(md[0:], uint32(metadataLen+len(info)))
	md[4] = metadataVers
	ne.PutUint16(md[6:], metadataLen)
	ne.PutUint64(md[8:], mask)
	ne.PutUint32(md[16:], uint32(fd))
	ne.PutUint32(md[20:], uint32(pid))
	return append(md, info...)
}

// nofd is FAN_NOFD, the descriptor of an event of a group that reports
// file handles.
const nofd = -1

var (
	etc = FID{FSID: [2]int32{1, 2}, Type: 1, Handle: "\x01\x02\x03\x04\x05\x06\x07\x08"}
	tmp = FID{FSID: [2]int32{1, 2}, Type: 1, Handle: "\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"}
)

// seeds are buffers as the kernel writes them: a create, a rename, a
// queue overflow, two events in one read, and from the exec group (fd
// mode) an exec's two opens (the program and its ELF interpreter) in
// one read.
func seeds() [][]byte {
	create := encode(0x100, nofd, 42, infoDFIDName, Entry{etc, "99evil"})
	rename := encode(0x10000000, nofd, 43, infoOldDFIDName, Entry{tmp, "x"}, infoNewDFIDName, Entry{etc, "99x"})
	overflow := encode(0x4000, nofd, 0)
	execs := append(encode(0x1000, 7, 4242), encode(0x1000, 8, 4242)...)
	return [][]byte{create, rename, overflow, append(append([]byte{}, create...), rename...), execs}
}

func TestParse(t *testing.T) {
	s := seeds()
	got, err := Parse(s[3], nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Mask: 0x100, FD: nofd, PID: 42, Entry: Entry{etc, "99evil"}},
		{Mask: 0x10000000, FD: nofd, PID: 43, Old: Entry{tmp, "x"}, New: Entry{etc, "99x"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse:\n got %+v\nwant %+v", got, want)
	}
	got, err = Parse(s[4], nil)
	if want := []Event{{Mask: 0x1000, FD: 7, PID: 4242}, {Mask: 0x1000, FD: 8, PID: 4242}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the exec group's events: %+v %v, want %+v", got, err, want)
	}
	if got, err := Parse(s[2], nil); err != nil || len(got) != 1 || got[0].Mask != 0x4000 {
		t.Fatalf("overflow: %+v %v", got, err)
	}
	// a truncated buffer keeps the events before the damage and says where
	bad := s[3][:len(s[0])+30]
	if got, err := Parse(bad, nil); err == nil || len(got) != 1 {
		t.Fatalf("truncated: %+v %v", got, err)
	}
	dot := encode(0x40000100, nofd, 1, infoDFIDName, Entry{etc, "."})
	if got, err := Parse(dot, nil); err != nil || got[0].Entry.Name != "" {
		t.Fatalf("the directory itself: %+v %v", got, err)
	}
}

// FuzzParse: any buffer parses without panicking, into events whose
// re-encoding parses to the same events.
func FuzzParse(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := Parse(b, nil)
		if err != nil && len(evs) > 0 && len(b) == 0 {
			t.Fatal("events from nothing")
		}
		for _, ev := range evs {
			var recs []any
			for _, r := range []struct {
				typ int
				e   Entry
			}{{infoDFIDName, ev.Entry}, {infoOldDFIDName, ev.Old}, {infoNewDFIDName, ev.New}} {
				if r.e != (Entry{}) {
					recs = append(recs, r.typ, r.e)
				}
			}
			again, err := Parse(encode(ev.Mask, ev.FD, ev.PID, recs...), nil)
			if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], ev) {
				t.Fatalf("%+v re-encoded parses as %+v, %v", ev, again, err)
			}
		}
	})
}
