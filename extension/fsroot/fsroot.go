// Package fsroot reads files of a system mounted at a root directory (or of
// this host, with root "/") the way a program running inside that root would
// see them: absolute symlinks resolve inside the root. FIFOs, devices and
// directories are refused with a reason instead of being read, symlink
// loops are reported, and files of any size are streamed (OpenFile). What
// cannot be read is recorded as a Problem for the hunt (see problems.go).
package fsroot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
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

// Root is a file system root. A Root remembers what it resolved and
// stat'ed, so it is meant to live for one piece of work (one table
// generation), not to watch a file system change.
type Root struct {
	Dir           string
	MaxFileSize   int64
	MaxDirEntries int

	mu       sync.Mutex
	stats    map[string]statResult
	problems *Problems
}

type statResult struct {
	host string
	fi   fs.FileInfo
	err  error
}

// stat resolves name and stats it (following symlinks), once per name.
func (r *Root) stat(name string) (string, fs.FileInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.stats[name]; ok {
		return s.host, s.fi, s.err
	}
	var s statResult
	s.host, s.err = r.Resolve(name)
	if s.err == nil {
		s.fi, s.err = os.Stat(s.host)
		var pe *fs.PathError
		if errors.As(s.err, &pe) {
			s.err = pe.Err
		}
		if errors.Is(s.err, syscall.ELOOP) {
			s.err = errLoop
		}
	}
	if r.stats == nil {
		r.stats = map[string]statResult{}
	}
	r.stats[name] = s
	return s.host, s.fi, s.err
}

// New returns a Root with the default limits.
func New(dir string) *Root {
	if dir == "" {
		dir = "/"
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &Root{Dir: dir, MaxFileSize: DefaultMaxFileSize, MaxDirEntries: DefaultMaxDirEntries}
}

// Open returns the Root for dir after checking that it is a directory.
func Open(dir string) (*Root, error) {
	r := New(dir)
	return r, r.Check()
}

// OpenContext is Open for a piece of work whose context may carry a
// Problems collector (WithProblems): the root records its problems there.
func OpenContext(ctx context.Context, dir string) (*Root, error) {
	r := New(dir)
	r.problems = ProblemsFrom(ctx)
	return r, r.Check()
}

// Sub returns another Root over the same directory that records its
// problems in the same place, with its own caches and limits.
func (r *Root) Sub() *Root {
	s := New(r.Dir)
	s.problems = r.problems
	return s
}

// Check reports a root that is not a directory, as one clear error.
func (r *Root) Check() error {
	fi, err := os.Stat(r.Dir)
	if err != nil {
		return fmt.Errorf("root %s: %w", r.Dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("root %s: not a directory", r.Dir)
	}
	return nil
}

// Resolve maps a name as seen inside the root (relative names are relative
// to "/") to a host path, following symlinks inside the root.
func (r *Root) Resolve(name string) (string, error) {
	if !path.IsAbs(name) {
		name = "/" + name
	}
	if r.Dir == "/" {
		// The host's own root: let the kernel follow links, but still
		// report loops the same way.
		return filepath.Clean(name), nil
	}
	p, err := securejoin.SecureJoin(r.Dir, name)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return "", errLoop
		}
		return "", err
	}
	return p, nil
}

// Kind describes name after following symlinks: "file", "dir", "fifo",
// "device", "socket", or "" when it cannot be stat'ed.
func (r *Root) Kind(name string) string {
	_, fi, err := r.stat(name)
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
// devices, and returns what the open descriptor is.
func (r *Root) open(name string) (*os.File, fs.FileInfo, error) {
	p, fi, err := r.stat(name)
	if err != nil {
		return nil, nil, err
	}
	if k := kind(fi.Mode()); k != "file" {
		return nil, nil, refusal(k)
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, err
	}
	fi2, err := f.Stat()
	if err != nil || !os.SameFile(fi, fi2) || !fi2.Mode().IsRegular() {
		f.Close()
		return nil, nil, errors.New("changed while being opened; not read")
	}
	return f, fi2, nil
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
	p, err := r.Resolve(name)
	if err != nil {
		return nil, r.Report(name, err)
	}
	d, err := os.Open(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, r.Report(name, err)
	}
	defer d.Close()
	max := r.MaxDirEntries
	if max <= 0 {
		max = DefaultMaxDirEntries
	}
	ents, err := d.ReadDir(max + 1)
	if err != nil && err != io.EOF {
		return nil, r.Report(name, err)
	}
	if len(ents) > max {
		err := fmt.Errorf("more than %d entries; listed the first %d: %w", max, max, ErrTooLarge)
		return ents[:max], r.Report(name, err)
	}
	return ents, nil
}

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
	_, fi, err := r.stat(name)
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
