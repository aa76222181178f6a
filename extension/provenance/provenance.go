// Package provenance answers, for a file of a root, what a detection
// engineer asks first: its hash, owner, mode and time, the package that
// owns it (dpkg's database, then rpm's, then apk's, then pacman's), and
// whether that package's recorded checksum still matches.
package provenance

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"hash"
	"slices"
	"strconv"

	"github.com/pkgpersist/pkgpersist/extension/alpmdb"
	"github.com/pkgpersist/pkgpersist/extension/apkdb"
	"github.com/pkgpersist/pkgpersist/extension/canonpath"
	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Of is the provenance of one file.
type Of struct {
	Found   bool // the file could be stat'ed
	Facts   fsroot.Facts
	Package string
	// Manager is the database that lists the package: "dpkg", "rpm",
	// "apk" or "pacman" ("" when none does).
	Manager  string
	Modified bool
}

// Columns are the provenance columns' values, keyed by column name.
func (o Of) Columns() map[string]string {
	c := map[string]string{"sha256": "", "mtime": "", "size": "", "uid": "", "mode": "",
		"package": o.Package, "package_modified": "0"}
	if o.Modified {
		c["package_modified"] = "1"
	}
	if o.Found {
		c["sha256"] = o.Facts.SHA256
		c["mtime"] = strconv.FormatInt(o.Facts.Mtime, 10)
		c["size"] = strconv.FormatInt(o.Facts.Size, 10)
		c["uid"] = strconv.FormatInt(o.Facts.UID, 10)
		c["mode"] = o.Facts.Mode
	}
	return c
}

// Source answers for the files of one root, reading each file and the
// package database at most once. It is meant for one table generation.
type Source struct {
	ctx   context.Context // bounds the reading of files
	fs    *fsroot.Root
	dpkg  *dpkgdb.DB
	rpm   *rpmdb.DB
	apk   *apkdb.DB
	alpm  *alpmdb.DB
	cache map[string]Of
	// names resolves the directories of paths no package lists by the
	// name asked (nil until one is needed)
	names *canonpath.Resolver
}

// New returns a Source reading through fs.
func New(fs *fsroot.Root) *Source { return newSource(context.Background(), context.Background(), fs) }

// Cached is New with dpkg's database and rpm's file index from the run's
// cache in ctx (dbcache), read once for every query of the run.
func Cached(ctx context.Context, fs *fsroot.Root) *Source {
	return newSource(context.Background(), ctx, fs)
}

// newSource returns a Source whose reading of files and of rpm's database
// ctx bounds, and whose dpkg database and rpm file index are the ones of
// run's cache when it has one.
func newSource(ctx, run context.Context, fs *fsroot.Root) *Source {
	return &Source{ctx: ctx, fs: fs, dpkg: dpkgDB(run, fs), rpm: rpmdb.Cached(ctx, run, fs), apk: apkdb.New(fs), alpm: alpmdb.New(fs, ""), cache: map[string]Of{}}
}

// dpkgDB is dpkg's database of fs's root: its whole index, kept in run's
// cache, or without a cache the paths asked about, read for this Source.
func dpkgDB(run context.Context, fs *fsroot.Root) *dpkgdb.DB {
	if !dbcache.Active(run) {
		return dpkgdb.New(fs.Sub())
	}
	return dpkgdb.CachedIndex(run, fs).DB(func(pkg string) map[string]string {
		return dbcache.Get(run, fs, "dpkg md5sums "+pkg, func(r *dbcache.Reader) (map[string]string, bool) {
			return dpkgdb.ReadMD5Sums(r, pkg), true
		})
	})
}

// Prefetch tells the package database which paths will be asked about,
// so that it reads its file lists once for all of them.
func (s *Source) Prefetch(paths []string) {
	all := paths
	for _, p := range paths {
		all = append(all, s.otherNames(p)...)
	}
	s.dpkg.Prefetch(all)
}

// PrefetchMatching tells the package database that the paths asked about
// will be those match accepts, so that it reads its file lists once for
// all of them, whichever they are.
func (s *Source) PrefetchMatching(match func(string) bool) {
	names := s.resolver()
	if len(names.Links()) == 0 {
		s.dpkg.PrefetchMatching(match)
		return
	}
	// a listed path counts too when match accepts its name through a
	// top-level link, the other name owner asks for
	s.dpkg.PrefetchMatching(func(p string) bool {
		if match(p) {
			return true
		}
		for _, q := range names.Swapped(p) {
			if match(q) {
				return true
			}
		}
		return false
	})
}

func (s *Source) resolver() *canonpath.Resolver {
	if s.names == nil {
		s.names = canonpath.New(s.fs)
	}
	return s.names
}

// otherNames are the names other than p a package database may list the
// file p under: p with its directory resolved inside the root, and that
// path's names through the root's top-level links (/usr/lib/x is /lib/x
// when /lib -> usr/lib). Each directory is resolved once.
func (s *Source) otherNames(p string) []string {
	names := s.resolver()
	canon, err := names.File(p)
	if err != nil {
		// a loop or an unreadable directory: no other name is known
		return nil
	}
	var out []string
	if canon != p {
		out = append(out, canon)
	}
	for _, a := range names.Aliases(canon) {
		if a != p {
			out = append(out, a)
		}
	}
	return out
}

// owner asks dpkg's database, then rpm's, apk's and pacman's; d are the
// file's digests (nil when its contents are unknown). When none lists the
// path as asked, they are asked again for its other names (otherNames):
// the package that lists the file under any of them puts it where path
// is when installed into this root. pacman -Qo matches the path with its
// directory resolved (src/pacman/query.c query_fileowner, lrealpath), rpm
// -qf by the directory's identity (lib/fprint.c), both through a link in
// either direction; dpkg -S matches the name literally, and the owner
// found here is the one whose unpacking wrote the file.
func (s *Source) owner(path string, d *fsroot.Digests) (pkg, manager string, modified bool) {
	if pkg, manager, modified = s.listedAs(path, path, d); pkg != "" {
		return pkg, manager, modified
	}
	for _, name := range s.otherNames(path) {
		if pkg, manager, modified = s.listedAs(name, path, d); pkg != "" {
			return pkg, manager, modified
		}
	}
	return "", "", false
}

// listedAs asks the databases for the file path under name.
func (s *Source) listedAs(name, path string, d *fsroot.Digests) (pkg, manager string, modified bool) {
	if o := s.dpkg.Lookup(name, func() string { return s.digest(path, d, 1) }); o.Package != "" {
		return o.Package, "dpkg", o.Modified
	}
	if o := s.rpm.Lookup(name, func(algo int32) string { return s.digest(path, d, algo) }); o.Package != "" {
		return o.Package, "rpm", o.Modified
	}
	named := func(alg string) string { return s.namedDigest(path, d, alg) }
	if o := s.apk.Lookup(name, named); o.Package != "" {
		return o.Package, "apk", o.Modified
	}
	if o := s.alpm.Lookup(name, named); o.Package != "" {
		return o.Package, "pacman", o.Modified
	}
	return "", "", false
}

// digest is the file's digest in an rpm algorithm: from d when it has it,
// else by reading the file again ("" when it cannot be read or d is nil).
func (s *Source) digest(path string, d *fsroot.Digests, algo int32) string {
	switch {
	case d == nil:
		return ""
	case algo == 1 && d.MD5 != "":
		return d.MD5
	case algo == 8:
		return d.SHA256
	}
	h := rpmdb.NewHash(algo)
	if h == nil {
		return ""
	}
	sum, err := s.fs.HashFile(path, h)
	if err != nil {
		return ""
	}
	return sum
}

// namedDigest is the file's digest in an algorithm apk or pacman names
// ("md5", "sha1" or "sha256"), "" when d is nil, the table could not read
// the file (no SHA-256: it is not read again) or it cannot be read.
func (s *Source) namedDigest(path string, d *fsroot.Digests, alg string) string {
	var h hash.Hash
	switch {
	case d == nil || d.SHA256 == "":
		return ""
	case alg == "sha256":
		return d.SHA256
	case alg == "md5" && d.MD5 != "":
		return d.MD5
	case alg == "md5":
		h = md5.New()
	case alg == "sha1":
		h = sha1.New()
	default:
		return ""
	}
	sum, err := s.fs.HashFile(path, h)
	if err != nil {
		return ""
	}
	return sum
}

// Close releases the package databases.
func (s *Source) Close() { s.rpm.Close() }

// File returns the provenance of path; d are its digests when the caller
// has streamed it already (nil to read it here).
func (s *Source) File(path string, d *fsroot.Digests) Of { return s.file(path, d, nil) }

// file is File with the file's facts when the caller had it open (nil to
// stat it here).
func (s *Source) file(path string, d *fsroot.Digests, facts *fsroot.Facts) Of {
	if o, ok := s.cache[path]; ok || path == "" {
		return o
	}
	if d == nil && s.fs.Kind(path) == "file" {
		// a directory or FIFO a table lists is not a file the package
		// manager reads (the table reports one it does read)
		d = s.read(path)
	}
	var o Of
	f, err := fsroot.Facts{}, error(nil)
	if facts != nil {
		f = *facts
		f.SHA256 = ""
	} else {
		f, err = s.fs.Describe(path, nil)
	}
	if err == nil {
		o.Found, o.Facts = true, f
		if d != nil {
			o.Facts.SHA256 = d.SHA256
		}
		o.Package, o.Manager, o.Modified = s.owner(path, d)
	}
	s.cache[path] = o
	return o
}

// read streams path to get its digests (nil when it cannot be read whole
// in the time given for reading).
func (s *Source) read(path string) *fsroot.Digests {
	f, err := s.fs.OpenFile(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if f.DrainContext(s.ctx) != nil {
		return nil
	}
	d, ok := f.Digests()
	if !ok {
		return nil
	}
	return &d
}

// Item is one row's own columns and the file whose provenance it carries.
type Item struct {
	Row  table.Row
	Path string
	// Digests of the file when the table has streamed it already; nil to
	// read it here.
	Digests *fsroot.Digests
	// Data is the file's contents when a table read it whole (nil when
	// not): its digests are taken from it.
	Data []byte
	// Unread marks a file the table could not read to the end (a limit or
	// its deadline): its contents are not read again here.
	Unread bool
	// Facts of the file when the table had it open (nil to stat it
	// here); their SHA256 is not used.
	Facts *fsroot.Facts
}

// digests of an item: given, from its data, or nil to read the file.
func (it Item) digests() *fsroot.Digests {
	if it.Digests != nil || it.Data == nil {
		return it.Digests
	}
	d := fsroot.DigestsOf(it.Data)
	return &d
}

// Rows completes each item with the provenance columns among columns (the
// table's), reading the root's package databases once for all of them.
func Rows(ctx context.Context, fs *fsroot.Root, columns []table.Column, items []Item) ([]table.Row, error) {
	if err := table.Check(ctx); err != nil {
		return nil, err
	}
	rctx, cancel := table.Reading(ctx)
	defer cancel()
	s := newSource(rctx, ctx, fs)
	defer s.Close()
	paths := make([]string, len(items))
	for i, it := range items {
		paths[i] = it.Path
	}
	s.Prefetch(paths)
	wanted := map[string]bool{}
	for _, c := range columns {
		wanted[c.Name] = true
	}
	rows := make([]table.Row, len(items))
	// the columns of each file, for the rows that share it
	byPath := map[string]map[string]string{}
	for i, it := range items {
		if i%256 == 0 {
			if err := table.Check(ctx); err != nil {
				return nil, err
			}
		}
		d := it.digests()
		if it.Unread && d == nil {
			d = &fsroot.Digests{}
		}
		cols, ok := byPath[it.Path]
		if !ok {
			cols = s.file(it.Path, d, it.Facts).Columns()
			byPath[it.Path] = cols
		}
		for k, v := range cols {
			if wanted[k] {
				it.Row[k] = v
			}
		}
		rows[i] = it.Row
	}
	return rows, nil
}

// RootRows are the rows of one root of a table whose every row is of a
// file: items evaluates the root, opened here, reading its files within
// rctx (table.OpenRoot), and Rows completes them with the provenance
// columns among columns (the table's).
func RootRows(ctx context.Context, root string, columns []table.Column, items func(rctx context.Context, fs *fsroot.Root) []Item) ([]table.Row, error) {
	fs, rctx, done, err := table.OpenRoot(ctx, root)
	if err != nil {
		return nil, err
	}
	defer done()
	return Rows(ctx, fs, columns, items(rctx, fs))
}

// FileColumns are the columns of a table whose rows are of files: its
// own, then the provenance columns of "of" (Columns), then the root.
func FileColumns(own []table.Column, of string, size bool) []table.Column {
	return slices.Concat(own, Columns(of, size), []table.Column{table.RootColumn})
}

// Columns are the provenance columns a table declares, describing "of"
// (e.g. "the file", "the module"); size adds the file's size.
func Columns(of string, size bool) []table.Column {
	cols := []table.Column{
		{Name: "sha256", Type: table.Text, Description: "SHA-256 of " + of},
		{Name: "mtime", Type: table.BigInt, Description: "Modification time of " + of + " (Unix seconds)"},
	}
	if size {
		cols = append(cols, table.Column{Name: "size", Type: table.BigInt, Description: "Size of " + of + " in bytes"})
	}
	return append(cols,
		table.Column{Name: "uid", Type: table.BigInt, Description: "Owner of " + of},
		table.Column{Name: "mode", Type: table.Text, Description: "Permission bits of " + of + ", octal"},
		table.Column{Name: "package", Type: table.Text, Description: "The Debian, RPM, apk or pacman package that owns " + of + ", `''` when none does"},
		table.Column{Name: "package_modified", Type: table.Integer, Description: "1 when " + of + " no longer has the checksum its package recorded"},
	)
}

// Owner returns the package whose file list has path, whether or not the
// file exists now ("" when no package lists it).
func (s *Source) Owner(path string) string {
	pkg, _ := s.OwnerOf(path)
	return pkg
}

// OwnerOf returns the package whose file list has path, whether or not
// the file exists now, and the manager whose database lists it ("dpkg",
// "rpm", "apk" or "pacman"; both "" when none does).
func (s *Source) OwnerOf(path string) (pkg, manager string) {
	pkg, manager, _ = s.owner(path, nil)
	return pkg, manager
}
