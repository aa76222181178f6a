// Package dpkgdb answers, from dpkg's database under a root, which package
// owns a file and whether the file still has the checksum dpkg recorded.
package dpkgdb

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/lines"
)

// FS is what the database is read through (see fsroot.Root): files are
// streamed, so a database of any size is read with one line in memory.
type FS interface {
	Open(name string) (io.ReadCloser, error)
	ReadDir(name string) ([]string, error)
}

// eachLine calls fn for every line of the file name (without the newline);
// a file that cannot be opened or read to the end gives the error (the
// root records it as a problem).
func eachLine(fs FS, name string, fn func(line []byte)) error {
	f, err := fs.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	lr := lines.New(f, nil)
	for {
		l, ok := lr.Next()
		if !ok {
			return lr.Err()
		}
		fn([]byte(l))
	}
}

const infoDir = "/var/lib/dpkg/info"

// DB is a lazily loaded view of one root's dpkg database. It is meant to
// live for one table generation: the database is read at most once.
type DB struct {
	fs FS

	once      sync.Once
	conffiles map[string]conffile // path -> owner and recorded md5
	lists     map[string]string   // path -> package ("" for none), for the paths asked about
	listNames []string
	md5sums   map[string]map[string]string // package -> path -> md5
	// covered are the paths whose owners lists holds in full
	// (PrefetchMatching): one not there has none
	covered func(string) bool
	// full: lists has every path of every file list (an Index), and is
	// shared, never written
	full bool
	// sums reads a package's md5sums (nil: through fs, once per DB)
	sums func(pkg string) map[string]string
}

// Index is who owns which file by dpkg's database: the conffiles of its
// status file and every path of every package's file list, read once.
type Index struct {
	conffiles map[string]conffile
	owners    map[string]string
}

// ReadIndex reads every file list of the root fs shows; st is what its
// status file says.
func ReadIndex(fs FS, st Status) *Index {
	db := New(fs)
	db.once.Do(func() {
		db.conffiles = map[string]conffile{}
		db.lists = map[string]string{}
		for _, p := range st.Packages {
			addConffiles(p, db.conffiles)
		}
		db.listNames = listNames(fs)
	})
	db.PrefetchMatching(func(string) bool { return true })
	return &Index{conffiles: db.conffiles, owners: db.lists}
}

// CachedIndex is ReadIndex of the root of fs, once for every query of the
// run when ctx has a cache (dbcache).
func CachedIndex(ctx context.Context, fs *fsroot.Root) *Index {
	st := ReadStatus(ctx, fs, Admindir, nil)
	return dbcache.Get(ctx, fs, "dpkg owners", func(r *dbcache.Reader) (*Index, bool) {
		// the index holds the status file's conffiles: it is checked
		// against the status file that was read too
		r.Depends(Admindir+"/status", st.Info, st.OpenErr)
		return ReadIndex(r, st), st.Complete()
	})
}

// DB returns a DB answering from ix, which reads a package's md5sums
// through sums (ReadMD5Sums, or a cache of it). The index is not written.
func (ix *Index) DB(sums func(pkg string) map[string]string) *DB {
	db := &DB{conffiles: ix.conffiles, lists: ix.owners, full: true, sums: sums, md5sums: map[string]map[string]string{}}
	db.once.Do(func() {})
	return db
}

type conffile struct {
	pkg, md5 string
}

// New returns a DB for the root that fs shows.
func New(fs FS) *DB { return &DB{fs: fs, md5sums: map[string]map[string]string{}} }

// Owner is what dpkg knows of a file.
type Owner struct {
	Package string // "" when no package owns the file
	// Modified is true when the file's md5 no longer matches dpkg's record.
	Modified bool
}

// Lookup answers for path (as seen inside the root); md5 gives the file's
// current MD5 in hex ("" when its contents are unknown: nothing is
// compared), asked only when dpkg recorded one.
func (db *DB) Lookup(path string, md5 func() string) Owner {
	db.once.Do(db.load)
	if c, ok := db.conffiles[path]; ok {
		if c.md5 == "" || c.md5 == "newconffile" {
			return Owner{Package: c.pkg}
		}
		cur := md5()
		return Owner{Package: c.pkg, Modified: cur != "" && c.md5 != cur}
	}
	if _, known := db.lists[path]; !known && !db.full && (db.covered == nil || !db.covered(path)) {
		db.Prefetch([]string{path})
	}
	pkg := db.lists[path]
	if pkg == "" {
		return Owner{}
	}
	rec := db.recordedMD5(pkg, path)
	if rec == "" {
		return Owner{Package: pkg}
	}
	cur := md5()
	return Owner{Package: pkg, Modified: cur != "" && rec != cur}
}

// load reads the conffile records from the status file, which covers the
// configuration files package managers read, and the names of the file lists.
func (db *DB) load() {
	db.conffiles = map[string]conffile{}
	db.lists = map[string]string{}
	if f, err := db.fs.Open(Admindir + "/status"); err == nil {
		parseStatus(f, db.conffiles)
		f.Close()
	}
	db.listNames = listNames(db.fs)
}

// listNames are the file lists of the info directory, in its order.
func listNames(fs FS) []string {
	var out []string
	if names, err := fs.ReadDir(infoDir); err == nil {
		for _, n := range names {
			if strings.HasSuffix(n, ".list") {
				out = append(out, n)
			}
		}
	}
	return out
}

// parseStatus collects the Conffiles of the packages dpkg knows, in one
// pass over the status file.
func parseStatus(r io.Reader, out map[string]conffile) error {
	return ParseStatus(r, nil, func(p Package) { addConffiles(p, out) })
}

// addConffiles adds the Conffiles of p that dpkg would say p owns.
func addConffiles(p Package, out map[string]conffile) {
	// a removed package whose conffiles remain still owns them, as dpkg
	// -S says
	if p.State == "not-installed" {
		return
	}
	for _, c := range strings.Split(p.Conffiles, "\n") {
		f := strings.Fields(c)
		if len(f) < 2 {
			continue
		}
		if len(f) >= 3 && (f[2] == "obsolete" || f[2] == "remove-on-upgrade") {
			// dpkg no longer ships it; keep the owner, not the sum
			out[f[0]] = conffile{pkg: p.InfoName()}
			continue
		}
		out[f[0]] = conffile{pkg: p.InfoName(), md5: f[1]}
	}
}

// Prefetch finds the owners of paths that are not conffiles in one pass
// over the packages' file lists; Lookup then answers from memory. A Lookup
// of a path not prefetched makes a pass of its own.
func (db *DB) Prefetch(paths []string) {
	db.once.Do(db.load)
	if db.full {
		return
	}
	want := map[string]bool{}
	for _, p := range paths {
		if _, ok := db.conffiles[p]; !ok {
			if _, ok := db.lists[p]; !ok {
				want[p] = true
			}
		}
	}
	if len(want) == 0 {
		return
	}
	for _, n := range db.listNames {
		pkg := strings.TrimSuffix(n, ".list")
		eachLine(db.fs, infoDir+"/"+n, func(line []byte) {
			if want[string(line)] {
				if _, seen := db.lists[string(line)]; !seen {
					db.lists[string(line)] = pkg
				}
			}
		})
	}
	for p := range want {
		if _, ok := db.lists[p]; !ok {
			db.lists[p] = ""
		}
	}
}

// PrefetchMatching finds, in one pass over the file lists, the owner of
// every listed path that match accepts; Lookup then answers any such path
// from memory, including that no package lists it. For a reader asking
// about an open-ended set of paths under a few directories.
func (db *DB) PrefetchMatching(match func(string) bool) {
	db.once.Do(db.load)
	if db.full {
		return
	}
	for _, n := range db.listNames {
		pkg := strings.TrimSuffix(n, ".list")
		eachLine(db.fs, infoDir+"/"+n, func(line []byte) {
			if p := string(line); match(p) {
				if _, seen := db.lists[p]; !seen {
					db.lists[p] = pkg
				}
			}
		})
	}
	db.covered = match
}

// recordedMD5 reads the package's md5sums file (paths there have no
// leading slash).
func (db *DB) recordedMD5(pkg, path string) string {
	sums, ok := db.md5sums[pkg]
	if !ok {
		if db.sums != nil {
			sums = db.sums(pkg)
		} else {
			sums = ReadMD5Sums(db.fs, pkg)
		}
		db.md5sums[pkg] = sums
	}
	return sums[path]
}

// ReadMD5Sums reads the md5sums file of a package (by its info name):
// path → recorded md5.
func ReadMD5Sums(fs FS, pkg string) map[string]string {
	sums := map[string]string{}
	eachLine(fs, infoDir+"/"+pkg+".md5sums", func(line []byte) {
		if sum, p, ok := bytes.Cut(line, []byte("  ")); ok {
			sums["/"+string(p)] = string(sum)
		}
	})
	return sums
}
