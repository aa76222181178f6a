package apkdb

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/countreader"
)

// maxScripts bounds the entries read from a scripts archive; maxScript
// the size of one script: apk holds each in memory, and a sparse entry
// may claim any size for a few bytes of archive.
const (
	maxScripts = 1 << 20
	maxScript  = 16 << 20
)

// Script is one entry of the scripts archive apk attaches to an installed
// package: the package's identity and the script type are in its name,
// "<name>-<version>.X1<hex of the identity>.<type>" (database.c
// apk_db_scriptdb_write, apk_read_script_archive_entry).
type Script struct {
	Entry    string
	Identity Digest
	Type     string // "pre-install", "post-install", …, "trigger"
	SHA256   string
	Size     int64
}

// scriptTypes are the names apk knows (package.c apk_script_types); an
// entry of any other type is ignored by apk.
var scriptTypes = map[string]bool{
	"pre-install": true, "post-install": true, "pre-deinstall": true, "post-deinstall": true,
	"pre-upgrade": true, "post-upgrade": true, "trigger": true,
}

// ReadScripts streams the scripts archive, hashing each script apk would
// attach (regular entries with a known type and a decodable identity),
// never holding one in memory; stop is asked between entries (nil never
// stops). It returns what it read before an error.
func ReadScripts(r io.Reader, stop func() error) ([]Script, error) {
	// what the archive holds bounds what is hashed: a sparse entry's
	// holes would be hashed as zeros that take no room in the archive
	in := &countreader.Reader{R: r}
	tr := tar.NewReader(in)
	var hashed int64
	var out []Script
	for n := 0; ; n++ {
		if stop != nil {
			if err := stop(); err != nil {
				return out, err
			}
		}
		if n >= maxScripts {
			return out, fmt.Errorf("%w: over %d archive entries", ErrLimit, maxScripts)
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("entry %d: %w", n+1, err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		s, ok := parseEntryName(h.Name)
		if !ok {
			continue
		}
		if h.Size > maxScript {
			return out, fmt.Errorf("%s: %w: a script of %d bytes", h.Name, ErrLimit, h.Size)
		}
		sum := sha256.New()
		size, err := copyChecked(sum, tr, stop)
		if err != nil {
			return out, fmt.Errorf("%s: %w", h.Name, err)
		}
		if hashed += size; hashed > in.N+maxScript {
			return out, fmt.Errorf("%s: %w: %d bytes of scripts from %d bytes of archive", h.Name, ErrLimit, hashed, in.N)
		}
		s.SHA256, s.Size = hex.EncodeToString(sum.Sum(nil)), size
		out = append(out, s)
	}
}

// parseEntryName splits "<name>-<version>.<hex identity>.<type>" at its
// last two dots, as apk does.
func parseEntryName(name string) (Script, bool) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return Script{}, false
	}
	typ := name[i+1:]
	j := strings.LastIndexByte(name[:i], '.')
	if j < 0 || !scriptTypes[typ] {
		return Script{}, false
	}
	// the identity as apk writes it there: "X1" and hex (blob.c
	// apk_blob_push_hash_hex)
	d := ParseDigest(name[j+1 : i])
	if !d.Valid() {
		return Script{}, false
	}
	return Script{Entry: name, Identity: d, Type: typ}, true
}

// Gunzip opens the gzip stream of scripts.tar.gz (apk reads it when there
// is no scripts.tar).
func Gunzip(r io.Reader) (io.Reader, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return zr, nil
}

// copyChecked is io.Copy asking stop between chunks: one entry may be as
// large as the archive.
func copyChecked(w io.Writer, r io.Reader, stop func() error) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		if stop != nil {
			if err := stop(); err != nil {
				return n, err
			}
		}
		m, err := r.Read(buf)
		w.Write(buf[:m])
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
