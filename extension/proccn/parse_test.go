package proccn

import (
	"encoding/binary"
	"testing"
)

// datagram builds one netlink message carrying a proc_event, as the
// kernel's send_msg lays it out.
func datagram(what, cpu, seq uint32, data ...uint32) []byte {
	ne := binary.NativeEndian
	ev := make([]byte, procEvHdr+4*len(data))
	ne.PutUint32(ev[0:], what)
	ne.PutUint32(ev[4:], cpu)
	ne.PutUint64(ev[8:], 12345)
	for i, d := range data {
		ne.PutUint32(ev[procEvHdr+4*i:], d)
	}
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+len(ev))
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], 3) // NLMSG_DONE
	cn := msg[nlmsgHdrLen:]
	ne.PutUint32(cn[0:], cnIdxProc)
	ne.PutUint32(cn[4:], cnValProc)
	ne.PutUint32(cn[8:], seq)
	ne.PutUint16(cn[16:], uint16(len(ev)))
	copy(cn[cnMsgLen:], ev)
	return msg
}

// TestParse: fork, exec and exit decode with their fields; other kinds
// are numbered (a gap past them is no loss) but not reported; two
// messages in one datagram both count.
func TestParse(t *testing.T) {
	c := &Conn{seqs: map[uint32]uint32{}}
	var b []byte
	b = append(b, datagram(whatFork, 1, 10, 100, 100, 101, 101)...)
	b = append(b, datagram(0x200, 1, 11, 101, 101)...) // comm: not reported
	b = append(b, datagram(whatExec, 1, 12, 101, 101)...)
	b = append(b, datagram(whatExit, 1, 15, 101, 101, 3<<8, 17, 100, 100)...)
	evs, lost, err := c.parse(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lost != 2 {
		t.Errorf("lost %d, want 2 (13 and 14)", lost)
	}
	want := []Event{
		{Kind: Fork, CPU: 1, TimestampNS: 12345, PID: 101, TGID: 101, ParentPID: 100, ParentTGID: 100},
		{Kind: Exec, CPU: 1, TimestampNS: 12345, PID: 101, TGID: 101},
		{Kind: Exit, CPU: 1, TimestampNS: 12345, PID: 101, TGID: 101, ExitCode: 3 << 8, ExitSignal: 17, ParentPID: 100, ParentTGID: 100},
	}
	if len(evs) != len(want) {
		t.Fatalf("events %+v", evs)
	}
	for i := range want {
		if evs[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, evs[i], want[i])
		}
	}
	// a message longer than its datagram is an error, not a read past it
	if _, _, err := c.parse(datagram(whatExec, 1, 16, 1, 1)[:40], nil); err == nil {
		t.Error("truncated datagram: no error")
	}
}

// FuzzParse: any datagram decodes without panic or a read past it.
func FuzzParse(f *testing.F) {
	f.Add(datagram(whatFork, 0, 1, 1, 1, 2, 2))
	f.Add(append(datagram(whatExec, 3, 7, 9, 9), datagram(whatExit, 3, 9, 9, 9, 0, 17)...))
	f.Add(datagram(whatExit, 0, 1, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &Conn{seqs: map[uint32]uint32{}}
		evs, lost, _ := c.parse(b, nil)
		if lost < 0 || len(evs) > len(b)/(nlmsgHdrLen+cnMsgLen+procEvHdr) {
			t.Fatalf("%d events, %d lost from %d bytes", len(evs), lost, len(b))
		}
	})
}
