package fsroot

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// File is a regular file of a root opened for reading. Everything read
// through it is hashed on the way, so a parser that streams a file of any
// size gets the file's SHA-256 without a second read or a copy in memory.
type File struct {
	Name string      // as seen inside the root
	Info fs.FileInfo // of the open file itself
	f    *os.File
	sha  hash.Hash
	n    int64
	eof  bool
	root *Root
}

// Digests are a file's checksums: SHA-256, taken while the file is read,
// and MD5 (what dpkg and older rpm record) when the contents were read
// whole into memory anyway; otherwise whoever needs the MD5 of a file a
// package owns hashes it again (HashFile), which most files never need.
type Digests struct {
	MD5    string
	SHA256 string
	Size   int64
}

// OpenFile opens a regular file for streaming, whatever its size. FIFOs,
// devices and sockets are refused without blocking, with the reason.
func (r *Root) OpenFile(name string) (*File, error) {
	f, fi, err := r.open(name)
	if err != nil {
		return nil, r.Report(name, err)
	}
	return &File{Name: clean(name), Info: fi, f: f, sha: sha256.New(), root: r}, nil
}

// Open is OpenFile for readers that want only an io.ReadCloser (the
// returned value is an *File, with its digests).
func (r *Root) Open(name string) (io.ReadCloser, error) {
	f, err := r.OpenFile(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Read reads and hashes (SHA-256). An error other than the end of the file is
// recorded as a problem of the file.
func (f *File) Read(p []byte) (int, error) {
	n, err := f.f.Read(p)
	if n > 0 {
		f.sha.Write(p[:n])
		f.n += int64(n)
	}
	if err == io.EOF {
		f.eof = true
	} else if err != nil {
		if errors.Is(err, syscall.EAGAIN) {
			err = errors.New("would block: not a regular file")
		}
		f.root.Report(f.Name, err)
	}
	return n, err
}

// Drain reads the rest of the file, so that Digests covers all of it after
// a parser stopped early.
func (f *File) Drain() error {
	if f.eof {
		return nil
	}
	_, err := io.Copy(io.Discard, onlyReader{f})
	return err
}

type onlyReader struct{ io.Reader }

// DrainContext is Drain that stops, with ctx's error recorded as a problem
// of the file, when ctx is done.
func (f *File) DrainContext(ctx context.Context) error {
	// a buffer the size of what is left, up to 64 KiB: most files a
	// table reads are small
	buf := make([]byte, min(max(f.Info.Size()-f.n+1, 512), 64<<10))
	for !f.eof {
		if err := ctx.Err(); err != nil {
			return f.root.Report(f.Name, fmt.Errorf("not read to the end: %w", err))
		}
		if _, err := f.Read(buf); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// Digests returns the checksums of what was read; ok is false unless the
// whole file was read.
func (f *File) Digests() (d Digests, ok bool) {
	return Digests{SHA256: hex.EncodeToString(f.sha.Sum(nil)), Size: f.n}, f.eof
}

// Facts are the file's facts, from the open descriptor, with the SHA-256
// of what was read when all of it was.
func (f *File) Facts() Facts {
	facts := factsOf(f.Info)
	if d, ok := f.Digests(); ok {
		facts.SHA256 = d.SHA256
	}
	return facts
}

// DigestsOf are the digests of contents read whole.
func DigestsOf(data []byte) Digests {
	m, sh := md5.Sum(data), sha256.Sum256(data)
	return Digests{MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(sh[:]), Size: int64(len(data))}
}

// HashFile streams name through h and returns the hex sum.
func (r *Root) HashFile(name string, h hash.Hash) (string, error) {
	f, err := r.OpenFile(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(h, onlyReader{f.f}); err != nil {
		return "", r.Report(name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Descriptor is the open file itself, for a reader that needs a descriptor
// (a database library reading by descriptor, never by name). What is read
// through it is not hashed; it is closed with f.
func (f *File) Descriptor() *os.File { return f.f }

// ReadAll opens name and reads all of it: for files read whole by design
// (lists, small system files), bounded by MaxFileSize. Configuration that a
// package manager reads is streamed with OpenFile instead, whatever its size.
func (r *Root) ReadAll(name string) ([]byte, *File, error) {
	f, err := r.OpenFile(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if f.Info.Size() > r.maxSize() {
		return nil, nil, r.Report(name, tooLarge(f.Info.Size(), r.maxSize()))
	}
	data, err := io.ReadAll(io.LimitReader(f, r.maxSize()+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > r.maxSize() {
		return nil, nil, r.Report(name, tooLarge(int64(len(data)), r.maxSize()))
	}
	return data, f, nil
}
