package fsroot

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// File is a regular file of a root opened for reading. Everything read
// through it is hashed on the way, so a parser that streams a file of any
// size gets the file's digests without a second read or a copy in memory.
type File struct {
	Name string      // as seen inside the root
	Info fs.FileInfo // of the open file itself
	f    *os.File
	md5  hash.Hash
	sha  hash.Hash
	n    int64
	eof  bool
	root *Root
}

// Digests are a file's checksums in the algorithms package databases
// record: MD5 (dpkg, older rpm) and SHA-256.
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
	return &File{Name: clean(name), Info: fi, f: f, md5: md5.New(), sha: sha256.New(), root: r}, nil
}

// Read reads and hashes. An error other than the end of the file is
// recorded as a problem of the file.
func (f *File) Read(p []byte) (int, error) {
	n, err := f.f.Read(p)
	if n > 0 {
		f.md5.Write(p[:n])
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

// Digests returns the checksums of what was read; ok is false unless the
// whole file was read.
func (f *File) Digests() (d Digests, ok bool) {
	return Digests{MD5: hex.EncodeToString(f.md5.Sum(nil)), SHA256: hex.EncodeToString(f.sha.Sum(nil)), Size: f.n}, f.eof
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
