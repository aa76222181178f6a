// Package proccn reads the kernel's process connector: a netlink socket
// (NETLINK_CONNECTOR, group CN_IDX_PROC) on which the kernel multicasts a
// message for every fork, exec and exit once a listener asks for them
// (PROC_CN_MCAST_LISTEN). It needs CAP_NET_ADMIN (root), as osqueryd has.
//
// Loss is counted two ways: recvmsg fails with ENOBUFS when the socket's
// receive buffer overflowed, and the kernel numbers its messages per CPU
// (cn_proc.c send_msg: msg->seq from a per-CPU counter, ev->cpu the same
// CPU), so a gap in one CPU's sequence is that many events dropped, also
// those the kernel could not allocate, which raise no ENOBUFS.
package proccn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// From include/uapi/linux/connector.h and cn_proc.h; golang.org/x/sys
// does not carry them.
const (
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procCnMcastIgnore = 2

	whatNone = 0x0
	whatFork = 0x1
	whatExec = 0x2
	whatExit = 0x80000000

	nlmsgHdrLen = 16
	cnMsgLen    = 20 // cb_id{idx,val}, seq, ack, len u16, flags u16
	procEvHdr   = 16 // what, cpu, timestamp_ns
)

// Kind is the kind of an event.
type Kind int

// The kinds this package reports; the connector's other events (uid,
// gid, sid, ptrace, comm, coredump) are read and not reported.
const (
	Fork Kind = iota + 1
	Exec
	Exit
)

func (k Kind) String() string {
	switch k {
	case Fork:
		return "fork"
	case Exec:
		return "exec"
	case Exit:
		return "exit"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Event is one fork, exec or exit. For Fork, PID/TGID are the child's and
// ParentPID/ParentTGID the parent's; for Exec and Exit they are the
// process's own (a thread's PID differs from its TGID).
type Event struct {
	Kind        Kind
	CPU         uint32
	TimestampNS uint64
	PID, TGID   int32
	ParentPID   int32
	ParentTGID  int32
	// ExitCode is the wait status (exit code << 8 | signal), as the
	// kernel's task->exit_code.
	ExitCode   uint32
	ExitSignal uint32
}

// Conn is a subscribed connector socket.
type Conn struct {
	fd   int
	buf  []byte
	seqs map[uint32]uint32 // next sequence number expected per CPU
}

// Options for Listen.
type Options struct {
	// RcvBuf is the socket's receive buffer in bytes (SO_RCVBUFFORCE,
	// beyond rmem_max as root); 0 keeps the default.
	RcvBuf int
	// Poll bounds how long a Read blocks with nothing to read (it then
	// returns no events and no error), so that its caller can stop;
	// 0 means DefaultPoll.
	Poll time.Duration
}

// DefaultPoll is Options.Poll's default.
const DefaultPoll = 200 * time.Millisecond

// Listen opens the socket and subscribes to process events.
func Listen(o Options) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("process connector: socket: %w", err)
	}
	c := &Conn{fd: fd, buf: make([]byte, 1<<16), seqs: map[uint32]uint32{}}
	if o.RcvBuf > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, o.RcvBuf); err != nil {
			c.Close()
			return nil, fmt.Errorf("process connector: receive buffer of %d bytes: %w", o.RcvBuf, err)
		}
	}
	poll := o.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	tv := unix.NsecToTimeval(poll.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		c.Close()
		return nil, fmt.Errorf("process connector: receive timeout: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc, Pid: 0}); err != nil {
		c.Close()
		return nil, fmt.Errorf("process connector: bind (needs root): %w", err)
	}
	if err := c.control(procCnMcastListen); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// control sends PROC_CN_MCAST_LISTEN or _IGNORE.
func (c *Conn) control(op uint32) error {
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.NLMSG_DONE)
	ne.PutUint32(msg[12:], uint32(os.Getpid()))
	cn := msg[nlmsgHdrLen:]
	ne.PutUint32(cn[0:], cnIdxProc)
	ne.PutUint32(cn[4:], cnValProc)
	ne.PutUint16(cn[16:], 4)
	ne.PutUint32(cn[cnMsgLen:], op)
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("process connector: subscribe: %w", err)
	}
	return nil
}

// Close unsubscribes and closes the socket. Call it from the goroutine
// that reads, after its last Read (Read wakes every Poll to let it stop).
func (c *Conn) Close() error {
	_ = c.control(procCnMcastIgnore)
	return unix.Close(c.fd)
}

// ErrOverrun is returned by Read when the socket's buffer overflowed
// (ENOBUFS): events were lost; reading may go on.
var ErrOverrun = errors.New("process connector: receive buffer overrun (ENOBUFS), events lost")

// Read blocks for the next datagram and appends its events to evs. lost
// is the number of events the kernel numbered and this socket never got,
// as far as the sequence numbers tell so far.
func (c *Conn) Read(evs []Event) (out []Event, lost int64, err error) {
	return c.read(evs, 0)
}

// ErrEmpty is returned by TryRead when no datagram is queued.
var ErrEmpty = errors.New("process connector: nothing queued")

// TryRead is Read that does not wait: ErrEmpty when nothing is queued.
func (c *Conn) TryRead(evs []Event) (out []Event, lost int64, err error) {
	return c.read(evs, unix.MSG_DONTWAIT)
}

// Fd is the socket, to poll.
func (c *Conn) Fd() int { return c.fd }

func (c *Conn) read(evs []Event, flags int) (out []Event, lost int64, err error) {
	n, _, err := unix.Recvfrom(c.fd, c.buf, flags)
	if errors.Is(err, unix.ENOBUFS) {
		return evs, 0, ErrOverrun
	}
	if flags&unix.MSG_DONTWAIT != 0 && errors.Is(err, unix.EAGAIN) {
		return evs, 0, ErrEmpty
	}
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return evs, 0, nil
	}
	if err != nil {
		return evs, 0, fmt.Errorf("process connector: read: %w", err)
	}
	if n == 0 {
		return evs, 0, errors.New("process connector: closed")
	}
	return c.parse(c.buf[:n], evs)
}

// parse decodes the netlink messages of one datagram.
func (c *Conn) parse(b []byte, evs []Event) ([]Event, int64, error) {
	ne := binary.NativeEndian
	var lost int64
	for len(b) >= nlmsgHdrLen {
		l := int(ne.Uint32(b[0:]))
		if l < nlmsgHdrLen || l > len(b) {
			return evs, lost, fmt.Errorf("process connector: message of %d bytes in a datagram of %d", l, len(b))
		}
		msg := b[nlmsgHdrLen:l]
		if typ := ne.Uint16(b[4:]); typ == unix.NLMSG_DONE && len(msg) >= cnMsgLen+procEvHdr {
			ev, seq, ok := decode(msg)
			if ok {
				lost += c.sequence(ev.CPU, seq)
				if ev.Kind != 0 {
					evs = append(evs, ev)
				}
			}
		}
		step := (l + 3) &^ 3 // NLMSG_ALIGN
		if step >= len(b) {
			break
		}
		b = b[step:]
	}
	return evs, lost, nil
}

// sequence records seq for cpu and returns how many numbers it skipped.
func (c *Conn) sequence(cpu, seq uint32) int64 {
	next, seen := c.seqs[cpu]
	c.seqs[cpu] = seq + 1
	if !seen || seq == next {
		return 0
	}
	gap := int64(int32(seq - next))
	if gap <= 0 {
		// a number seen again or out of order: nothing lost that we know
		return 0
	}
	return gap
}

// decode reads one cn_msg carrying a proc_event. ok is false for messages
// that are not numbered process events (the subscription's ack).
func decode(msg []byte) (ev Event, seq uint32, ok bool) {
	ne := binary.NativeEndian
	if ne.Uint32(msg[0:]) != cnIdxProc || ne.Uint32(msg[4:]) != cnValProc {
		return ev, 0, false
	}
	seq = ne.Uint32(msg[8:])
	dataLen := int(ne.Uint16(msg[16:]))
	data := msg[cnMsgLen:]
	if dataLen < len(data) {
		data = data[:dataLen]
	}
	if len(data) < procEvHdr {
		return ev, 0, false
	}
	what := ne.Uint32(data[0:])
	ev.CPU = ne.Uint32(data[4:])
	ev.TimestampNS = ne.Uint64(data[8:])
	d := data[procEvHdr:]
	i32 := func(off int) int32 {
		if off+4 > len(d) {
			return 0
		}
		return int32(ne.Uint32(d[off:]))
	}
	switch what {
	case whatNone:
		return ev, 0, false
	case whatFork:
		ev.Kind = Fork
		ev.ParentPID, ev.ParentTGID, ev.PID, ev.TGID = i32(0), i32(4), i32(8), i32(12)
	case whatExec:
		ev.Kind = Exec
		ev.PID, ev.TGID = i32(0), i32(4)
	case whatExit:
		ev.Kind = Exit
		ev.PID, ev.TGID = i32(0), i32(4)
		ev.ExitCode, ev.ExitSignal = uint32(i32(8)), uint32(i32(12))
		ev.ParentPID, ev.ParentTGID = i32(16), i32(20)
	}
	// other kinds keep Kind 0: numbered, so counted, but not reported
	return ev, seq, true
}
