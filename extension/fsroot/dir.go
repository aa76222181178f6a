package fsroot

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Dir is a directory of the root held open, so that its entries are
// described relative to it: one fstatat per entry, as find does, where
// Lstat resolves each entry's whole name from the root (openat2, fstat,
// close) and remembers it. An entry name is one component, never "." or
// "..", so describing it cannot leave the directory.
type Dir struct {
	r    *Root
	name string
	f    *os.File
}

// OpenDir opens the directory name of the root.
func (r *Root) OpenDir(name string) (*Dir, error) {
	fd, err := r.h.openDir(name)
	if err != nil {
		return nil, r.Report(name, err)
	}
	return &Dir{r: r, name: clean(name), f: os.NewFile(uintptr(fd), clean(name))}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return d.f.Close() }

// Entries lists the directory with the entry types the kernel reports
// (no stat per entry), at most the root's MaxDirEntries; more is recorded
// as a problem.
func (d *Dir) Entries() ([]fs.DirEntry, error) {
	list, err := d.List()
	ents := make([]fs.DirEntry, len(list))
	for i, e := range list {
		ents[i] = dirEntry{e, d.r, d.name}
	}
	return ents, err
}

// Entry is a directory entry as the kernel lists it: its name and type
// bits (fs.ModeDir, fs.ModeSymlink, ...; fs.ModeIrregular where the file
// system does not say).
type Entry struct {
	Name string
	Type fs.FileMode
}

// listChunk is how many entries List reads at once: a large directory's
// entries are kept as names and types, not as the os package's entries.
const listChunk = 1024

// List is Entries without an fs.DirEntry per entry: what a listing of a
// large directory keeps is its names.
func (d *Dir) List() ([]Entry, error) {
	max := d.r.MaxDirEntries
	if max <= 0 {
		max = DefaultMaxDirEntries
	}
	var out []Entry
	for len(out) <= max {
		ents, err := d.f.ReadDir(listChunk)
		for _, e := range ents {
			out = append(out, Entry{e.Name(), e.Type()})
		}
		if err == io.EOF || err == nil && len(ents) == 0 {
			break
		}
		if err != nil {
			return nil, d.r.Report(d.name, err)
		}
	}
	if len(out) > max {
		err := fmt.Errorf("more than %d entries; listed the first %d: %w", max, max, ErrTooLarge)
		return out[:max], d.r.Report(d.name, err)
	}
	return out, nil
}

// Lstat describes the entry name of the directory itself (a symlink is
// not followed).
func (d *Dir) Lstat(name string) (fs.FileInfo, error) {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return nil, &fs.PathError{Op: "lstat", Path: path.Join(d.name, name), Err: fs.ErrInvalid}
	}
	var st unix.Stat_t
	if err := unix.Fstatat(int(d.f.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: path.Join(d.name, name), Err: err}
	}
	return newFileInfo(path.Join(d.name, name), statT(&st)), nil
}

// statT is unix's stat as syscall's, which FileInfo.Sys carries (the
// syscall package has no fstatat of its own).
func statT(st *unix.Stat_t) *syscall.Stat_t {
	return &syscall.Stat_t{
		Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink, Mode: st.Mode, Uid: st.Uid, Gid: st.Gid,
		Rdev: st.Rdev, Size: st.Size, Blksize: st.Blksize, Blocks: st.Blocks,
		Atim: syscall.Timespec{Sec: st.Atim.Sec, Nsec: st.Atim.Nsec},
		Mtim: syscall.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec},
		Ctim: syscall.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec},
	}
}
