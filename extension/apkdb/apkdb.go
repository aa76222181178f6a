// Package apkdb reads Alpine apk's installed-package database
// (/lib/apk/db/installed), its triggers file (/lib/apk/db/triggers) and its
// scripts archive (/lib/apk/db/scripts.tar), as apk-tools reads them
// (src/database.c apk_db_fdb_read, apk_db_add_trigger,
// apk_read_script_archive_entry). All three are untrusted input: every
// reader is bounded and never panics.
package apkdb

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The database files, relative to the root (apk_db_layer_name: lib/apk/db).
const (
	InstalledFile  = "/lib/apk/db/installed"
	TriggersFile   = "/lib/apk/db/triggers"
	ScriptsFile    = "/lib/apk/db/scripts.tar"
	ScriptsGzFile  = "/lib/apk/db/scripts.tar.gz"
	maxLine        = 1 << 20 // a longer line is not a database line: a limit, reported
	maxPackages    = 1 << 20
	maxFilesPerPkg = 1 << 22
)

// ErrLimit is a bound of the readers being hit.
var ErrLimit = errors.New("apk database over pkgpersist's bounds")

// Digest is an apk checksum: its algorithm ("sha1" or "sha256") and raw
// bytes.
type Digest struct {
	Alg string
	Sum []byte
}

// Valid is true for a digest that decoded.
func (d Digest) Valid() bool { return d.Alg != "" }

// Key is the digest as a map key.
func (d Digest) Key() string { return d.Alg + ":" + string(d.Sum) }

// ParseDigest decodes apk's checksum text: "Q1"/"Q2" followed by base64 or
// "X1"/"X2" followed by hex (blob.c apk_blob_pull_digest; a "1" digest
// long enough for SHA-256 is SHA-256). It returns an invalid Digest for
// anything else.
func ParseDigest(s string) Digest {
	if len(s) < 2 {
		return Digest{}
	}
	var raw []byte
	var err error
	switch s[0] {
	case 'Q':
		raw, err = base64.StdEncoding.DecodeString(s[2:])
	case 'X':
		raw, err = hex.DecodeString(s[2:])
	default:
		return Digest{}
	}
	if err != nil {
		return Digest{}
	}
	switch {
	case (s[1] == '1' || s[1] == '2') && len(raw) == 32:
		return Digest{Alg: "sha256", Sum: raw}
	case s[1] == '1' && len(raw) == 20:
		return Digest{Alg: "sha1", Sum: raw}
	}
	return Digest{}
}

// Package is one installed package's record.
type Package struct {
	Name     string
	Version  string
	Identity Digest // the C: line, the key of triggers and scripts
	// Files are the package's files, absolute, with their Z: checksum
	// (invalid when the record has none).
	Files map[string]Digest
	Line  int // where the record starts
}

// ParseInstalled reads the installed database record by record; stop is
// asked between lines (nil never stops). It returns the packages read and
// the error that stopped it (a format error keeps what came before, as apk
// fails the whole database: callers say so).
func ParseInstalled(r io.Reader, stop func() error) ([]Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var out []Package
	var cur *Package
	dir := ""
	var lastFile string
	line := 0
	flush := func() {
		if cur != nil && cur.Name != "" {
			out = append(out, *cur)
		}
		cur, dir, lastFile = nil, "", ""
	}
	for sc.Scan() {
		line++
		if stop != nil && line%4096 == 0 {
			if err := stop(); err != nil {
				return out, err
			}
		}
		l := sc.Text()
		if len(l) < 2 {
			// a blank line ends a record (apk_db_fdb_read: l.len < 2)
			flush()
			continue
		}
		if l[1] != ':' {
			return out, fmt.Errorf("line %d: not a field line", line)
		}
		if cur == nil {
			if len(out) >= maxPackages {
				return out, fmt.Errorf("line %d: %w: over %d packages", line, ErrLimit, maxPackages)
			}
			cur = &Package{Files: map[string]Digest{}, Line: line}
		}
		v := l[2:]
		switch l[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'C':
			cur.Identity = ParseDigest(v)
		case 'F':
			dir = "/" + strings.Trim(v, "/")
			lastFile = ""
		case 'R':
			if len(cur.Files) >= maxFilesPerPkg {
				return out, fmt.Errorf("line %d: %w: over %d files in one package", line, ErrLimit, maxFilesPerPkg)
			}
			lastFile = strings.TrimSuffix(dir, "/") + "/" + v
			if dir == "" {
				// apk: an R: before any F: is an "FDB format error"
				return out, fmt.Errorf("line %d: R: before any F:", line)
			}
			cur.Files[lastFile] = Digest{}
		case 'Z':
			if lastFile != "" {
				cur.Files[lastFile] = ParseDigest(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line %d: %w: a line over %d bytes", line+1, ErrLimit, maxLine)
		}
		return out, err
	}
	flush()
	return out, nil
}

// ParseTriggers reads the triggers file: one line per package, its
// identity digest then the trigger globs, space-separated
// (database.c apk_db_triggers_write). Lines whose digest does not decode
// are skipped, as apk skips them.
func ParseTriggers(r io.Reader) (map[string][]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	out := map[string][]string{}
	for n := 0; sc.Scan(); n++ {
		if n >= maxPackages {
			return out, fmt.Errorf("%w: over %d trigger lines", ErrLimit, maxPackages)
		}
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		d := ParseDigest(f[0])
		if !d.Valid() {
			continue
		}
		out[d.Key()] = append(out[d.Key()], f[1:]...)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("%w: a line over %d bytes", ErrLimit, maxLine)
		}
		return out, err
	}
	return out, nil
}
