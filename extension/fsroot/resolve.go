package fsroot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// handle is the root directory, opened once (O_PATH), that every name is
// resolved from: the kernel walks each name inside it (openat2 with
// RESOLVE_IN_ROOT), so absolute symlinks and ".." stay in the root and
// nothing is checked by one lookup and then used by another. It is shared
// by a Root and its Subs, and closed by the Root that opened it.
//
// openat2 is called directly: pathrs-lite's OpenatInRoot makes the same
// call and then reads the new descriptor's path back through a private
// procfs to name its *os.File, and its Reopen opens that procfs anew each
// time, which together cost more than the whole securejoin-and-open this
// replaces (BenchmarkOpenRead). pathrs-lite walks names where openat2 is
// missing.
type handle struct {
	dir string

	// mu is read-held while a descriptor of the handle is in use, so that
	// Close never frees a descriptor number that a lookup still uses
	// (the number could be reused for another directory).
	mu     sync.RWMutex
	opened bool
	err    error
	closed bool
	root   *os.File // O_PATH|O_DIRECTORY; an *os.File, so an unclosed Root is still released when collected
	rootFd int
	proc   *os.File // /proc/self/fd, to reopen an O_PATH descriptor with real access
	procFd int

	// openat2 is false where the kernel lacks it (before Linux 5.6) or a
	// seccomp filter refuses it: names are then walked by pathrs-lite,
	// one O_PATH component at a time, with the same semantics.
	openat2 bool
}

// resolveFlags: the root is "/" for every name and every symlink in it,
// ".." stops at the root, and /proc's magic links (which jump anywhere)
// are refused.
const resolveFlags = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// maxRetries bounds the retries of a lookup that the kernel stopped
// because a rename or mount somewhere raced with "..": an attacker who
// keeps renaming gets an error (a Problem), not an endless loop.
const maxRetries = 128

var errClosed = fmt.Errorf("root: %w", os.ErrClosed)

// open opens the root directory on first use.
func (h *handle) open() error {
	if h.opened {
		return h.err
	}
	h.opened = true
	fd, err := unix.Open(h.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOTDIR {
			h.err = fmt.Errorf("root %s: not a directory", h.dir)
		} else {
			h.err = fmt.Errorf("root %s: %w", h.dir, err)
		}
		return h.err
	}
	h.root, h.rootFd = os.NewFile(uintptr(fd), h.dir), fd
	if pfd, err := openProcFd(); err == nil {
		h.proc, h.procFd = os.NewFile(uintptr(pfd), "/proc/self/fd"), pfd
	} else {
		h.procFd = -1
	}
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: resolveFlags}
	if probe, err := unix.Openat2(fd, "/", &how); err == nil {
		unix.Close(probe)
		h.openat2 = true
	}
	return nil
}

// openProcFd opens this process's descriptor directory, checking that it
// is procfs: reopening goes through it.
func openProcFd() (int, error) {
	fd, err := unix.Open("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(fd)
		return -1, errors.New("/proc/self/fd is not procfs")
	}
	return fd, nil
}

// use runs f with the handle open, or returns why it is not.
func (h *handle) use(f func() error) error {
	h.mu.RLock()
	if !h.opened {
		h.mu.RUnlock()
		h.mu.Lock()
		err := h.open()
		h.mu.Unlock()
		if err != nil {
			return err
		}
		h.mu.RLock()
	}
	defer h.mu.RUnlock()
	if h.closed {
		return errClosed
	}
	if h.err != nil {
		return h.err
	}
	return f()
}

// close releases the root's descriptors; lookups after it fail.
func (h *handle) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed, h.opened = true, true
	var err error
	if h.root != nil {
		err = h.root.Close()
	}
	if h.proc != nil {
		h.proc.Close()
	}
	return err
}

// at resolves name inside the root and returns an O_PATH descriptor of
// it: of the final symlink itself when follow is false (lstat), of what
// it points to otherwise. Only the kernel's walk of the whole name, from
// the root's descriptor, decides what is opened.
func (h *handle) at(name string, follow bool) (fd int, err error) {
	err = h.use(func() error {
		flags := unix.O_PATH
		if !follow {
			flags |= unix.O_NOFOLLOW
		}
		if h.openat2 {
			fd, err = h.openat2At(inRoot(name), flags)
		} else {
			fd, err = h.walkAt(inRoot(name), follow)
		}
		return err
	})
	return fd, lookupError(err)
}

// openDir opens a directory of the root for listing.
func (h *handle) openDir(name string) (fd int, err error) {
	err = h.use(func() error {
		if h.openat2 {
			// O_DIRECTORY refuses anything else before it is opened, so
			// no device is ever opened this way
			fd, err = h.openat2At(inRoot(name), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK)
			return err
		}
		p, err := h.walkAt(inRoot(name), true)
		if err != nil {
			return err
		}
		defer unix.Close(p)
		var st syscall.Stat_t
		if err := syscall.Fstat(p, &st); err != nil {
			return err
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
			return syscall.ENOTDIR
		}
		fd, err = h.reopenLocked(p, &st, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK)
		return err
	})
	return fd, lookupError(err)
}

// reopen opens the file an O_PATH descriptor holds (st is its fstat) with
// real access: through /proc/self/fd, without resolving any name of the
// root again. The result must be the same inode, or it is refused, so
// even a /proc that lied could not have another file read. It returns
// the new descriptor's fstat in st.
func (h *handle) reopen(p int, st *syscall.Stat_t, flags int) (fd int, err error) {
	err = h.use(func() error {
		fd, err = h.reopenLocked(p, st, flags)
		return err
	})
	return fd, err
}

func (h *handle) reopenLocked(p int, st *syscall.Stat_t, flags int) (int, error) {
	if h.procFd < 0 {
		return -1, errors.New("cannot reopen: /proc is not mounted")
	}
	var fd int
	var err error
	for {
		fd, err = unix.Openat(h.procFd, strconv.Itoa(p), flags|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return -1, err
	}
	var now syscall.Stat_t
	if err := syscall.Fstat(fd, &now); err != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		unix.Close(fd)
		return -1, errChanged
	}
	*st = now
	return fd, nil
}

var errChanged = errors.New("changed while being opened; not read")

// openat2At is one openat2 from the root, retried while the kernel
// reports that a rename or mount raced with the walk.
func (h *handle) openat2At(name string, flags int) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolveFlags}
	for tries := 0; ; tries++ {
		fd, err := unix.Openat2(h.rootFd, name, &how)
		switch {
		case err == nil:
			return fd, nil
		case err == unix.EINTR, (err == unix.EAGAIN || err == unix.EXDEV) && tries < maxRetries:
			continue
		case err == unix.EAGAIN || err == unix.EXDEV:
			return -1, fmt.Errorf("lookup kept racing with renames or mounts (%d tries): %w", tries+1, err)
		}
		return -1, err
	}
}

// walkAt is the lookup without openat2: pathrs-lite walks the name one
// O_PATH component at a time with RESOLVE_IN_ROOT's semantics. Without
// follow, the parent is walked and the last component opened by name in
// it, not followed.
func (h *handle) walkAt(name string, follow bool) (int, error) {
	dir, base := name, ""
	if !follow {
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			dir, base = name[:i+1], name[i+1:]
		} else {
			dir, base = "/", name
		}
	}
	// "..", "." and a trailing "/" are never a symlink left unfollowed
	if base == "" || base == "." || base == ".." {
		dir, base = name, ""
	}
	f, err := pathrs.OpenatInRoot(h.root, dir)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	if base == "" {
		return unix.Dup(int(f.Fd()))
	}
	return unix.Openat(int(f.Fd()), base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// inRoot is a name as the root-relative lookups take it: RESOLVE_IN_ROOT
// reads a leading "/" as the root itself; "" is the root.
func inRoot(name string) string {
	if name == "" {
		return "/"
	}
	return name
}

// lookupError is the bare reason a lookup failed, with loops named.
func lookupError(err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, syscall.ELOOP) {
		return errLoop
	}
	return err
}

// fileInfo is an fstat as an fs.FileInfo (os.Stat's, from a descriptor).
type fileInfo struct {
	name string
	st   syscall.Stat_t
}

func newFileInfo(name string, st *syscall.Stat_t) *fileInfo {
	return &fileInfo{name: path.Base(clean(name)), st: *st}
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.st.Size }
func (fi *fileInfo) ModTime() time.Time { return time.Unix(fi.st.Mtim.Unix()) }
func (fi *fileInfo) IsDir() bool        { return fi.Mode().IsDir() }
func (fi *fileInfo) Sys() any           { return &fi.st }

func (fi *fileInfo) Mode() fs.FileMode {
	m := fs.FileMode(fi.st.Mode & 0o777)
	switch fi.st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if fi.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if fi.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if fi.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// Readlink returns the target of the symlink name, as written in it (the
// directories on the way to it are followed inside the root).
func (r *Root) Readlink(name string) (string, error) {
	fd, err := r.h.at(name, false)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	for {
		// an O_PATH descriptor of a symlink is read with an empty name
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Realpath returns the name the kernel reaches for name inside the root,
// every symlink followed: what the file is, as seen inside the root.
func (r *Root) Realpath(name string) (string, error) {
	var rootPath, p string
	err := r.h.use(func() error {
		var err error
		if rootPath, err = os.Readlink("/proc/self/fd/" + strconv.Itoa(r.h.rootFd)); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	fd, err := r.h.at(name, true)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	if p, err = os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err != nil {
		return "", err
	}
	switch {
	case rootPath == "/":
		return path.Clean(p), nil
	case p == rootPath:
		return "/", nil
	case strings.HasPrefix(p, rootPath+"/"):
		return path.Clean(p[len(rootPath):]), nil
	}
	// the kernel keeps every lookup inside the root; a name outside it
	// means the root itself moved
	return "", fmt.Errorf("%s: reached %q outside the root %q", name, p, rootPath)
}
