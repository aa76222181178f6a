// Package fsroot reads files of a system mounted at a root directory (or of
// this host, with root "/") the way a program running inside that root would
// see them: absolute symlinks resolve inside the root and ".." stops at it,
// each name resolved and opened in one race-free step (see Root). FIFOs,
// devices and directories are refused with a reason instead of being read,
// symlink loops are reported, and files of any size are streamed
// (OpenFile). What cannot be read is recorded as a Problem for the hunt
// (see problems.go).
package fsroot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// DefaultMaxFileSize bounds a file read whole into memory (ReadFile,
// ReadAll): lists and system files read whole by design. Configuration a
// package manager reads is streamed instead, whatever its size; a file over
// this bound is a Problem (CauseLimit), never a silent skip.
const DefaultMaxFileSize = 64 << 20

// DefaultMaxDirEntries bounds one directory listing; a listing cut there
// is a Problem (CauseLimit).
const DefaultMaxDirEntries = 1 << 20

// ErrTooLarge marks a file refused for its size: it exists and is regular,
// so the program that reads it would read it.
var ErrTooLarge = errors.New("over the read limit")

var (
	errLoop    = errors.New("too many levels of symbolic links (loop)")
	errSpecial = errors.New("not a regular file")
)

func tooLarge(size, max int64) error {
	return fmt.Errorf("%d bytes, larger than %d read whole: %w", size, max, ErrTooLarge)
}

// clean names a file as seen inside the root: absolute, cleaned.
func clean(name string) string { return path.Clean("/" + name) }

// Root is a file system root. A Root remembers what it stat'ed, so it is
// meant to live for one piece of work (one table generation), not to
// watch a file system change; Close it when that work is done.
//
// Every name is resolved and opened in one step from a descriptor of the
// root directory, by the kernel (openat2 RESOLVE_IN_ROOT), as a program
// chroot'ed there would see it: absolute symlinks resolve inside the root
// and ".." stops at it, whatever the root's files are and however they
// change meanwhile. Nothing is resolved twice and no host path of a file
// in the root is ever built.
type Root struct {
	Dir           string
	MaxFileSize   int64
	MaxDirEntries int

	h        *handle
	owner    bool // the Root that opened h closes it
	mu       sync.Mutex
	stats    map[statKey]statResult
	problems *Problems
}

type statKey struct {
	name   string
	follow bool
}

type statResult struct {
	fi  fs.FileInfo
	err error
}

// stat stats name, following a final symlink or not, once per name.
func (r *Root) stat(name string, follow bool) (fs.FileInfo, error) {
	k := statKey{name, follow}
	r.mu.Lock()
	s, ok := r.stats[k]
	r.mu.Unlock()
	if ok {
		return s.fi, s.err
	}
	s.fi, s.err = r.fstatAt(name, follow)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stats == nil {
		r.stats = map[statKey]statResult{}
	}
	r.stats[k] = s
	return s.fi, s.err
}

func (r *Root) fstatAt(name string, follow bool) (fs.FileInfo, error) {
	fd, err := r.h.at(name, follow)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, err
	}
	return newFileInfo(name, &st), nil
}

// Stat describes name after following symlinks (inside the root).
func (r *Root) Stat(name string) (fs.FileInfo, error) { return r.stat(name, true) }

// Lstat describes name itself: a final symlink is not followed (the
// directories on the way are, inside the root).
func (r *Root) Lstat(name string) (fs.FileInfo, error) { return r.stat(name, false) }

// New returns a Root with the default limits. The root directory is
// opened on first use; Close releases it.
func New(dir string) *Root {
	if dir == "" {
		dir = "/"
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &Root{Dir: dir, MaxFileSize: DefaultMaxFileSize, MaxDirEntries: DefaultMaxDirEntries,
		h: &handle{dir: dir}, owner: true}
}

// Open returns the Root for dir after opening it and checking that it is
// a directory.
func Open(dir string) (*Root, error) {
	r := New(dir)
	if err := r.Check(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// OpenContext is Open for a piece of work whose context may carry a
// Problems collector (WithProblems): the root records its problems there.
func OpenContext(ctx context.Context, dir string) (*Root, error) {
	r, err := Open(dir)
	if err != nil {
		return nil, err
	}
	r.problems = ProblemsFrom(ctx)
	return r, nil
}

// Sub returns another Root over the same open directory that records its
// problems in the same place, with its own caches and limits. It lives no
// longer than r: closing r closes it; closing it does nothing.
func (r *Root) Sub() *Root {
	return &Root{Dir: r.Dir, MaxFileSize: DefaultMaxFileSize, MaxDirEntries: DefaultMaxDirEntries,
		h: r.h, problems: r.problems}
}

// SubRecording is Sub recording its problems in ps instead: for reading
// that is kept for later work, whose problems must be told to it again.
func (r *Root) SubRecording(ps *Problems) *Root {
	s := r.Sub()
	s.problems = ps
	return s
}

// Problems is where r records its problems (nil for nowhere).
func (r *Root) Problems() *Problems { return r.problems }

// Close releases the root directory; reading through r (or its Subs)
// afterwards fails.
func (r *Root) Close() error {
	if !r.owner {
		return nil
	}
	return r.h.close()
}

// Check opens the root and reports a root that is not a directory, as one
// clear error.
func (r *Root) Check() error {
	return r.h.use(func() error { return nil })
}

// Kind describes name after following symlinks: "file", "dir", "fifo",
// "device", "socket", or "" when it cannot be stat'ed.
func (r *Root) Kind(name string) string {
	fi, err := r.Stat(name)
	if err != nil {
		return ""
	}
	return kind(fi.Mode())
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "file"
	case m.IsDir():
		return "dir"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	default:
		return "irregular"
	}
}

// refusal explains why a non-regular file is not read.
func refusal(k string) error {
	switch k {
	case "dir":
		return errors.New("is a directory (apt would hang reading it)")
	case "fifo":
		return fmt.Errorf("is a named pipe (apt would block reading it): %w", errSpecial)
	case "device":
		return fmt.Errorf("is a device: %w", errSpecial)
	default:
		return fmt.Errorf("is a %s: %w", k, errSpecial)
	}
}

// ReadFile returns the contents of a regular file of at most MaxFileSize
// bytes.
func (r *Root) ReadFile(name string) ([]byte, error) {
	data, _, err := r.ReadAll(name)
	return data, err
}

func (r *Root) maxSize() int64 {
	if r.MaxFileSize <= 0 {
		return DefaultMaxFileSize
	}
	return r.MaxFileSize
}

// open opens a regular file without blocking on FIFOs or touching
// devices: the name is resolved to an O_PATH descriptor, which opens
// nothing; only a regular file is then reopened for reading, from that
// descriptor. It returns what the open descriptor is.
func (r *Root) open(name string) (*os.File, fs.FileInfo, error) {
	p, err := r.h.at(name, true)
	if err != nil {
		return nil, nil, err
	}
	defer unix.Close(p)
	var st syscall.Stat_t
	if err := syscall.Fstat(p, &st); err != nil {
		return nil, nil, err
	}
	fi := newFileInfo(name, &st)
	if k := kind(fi.Mode()); k != "file" {
		return nil, nil, refusal(k)
	}
	fd, err := r.h.reopen(p, &st, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fd), clean(name)), newFileInfo(name, &st), nil
}

// ReadDir lists the entry names of a directory, at most MaxDirEntries.
func (r *Root) ReadDir(name string) ([]string, error) {
	ents, err := r.ReadDirEntries(name)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, err
}

// ReadDirEntries lists a directory with the entry types the kernel reports
// (no stat per entry), at most MaxDirEntries.
func (r *Root) ReadDirEntries(name string) ([]fs.DirEntry, error) {
	d, err := r.OpenDir(name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Entries()
}

// dirEntry is a listed entry whose Info is an Lstat inside the root (the
// os package's would lstat a host path).
type dirEntry struct {
	e   Entry
	r   *Root
	dir string
}

func (e dirEntry) Name() string               { return e.e.Name }
func (e dirEntry) IsDir() bool                { return e.e.Type.IsDir() }
func (e dirEntry) Type() fs.FileMode          { return e.e.Type }
func (e dirEntry) Info() (fs.FileInfo, error) { return e.r.Lstat(path.Join(e.dir, e.e.Name)) }

// Facts are what a detection engineer wants to know about a file.
type Facts struct {
	SHA256 string
	Mtime  int64
	UID    int64
	Mode   string
	Size   int64
}

// Describe stats name (following symlinks) and hashes data, its contents.
func (r *Root) Describe(name string, data []byte) (Facts, error) {
	fi, err := r.Stat(name)
	if err != nil {
		return Facts{}, err
	}
	f := factsOf(fi)
	if data != nil {
		sum := sha256.Sum256(data)
		f.SHA256 = hex.EncodeToString(sum[:])
	}
	return f, nil
}

func factsOf(fi fs.FileInfo) Facts {
	f := Facts{Mtime: fi.ModTime().Unix(), Size: fi.Size(), Mode: ModeString(fi.Mode())}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		f.UID = int64(st.Uid)
	}
	return f
}

// ModeString is a mode as osquery prints it: four octal digits with the
// setuid, setgid and sticky bits.
func ModeString(m fs.FileMode) string {
	b := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		b |= 04000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 02000
	}
	if m&fs.ModeSticky != 0 {
		b |= 01000
	}
	return fmt.Sprintf("%04o", b)
}
