// Package fsroot reads files of a system mounted at a root directory (or of
// this host, with root "/") the way a program running inside that root would
// see them: absolute symlinks resolve inside the root. Every read is
// bounded: FIFOs, devices, directories and over-large files are refused with
// a reason instead of being read, and symlink loops are reported.
package fsroot

import (
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

// DefaultMaxFileSize bounds what is read of one file. Package-manager
// configuration files are a few KiB; anything past this is reported.
const DefaultMaxFileSize = 1 << 20

// DefaultMaxDirEntries bounds one directory listing.
const DefaultMaxDirEntries = 10000

// ErrTooLarge marks a file refused for its size: it exists and is regular,
// so the program that reads it would read it.
var ErrTooLarge = errors.New("over the read limit")

// Root is a file system root. A Root remembers what it resolved and
// stat'ed, so it is meant to live for one piece of work (one table
// generation), not to watch a file system change.
type Root struct {
	Dir           string
	MaxFileSize   int64
	MaxDirEntries int

	mu    sync.Mutex
	stats map[string]statResult
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
			s.err = fmt.Errorf("too many levels of symbolic links (loop)")
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
			return "", fmt.Errorf("too many levels of symbolic links (loop)")
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
		return errors.New("is a named pipe (apt would block reading it)")
	case "device":
		return errors.New("is a device, not a regular file")
	default:
		return fmt.Errorf("is a %s, not a regular file", k)
	}
}

// ReadFile returns the contents of a regular file of at most MaxFileSize
// bytes.
func (r *Root) ReadFile(name string) ([]byte, error) {
	f, err := r.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, r.maxSize()+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > r.maxSize() {
		return nil, fmt.Errorf("larger than %d bytes: %w", r.maxSize(), ErrTooLarge)
	}
	return data, nil
}

func (r *Root) maxSize() int64 {
	if r.MaxFileSize <= 0 {
		return DefaultMaxFileSize
	}
	return r.MaxFileSize
}

// open opens a regular file without blocking on FIFOs or touching devices.
func (r *Root) open(name string) (*os.File, error) {
	p, fi, err := r.stat(name)
	if err != nil {
		return nil, err
	}
	if k := kind(fi.Mode()); k != "file" {
		return nil, refusal(k)
	}
	if fi.Size() > r.maxSize() {
		return nil, fmt.Errorf("%d bytes, larger than %d: %w", fi.Size(), r.maxSize(), ErrTooLarge)
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fi2, err := f.Stat()
	if err != nil || !os.SameFile(fi, fi2) {
		f.Close()
		return nil, errors.New("changed while being opened; not read")
	}
	return f, nil
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
		return nil, err
	}
	d, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	max := r.MaxDirEntries
	if max <= 0 {
		max = DefaultMaxDirEntries
	}
	ents, err := d.ReadDir(max + 1)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(ents) > max {
		return ents[:max], fmt.Errorf("more than %d entries; listed the first %d", max, max)
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
	f := Facts{Mtime: fi.ModTime().Unix(), Size: fi.Size(), Mode: ModeString(fi.Mode())}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		f.UID = int64(st.Uid)
	}
	if data != nil {
		sum := sha256.Sum256(data)
		f.SHA256 = hex.EncodeToString(sum[:])
	}
	return f, nil
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
