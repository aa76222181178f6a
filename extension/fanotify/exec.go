package fanotify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Execs is a second fanotify group, apart from the Watcher's: it reports
// every file opened for execution (FAN_OPEN_EXEC) on every filesystem
// that can hold programs, with the process and an open descriptor of the
// file (fd mode: FAN_CLASS_NOTIF without FID reporting), so that what an
// exec ran is known from the file the kernel opened, not from /proc,
// which a short process has left before it is read.
//
// The kernel raises FAN_OPEN_EXEC in the exec'ing task when execve opens
// the program (open_exec), again for a `#!` script's interpreter (and
// that one's, when it is a script too), for a binfmt_misc handler, and for
// an ELF program's interpreter (ld-linux): all before the process
// connector's exec event is sent. A reader that drains this group after
// reading the connector's events therefore knows every open of a process
// up to each of its execs.
//
// Marks are filesystem marks (FAN_MARK_FILESYSTEM) on each distinct
// filesystem of this process's mount namespace that can hold programs
// (/proc/self/mountinfo, pseudo filesystems left out); a mount added later
// is marked at the next Rescan (poll MountsFd for POLLPRI). A filesystem
// that cannot be marked is reported by Read's error, once, and the others
// stay watched. Open executions are rare next to writes, so the group's
// queue holds them all but in a storm; an overflow is counted as lost.
type Execs struct {
	fd     int
	fdDir  int // /proc/self/fd, where an event's descriptor is named
	link   []byte
	mounts int // /proc/self/mountinfo
	table  []byte
	marked map[string]bool // device numbers ("major:minor") marked
	failed map[string]bool // device numbers that could not be marked
	buf    []byte
	evs    []Event
	fault  error
}

// Kind is what an executed file is, from its first bytes, which decides
// its place in an exec: `#!` scripts and files of other formats lead to an
// interpreter, an ELF program naming an interpreter (PT_INTERP) is
// followed by that interpreter's open.
type Kind uint8

const (
	// Other is a file that is neither a `#!` script nor ELF (a
	// binfmt_misc format, or one that could not be read).
	Other Kind = iota
	// Script is a `#!` script.
	Script
	// Dynamic is an ELF program with an interpreter (PT_INTERP).
	Dynamic
	// Static is an ELF program without one: a static program, a
	// static-pie, or the ELF interpreter itself.
	Static
)

// Exec is one file opened for execution.
type Exec struct {
	PID  int
	Path string
	Kind Kind
}

// OpenExecs creates the group (needs root: CAP_SYS_ADMIN) and marks the
// filesystems. The group's descriptor is non-blocking: poll Fd.
func OpenExecs() (*Execs, error) {
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_LARGEFILE)
	if err != nil {
		return nil, fmt.Errorf("fanotify: init of the exec group (needs root): %w", err)
	}
	// the descriptors are named by readlinkat from this directory: a
	// readlink of /proc/self/fd/N walks /proc and self for every event
	fdDir, err := unix.Open("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("fanotify: %w", err)
	}
	// a bare descriptor: one the Go runtime's poller watched would have
	// its POLLPRI consumed there (each poll of mountinfo reports a change
	// once)
	mounts, err := unix.Open("/proc/self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		unix.Close(fdDir)
		return nil, fmt.Errorf("fanotify: opening /proc/self/mountinfo: %w", err)
	}
	x := &Execs{fd: fd, fdDir: fdDir, link: make([]byte, unix.PathMax), mounts: mounts, marked: map[string]bool{}, failed: map[string]bool{}, buf: make([]byte, 64<<10)}
	if err := x.Rescan(); err != nil {
		x.Close()
		return nil, err
	}
	if len(x.marked) == 0 {
		err := fmt.Errorf("fanotify: no filesystem could be marked for executions: %v", x.fault)
		x.Close()
		return nil, err
	}
	return x, nil
}

// Fd is the group's descriptor, to poll for POLLIN.
func (x *Execs) Fd() int { return x.fd }

// MountsFd is /proc/self/mountinfo's descriptor, to poll for POLLPRI: the
// mount table changed, Rescan.
func (x *Execs) MountsFd() int { return x.mounts }

// Marked is the number of filesystems marked.
func (x *Execs) Marked() int { return len(x.marked) }

// Close closes the group.
func (x *Execs) Close() error {
	unix.Close(x.mounts)
	unix.Close(x.fdDir)
	return unix.Close(x.fd)
}

// Rescan reads the mount table and marks the filesystems not marked yet.
// Marks on filesystems that went stay with them (the kernel drops them
// with the superblock). A filesystem that cannot be marked is Read's
// next error.
func (x *Execs) Rescan() error {
	if _, err := unix.Seek(x.mounts, 0, io.SeekStart); err != nil {
		return fmt.Errorf("fanotify: rereading the mount table: %w", err)
	}
	x.table = x.table[:0]
	for {
		if len(x.table) == cap(x.table) {
			x.table = append(x.table, make([]byte, 64<<10)...)[:len(x.table)]
		}
		n, err := unix.Read(x.mounts, x.table[len(x.table):cap(x.table)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("fanotify: reading the mount table: %w", err)
		}
		if n == 0 {
			break
		}
		x.table = x.table[:len(x.table)+n]
	}
	tried := map[string]error{}
	for _, m := range ParseMountinfo(x.table) {
		if x.marked[m.Dev] || !Executable(m.FSType) {
			continue
		}
		err := unix.FanotifyMark(x.fd, unix.FAN_MARK_ADD|unix.FAN_MARK_FILESYSTEM, unix.FAN_OPEN_EXEC, unix.AT_FDCWD, m.Point)
		if err == nil {
			x.marked[m.Dev] = true
			delete(tried, m.Dev)
			continue
		}
		// another mount of the same filesystem may be reachable
		tried[m.Dev] = fmt.Errorf("fanotify: marking %s (%s, %s) for executions: %w", m.Point, m.FSType, m.Dev, err)
	}
	for dev, err := range tried {
		if !x.failed[dev] && x.fault == nil {
			x.fault = err
		}
		x.failed[dev] = true
	}
	return nil
}

// Read drains the group's queue, appending the files opened for
// execution to out; lost is the number of queue overflows read (each
// lost an unknown number of events: at least one).
func (x *Execs) Read(out []Exec) ([]Exec, int64, error) {
	var lost int64
	for {
		n, err := unix.Read(x.fd, x.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			return out, lost, fmt.Errorf("fanotify: read of the exec group: %w", err)
		}
		x.evs, err = Parse(x.buf[:n], x.evs[:0])
		for _, ev := range x.evs {
			if ev.Mask&unix.FAN_Q_OVERFLOW != 0 {
				lost++
			}
			if ev.FD < 0 {
				continue
			}
			if ev.Mask&unix.FAN_OPEN_EXEC != 0 {
				out = append(out, x.opened(int(ev.PID), int(ev.FD)))
			}
			unix.Close(int(ev.FD))
		}
		if err != nil {
			// the descriptors of the events past the damage stay open:
			// the group is not to be trusted any more
			return out, lost, err
		}
	}
	err := x.fault
	x.fault = nil
	return out, lost, err
}

// opened names and classifies the file an event's descriptor holds.
func (x *Execs) opened(pid, fd int) Exec {
	var p string
	// the kernel names at most PATH_MAX bytes, and says so with an
	// error, not a cut name
	if n, err := unix.Readlinkat(x.fdDir, strconv.Itoa(fd), x.link); err == nil {
		p = string(x.link[:n])
	}
	return Exec{PID: pid, Path: p, Kind: Classify(fdReader(fd))}
}

// fdReader reads a descriptor at offsets.
type fdReader int

func (r fdReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := unix.Pread(int(r), b, off)
	if err != nil {
		return 0, err
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// Mount is one line of /proc/PID/mountinfo.
type Mount struct {
	Dev    string // major:minor of the filesystem
	Point  string // where it is mounted
	FSType string
}

// ParseMountinfo reads a mount table (proc(5)'s mountinfo: ID, parent
// ID, major:minor, root, mount point, options, optional fields ended by
// "-", filesystem type, ...). Lines it cannot read are skipped.
func ParseMountinfo(b []byte) []Mount {
	var out []Mount
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 7 {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(f) {
			continue
		}
		out = append(out, Mount{Dev: f[2], Point: unescapeOctal(f[4]), FSType: f[sep+1]})
	}
	return out
}

// unescapeOctal undoes the kernel's escapes of a mount path (space, tab,
// newline and backslash as \ooo).
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			v, _ := strconv.ParseUint(s[i+1:i+4], 8, 8)
			b.WriteByte(byte(v))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 || s[0] > '3' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '7' {
			return false
		}
	}
	return true
}

// pseudo are the filesystem types that hold no programs: the kernel's
// views (proc, sysfs, cgroups, tracing), namespaces and handles, and
// automount points (the filesystem mounted on them is marked itself).
var pseudo = map[string]bool{
	"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true, "devpts": true, "mqueue": true,
	"debugfs": true, "tracefs": true, "securityfs": true, "pstore": true, "bpf": true,
	"configfs": true, "fusectl": true, "binfmt_misc": true, "autofs": true, "efivarfs": true,
	"rpc_pipefs": true, "nsfs": true, "selinuxfs": true, "hugetlbfs": true, "nfsd": true,
}

// Executable is whether a filesystem type can hold programs.
func Executable(fstype string) bool { return !pseudo[fstype] }

// Classify says what an executed file is from its first bytes, and for
// ELF from its program headers (PT_INTERP).
func Classify(r io.ReaderAt) Kind {
	var ident [64]byte
	n, _ := r.ReadAt(ident[:], 0)
	b := ident[:n]
	if len(b) >= 2 && b[0] == '#' && b[1] == '!' {
		return Script
	}
	if len(b) < 52 || string(b[:4]) != "\x7fELF" {
		return Other
	}
	var bo binary.ByteOrder
	switch b[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return Other
	}
	var phoff uint64
	var phentsize, phnum int
	switch b[4] {
	case 1: // ELFCLASS32
		phoff, phentsize, phnum = uint64(bo.Uint32(b[28:])), int(bo.Uint16(b[42:])), int(bo.Uint16(b[44:]))
	case 2: // ELFCLASS64
		if len(b) < 64 {
			return Other
		}
		phoff, phentsize, phnum = bo.Uint64(b[32:]), int(bo.Uint16(b[54:])), int(bo.Uint16(b[56:]))
	default:
		return Other
	}
	// the kernel reads at most 64 KiB of program headers
	// (load_elf_phdrs), and an entry holds at least its type
	if phentsize < 4 || phnum == 0 || phentsize*phnum > 64<<10 || phoff > 1<<40 {
		return Static
	}
	ph := make([]byte, phentsize*phnum)
	if m, _ := r.ReadAt(ph, int64(phoff)); m < len(ph) {
		return Static
	}
	for i := 0; i < phnum; i++ {
		if bo.Uint32(ph[i*phentsize:]) == 3 { // PT_INTERP
			return Dynamic
		}
	}
	return Static
}
