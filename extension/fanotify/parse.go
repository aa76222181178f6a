package fanotify

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// FID identifies a directory as fanotify reports it: the filesystem id
// and the file handle. It is comparable, so that it keys a map.
type FID struct {
	FSID   [2]int32
	Type   int32
	Handle string
}

// Entry is a directory entry: the directory and a name in it ("" when
// the event is on the directory itself).
type Entry struct {
	Dir  FID
	Name string
}

// Event is one event read from the group.
type Event struct {
	Mask uint64
	// FD is the open file of a group in fd mode (classic, no FID
	// reporting); FAN_NOFD (-1) otherwise.
	FD  int32
	PID int32
	// Entry is what the event is on (FAN_EVENT_INFO_TYPE_DFID_NAME).
	Entry Entry
	// Old and New are a rename's two entries (FAN_RENAME).
	Old, New Entry
}

// Layout of the kernel's records (include/uapi/linux/fanotify.h).
const (
	metadataLen  = 24 // fanotify_event_metadata
	metadataVers = 3  // FANOTIFY_METADATA_VERSION
	infoHdrLen   = 4  // fanotify_event_info_header
	fsidLen      = 8
	handleHdrLen = 8 // file_handle's handle_bytes and handle_type

	infoDFIDName    = 2  // FAN_EVENT_INFO_TYPE_DFID_NAME
	infoOldDFIDName = 10 // FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
	infoNewDFIDName = 12 // FAN_EVENT_INFO_TYPE_NEW_DFID_NAME
)

// Parse decodes a buffer read from a fanotify group, appending to evs:
// one that reports FAN_REPORT_DFID_NAME (entries) or one in fd mode (FD). Records of other info types are
// skipped. A malformed buffer is an error naming the offset; the events
// before it are returned.
func Parse(b []byte, evs []Event) ([]Event, error) {
	ne := binary.NativeEndian
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < metadataLen {
			return evs, fmt.Errorf("fanotify: %d bytes at offset %d, short of an event", len(rest), off)
		}
		evLen := int(ne.Uint32(rest[0:]))
		if vers := rest[4]; vers != metadataVers {
			return evs, fmt.Errorf("fanotify: event at offset %d has metadata version %d, want %d", off, vers, metadataVers)
		}
		mdLen := int(ne.Uint16(rest[6:]))
		if mdLen < metadataLen || evLen < mdLen || evLen > len(rest) {
			return evs, fmt.Errorf("fanotify: event at offset %d: length %d, metadata %d, %d bytes left", off, evLen, mdLen, len(rest))
		}
		ev := Event{Mask: ne.Uint64(rest[8:]), FD: int32(ne.Uint32(rest[16:])), PID: int32(ne.Uint32(rest[20:]))}
		if err := parseInfo(rest[mdLen:evLen], &ev); err != nil {
			return evs, fmt.Errorf("fanotify: event at offset %d: %w", off, err)
		}
		evs = append(evs, ev)
		off += evLen
	}
	return evs, nil
}

// parseInfo reads an event's info records.
func parseInfo(b []byte, ev *Event) error {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < infoHdrLen {
			return fmt.Errorf("%d bytes short of an info record", len(b))
		}
		typ, n := b[0], int(ne.Uint16(b[2:]))
		if n < infoHdrLen || n > len(b) {
			return fmt.Errorf("info record of type %d: length %d, %d bytes left", typ, n, len(b))
		}
		var dst *Entry
		switch typ {
		case infoDFIDName:
			dst = &ev.Entry
		case infoOldDFIDName:
			dst = &ev.Old
		case infoNewDFIDName:
			dst = &ev.New
		}
		if dst != nil {
			e, err := parseDFIDName(b[infoHdrLen:n])
			if err != nil {
				return fmt.Errorf("info record of type %d: %w", typ, err)
			}
			*dst = e
		}
		b = b[n:]
	}
	return nil
}

// parseDFIDName reads fsid, file handle and the NUL-terminated name.
func parseDFIDName(b []byte) (Entry, error) {
	ne := binary.NativeEndian
	if len(b) < fsidLen+handleHdrLen {
		return Entry{}, fmt.Errorf("%d bytes, short of a file handle", len(b))
	}
	var e Entry
	e.Dir.FSID = [2]int32{int32(ne.Uint32(b[0:])), int32(ne.Uint32(b[4:]))}
	hb := int(ne.Uint32(b[8:]))
	e.Dir.Type = int32(ne.Uint32(b[12:]))
	b = b[fsidLen+handleHdrLen:]
	if hb > len(b) {
		return Entry{}, fmt.Errorf("file handle of %d bytes, %d left", hb, len(b))
	}
	e.Dir.Handle = string(b[:hb])
	name := b[hb:]
	end := bytes.IndexByte(name, 0)
	if end < 0 {
		return Entry{}, fmt.Errorf("name without its NUL")
	}
	// "." is the directory itself (an event on a directory with no parent
	// reported, e.g. FAN_ONDIR on the marked inode)
	if e.Name = string(name[:end]); e.Name == "." {
		e.Name = ""
	}
	return e, nil
}
