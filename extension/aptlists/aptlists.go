// Package aptlists reads the package indexes apt keeps (its lists
// directory, /var/lib/apt/lists by default): which versions of which
// packages the configured repositories offered at the last `apt update`.
// apt stores each index plain, or — with Acquire::GzipIndexes, the default
// of Debian's and Ubuntu's container images — compressed as downloaded or
// recompressed with its cheapest compressor (lz4); every format apt
// writes is read.
package aptlists

import (
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/pkgpersist/pkgpersist/extension/deb822"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// Dir is apt's default lists directory (Dir::State::lists).
const Dir = "/var/lib/apt/lists"

// FS is what the lists are read through (see fsroot.Root).
type FS interface {
	Open(name string) (io.ReadCloser, error)
	ReadDir(name string) ([]string, error)
}

// Entry is one package version an index offers.
type Entry struct{ Package, Version, Arch string }

// Problem is an index that could not be read in full.
type Problem struct {
	List string
	Err  error
}

// Index is what every list of a directory offers.
type Index struct {
	Lists  []string // the Packages indexes read, by file name
	offers map[Entry][]string
}

// decompressors by the extensions apt gives its stored indexes
// (APT::Compressor: .gz, .bz2, .lzma, .xz, .lz4, .zst).
var decompressors = map[string]func(io.Reader) (io.Reader, error){
	"":      func(r io.Reader) (io.Reader, error) { return r, nil },
	".gz":   func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	".bz2":  func(r io.Reader) (io.Reader, error) { return bzip2.NewReader(r), nil },
	".xz":   func(r io.Reader) (io.Reader, error) { return xz.NewReader(r) },
	".lzma": func(r io.Reader) (io.Reader, error) { return lzma.NewReader(r) },
	".lz4":  func(r io.Reader) (io.Reader, error) { return lz4.NewReader(r), nil },
	".zst": func(r io.Reader) (io.Reader, error) {
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	},
}

// IsPackages reports whether a file name of the lists directory is a
// binary Packages index, and with which compression extension.
func IsPackages(name string) (ext string, ok bool) {
	for e := range decompressors {
		if strings.HasSuffix(name, "_Packages"+e) {
			return e, true
		}
	}
	return "", false
}

// Load reads every Packages index of dir; stop is polled while reading.
// An index that cannot be read in full is a problem, and what was read of
// it still counts.
func Load(fs FS, dir string, stop func() error) (*Index, []Problem) {
	ix := &Index{offers: map[Entry][]string{}}
	names, err := fs.ReadDir(dir)
	if err != nil {
		return ix, []Problem{{List: dir, Err: err}}
	}
	sort.Strings(names)
	var probs []Problem
	for _, n := range names {
		ext, ok := IsPackages(n)
		if !ok {
			continue
		}
		ix.Lists = append(ix.Lists, n)
		if err := ix.read(fs, dir+"/"+n, n, ext, stop); err != nil {
			probs = append(probs, Problem{List: dir + "/" + n, Err: err})
		}
	}
	return ix, probs
}

func (ix *Index) read(fs FS, p, name, ext string, stop func() error) error {
	f, err := fs.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := decompressors[ext](f)
	if err != nil {
		return fmt.Errorf("decompress %s: %w", ext, err)
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	return Parse(r, stop, func(e Entry) { ix.offers[e] = append(ix.offers[e], name) })
}

// Parse calls fn for each package stanza of a Packages index.
func Parse(r io.Reader, stop func() error, fn func(Entry)) error {
	return deb822.Each(r, []string{"Package", "Version", "Architecture"}, stop, func(s deb822.Stanza) {
		if s.Fields["Package"] != "" {
			fn(Entry{s.Fields["Package"], s.Fields["Version"], s.Fields["Architecture"]})
		}
	})
}

// Offers returns the lists that offer this version of the package.
func (ix *Index) Offers(e Entry) []string { return ix.offers[e] }
