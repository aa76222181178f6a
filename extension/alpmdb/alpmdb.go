// Package alpmdb reads pacman's local database (DBPath/local/<name>-<version>/
// desc, files and mtree, as libalpm's be_local.c writes them) far enough to
// say which installed package owns a file and whether the file still has
// the checksum the package recorded, and pacman.conf's [options] far enough
// to find that database and libalpm's hook directories. All of it is
// untrusted input: every reader is bounded, and what cannot be read is
// recorded as a problem of the root.
package alpmdb

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// Bounds of the file-list reader.
const (
	maxPackages    = 1 << 17
	maxFilesPerPkg = 1 << 22
	maxListLine    = 1 << 16 // PATH_MAX is 4096: a longer line is no path
)

// Owner is the package that lists a file.
type Owner struct {
	Package string
	// Modified: pacman -Qkk finds the file altered from the package's
	// mtree (its checksum, a symlink's target, or its type)
	Modified bool
}

// pkg is one installed package's directory, its name and mtree read on
// the first question that needs them.
type pkg struct {
	dir   string // DBPath/local/<name>-<version>, inside the root
	name  string
	mtree map[string]MtreeEntry // nil until read
}

// DB answers which installed package lists a path, reading every file
// list once, on the first question, and a package's mtree once, on the
// first question about one of its files' checksums.
type DB struct {
	fs     *fsroot.Root
	dbPath string // "" until known: pacman.conf's DBPath, read on load
	loaded bool
	pkgs   []*pkg
	owner  map[string]*pkg // absolute path, without a directory's trailing '/'
}

// New returns the local database of fs's root under dbPath, or under
// pacman.conf's DBPath when dbPath is "".
func New(fs *fsroot.Root, dbPath string) *DB { return &DB{fs: fs, dbPath: dbPath} }

// Lookup returns the package whose file list has path (pacman -Qo: the
// first installed package in directory order when several do); sum gives
// the file's digest in an algorithm ("sha256" or "md5"), hex ("" when it
// cannot be read; nil not to check).
func (d *DB) Lookup(p string, sum func(alg string) string) Owner {
	d.load()
	pk := d.owner[path.Clean("/"+p)]
	if pk == nil {
		return Owner{}
	}
	o := Owner{Package: d.name(pk)}
	if sum == nil {
		return o
	}
	e, ok := d.mtree(pk)[path.Clean("/"+p)]
	if !ok {
		return o
	}
	o.Modified = d.altered(p, e, sum)
	return o
}

// altered is whether pacman -Qkk (src/pacman/check.c check_pkg_full)
// finds the file altered in what it is or holds: its type on disk
// (lstat) is not its mtree type (check_file_type, "File type
// mismatch"), a symlink's target is not the mtree's
// (check_file_link, "Symlink path mismatch"), or a regular file's
// checksum differs (check_file_sha256sum). Entries of other types are
// "file type not recognized" there, and not checked.
func (d *DB) altered(p string, e MtreeEntry, sum func(alg string) string) bool {
	// a type that cannot be known (the file cannot be stat'ed) is not
	// claimed changed; a file's checksum still tells
	var m fs.FileMode
	fi, err := d.fs.Lstat(p)
	known := err == nil
	if known {
		m = fi.Mode()
	}
	switch e.Type {
	case "dir":
		return known && !m.IsDir()
	case "link":
		if !known || m&fs.ModeSymlink == 0 {
			return known
		}
		if e.Link == "" {
			return false
		}
		target, err := d.fs.Readlink(p)
		if err != nil {
			// "unable to read symlink contents": an error to pacman too
			d.fs.Report(p, fmt.Errorf("pacman database: symlink target: %w", err))
			return false
		}
		return target != e.Link
	case "file":
		if known && !m.IsRegular() {
			return true
		}
	default:
		return false
	}
	alg, want := "sha256", e.SHA256
	if want == "" {
		alg, want = "md5", e.MD5
	}
	if want == "" {
		return false
	}
	got := sum(alg)
	return got != "" && !strings.EqualFold(got, want)
}

// load reads every package's file list (be_local.c local_db_read: the
// %FILES% section of DBPath/local/<name>-<version>/files).
func (d *DB) load() {
	if d.loaded {
		return
	}
	d.loaded = true
	d.owner = map[string]*pkg{}
	if d.dbPath == "" {
		d.dbPath = ReadConfig(d.fs).DBPath
	}
	local := path.Join("/", d.dbPath, "local")
	if d.fs.Kind(local) != "dir" {
		return
	}
	dirs, err := d.fs.ReadDir(local)
	if err != nil {
		d.fs.Report(local, err)
	}
	sort.Strings(dirs)
	if len(dirs) > maxPackages {
		d.fs.ReportLimit(local, fmt.Sprintf("pacman database: over %d packages, the rest not read", maxPackages))
		dirs = dirs[:maxPackages]
	}
	for _, name := range dirs {
		dir := path.Join(local, name)
		if d.fs.Kind(dir) != "dir" {
			// ALPM_DB_VERSION and other files beside the packages
			continue
		}
		pk := &pkg{dir: dir}
		d.pkgs = append(d.pkgs, pk)
		d.readFiles(pk)
	}
}

// readFiles adds the paths of a package's %FILES% section.
func (d *DB) readFiles(pk *pkg) {
	name := path.Join(pk.dir, "files")
	if d.fs.Kind(name) == "" {
		return
	}
	f, err := d.fs.OpenFile(name)
	if err != nil {
		return // recorded by OpenFile
	}
	defer f.Close()
	n, err := eachInSection(bufio.NewReader(f), "%FILES%", func(file string) {
		if p := path.Clean("/" + file); d.owner[p] == nil {
			d.owner[p] = pk
		}
	})
	switch {
	case errors.Is(err, ErrLimit):
		d.fs.ReportLimit(name, err.Error())
	case err != nil:
		d.fs.Report(name, fmt.Errorf("pacman database: %w (after %d paths)", err, n))
	}
}

// eachInSection calls f with each line of a %SECTION% block of a desc or
// files file: the lines after its header up to the next empty line
// (be_local.c local_db_read reads a section's lines until an empty one).
func eachInSection(r *bufio.Reader, header string, f func(string)) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxListLine)
	in, n := false, 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == header:
			in = true
		case line == "":
			in = false
		case in:
			if n++; n > maxFilesPerPkg {
				return n - 1, fmt.Errorf("%w: over %d lines in %s", ErrLimit, maxFilesPerPkg, header)
			}
			f(line)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return n, fmt.Errorf("%w: a line over %d bytes", ErrLimit, maxListLine)
		}
		return n, err
	}
	return n, nil
}

// name is the package's %NAME% (be_local.c local_db_read), or its
// directory's name without version and release when desc cannot say.
func (d *DB) name(pk *pkg) string {
	if pk.name != "" {
		return pk.name
	}
	desc := path.Join(pk.dir, "desc")
	if f, err := d.fs.OpenFile(desc); err == nil {
		eachInSection(bufio.NewReader(f), "%NAME%", func(n string) {
			if pk.name == "" {
				pk.name = n
			}
		})
		f.Close()
	}
	if pk.name == "" {
		base := path.Base(pk.dir)
		parts := strings.Split(base, "-")
		pk.name = base
		if len(parts) > 2 {
			pk.name = strings.Join(parts[:len(parts)-2], "-")
		}
	}
	return pk.name
}

// mtree is the package's mtree by path, read once (empty when it has
// none or it cannot be read: either is recorded as a problem).
func (d *DB) mtree(pk *pkg) map[string]MtreeEntry {
	if pk.mtree != nil {
		return pk.mtree
	}
	pk.mtree = map[string]MtreeEntry{}
	name := path.Join(pk.dir, "mtree")
	f, err := d.fs.OpenFile(name)
	if err != nil {
		// an error reading it is recorded by OpenFile; none at all is
		// pacman -Qkk's "no mtree file", which checks nothing of the
		// package and yet succeeds (check_pkg_full): a file of it
		// cannot be verified, which is said once, here
		if fsroot.Classify(err) == "" {
			d.fs.ReportCause(name, fsroot.CauseUnverifiable, "pacman database: "+d.name(pk)+
				" has no mtree: its files' checksums cannot be checked (pacman -Qkk: no mtree file)")
		}
		return pk.mtree
	}
	defer f.Close()
	entries, err := ReadMtree(f)
	switch {
	case errors.Is(err, ErrLimit):
		d.fs.ReportLimit(name, err.Error())
	case err != nil:
		d.fs.Report(name, fmt.Errorf("pacman database: %w", err))
	}
	for _, e := range entries {
		// check_pkg_full skips the package's own metadata (.PKGINFO,
		// .BUILDINFO, ...; .INSTALL and .CHANGELOG are checked in the
		// database directory, not in the root)
		if !strings.HasPrefix(e.Path, "/.") {
			pk.mtree[e.Path] = e
		}
	}
	return pk.mtree
}
