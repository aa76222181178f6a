// Package dbcache keeps what was read of a root's package databases
// (dpkg's status and file lists, apt's package lists) for the other
// queries of the same run — one hunt, one query statement, one extension
// process — so that each database is read once per root, not once per
// table that asks it.
//
// An entry answers only while every file and directory it was read from
// has the identity it had when it was read (device, inode, mode, size,
// modification and change times; a file that was missing is missing
// still), checked once per statement: a database changed between two
// queries is read again, never answered stale. What could not be read in
// full is not kept: its problems are the next reader's too. Nor is what
// was read from a file changed in the last racyWindow: a write right after
// the reading could leave it with the same times (the kernel stamps them
// from a clock that ticks every few milliseconds).
package dbcache

import (
	"context"
	"io"
	"io/fs"
	"sync"
	"syscall"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// racyWindow is how recently changed a file read must not be for the
// reading to be kept: well over the kernel's timestamp granularity (a
// jiffy, 1 to 10 ms).
const racyWindow = 100 * time.Millisecond

// Cache holds the entries of every root read in one run. It is safe for
// concurrent use.
type Cache struct {
	mu      sync.Mutex
	entries map[key]*entry
}

// New returns an empty cache.
func New() *Cache { return &Cache{entries: map[key]*entry{}} }

// key is one kind of entry of one root, the root directory known by its
// identity as well as its name (a root remounted under the same name is
// another root).
type key struct {
	dir      string
	dev, ino uint64
	kind     string
}

type entry struct {
	mu     sync.Mutex // one reading of an entry at a time
	kept   bool
	value  any
	stamps []stamp
}

// stamp is the identity of a file an entry was read from.
type stamp struct {
	name string
	id   identity
}

type identity struct {
	missing      bool
	dev, ino     uint64
	mode         uint32
	size         int64
	mtime, ctime syscall.Timespec
}

// identityOf is the identity of what a stat (following symlinks inside
// the root) found; ok is false when the stat failed for another reason
// than the file's absence (the entry is then not kept).
func identityOf(fi fs.FileInfo, err error) (identity, bool) {
	if err != nil {
		return identity{missing: true}, fsroot.Classify(err) == ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return identity{}, false
	}
	return identity{dev: st.Dev, ino: st.Ino, mode: st.Mode, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}, true
}

// view is the cache as one statement (one table generation in the
// extension) sees it: an entry's files are checked once per view.
type view struct {
	c       *Cache
	mu      sync.Mutex
	checked map[key]bool
}

type viewKey struct{}

// With returns ctx for one statement that reads through c.
func With(ctx context.Context, c *Cache) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, viewKey{}, &view{c: c, checked: map[key]bool{}})
}

// Active reports whether ctx has a cache: without one, a reader that
// would read more to keep it (a whole index instead of the paths asked
// about) should not.
func Active(ctx context.Context) bool { return from(ctx) != nil }

func from(ctx context.Context) *view {
	v, _ := ctx.Value(viewKey{}).(*view)
	return v
}

// Reader is the root as a reading to keep sees it: it notes the identity
// of each file and directory read, which the entry is then checked
// against. It has the methods of fsroot.Root that the databases' readers
// use.
type Reader struct {
	root   *fsroot.Root
	stamps []stamp
	// unkept: something read has no identity to check (a stat
	// refused), or one a change could keep (racyWindow): the entry must
	// not be kept
	unkept bool
}

func (r *Reader) note(name string, fi fs.FileInfo, err error) {
	id, ok := identityOf(fi, err)
	if !ok || time.Unix(id.ctime.Unix()).After(time.Now().Add(-racyWindow)) {
		r.unkept = true
	}
	r.stamps = append(r.stamps, stamp{name, id})
}

// OpenFile opens name, noting the identity of what it opened.
func (r *Reader) OpenFile(name string) (*fsroot.File, error) {
	f, err := r.root.OpenFile(name)
	if err != nil {
		r.note(name, nil, err)
		return nil, err
	}
	r.note(name, f.Info, nil)
	return f, nil
}

// Open is OpenFile as an io.ReadCloser.
func (r *Reader) Open(name string) (io.ReadCloser, error) {
	f, err := r.OpenFile(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// ReadDir lists a directory, noting its identity first: a name added,
// removed or renamed there changes its times.
func (r *Reader) ReadDir(name string) ([]string, error) {
	fi, err := r.root.Stat(name)
	r.note(name, fi, err)
	return r.root.ReadDir(name)
}

// Stat stats name and notes its identity.
func (r *Reader) Stat(name string) (fs.FileInfo, error) {
	fi, err := r.root.Stat(name)
	r.note(name, fi, err)
	return fi, err
}

// Depends notes that the reading depends on name as it was when fi (or
// err) was had: what was read of it already, kept elsewhere.
func (r *Reader) Depends(name string, fi fs.FileInfo, err error) { r.note(name, fi, err) }

// Report records a problem of name (see fsroot.Root.Report).
func (r *Reader) Report(name string, err error) error { return r.root.Report(name, err) }

// ReportLimit records a bound reached on name (see fsroot.Root.ReportLimit).
func (r *Reader) ReportLimit(name, what string) { r.root.ReportLimit(name, what) }

// Get returns what read returns for kind (a name for what is read, with
// whatever parameters it has) in the root of fs: kept from an earlier
// reading of this run while the files it read are unchanged, else read
// now through a Reader. read says whether its value may be kept: not when
// it stopped early (a deadline). Without a cache in ctx (With), it reads
// every time, through fs as the caller would.
func Get[T any](ctx context.Context, fs *fsroot.Root, kind string, read func(r *Reader) (T, bool)) T {
	v := from(ctx)
	k, ok := v.keyOf(fs, kind)
	if !ok {
		val, _ := read(&Reader{root: fs})
		return val
	}
	e := v.c.entry(k)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kept && v.fresh(k, e, fs) {
		return e.value.(T)
	}
	ps := &fsroot.Problems{}
	r := &Reader{root: fs.SubRecording(ps)}
	val, keep := read(r)
	problems := ps.List()
	for _, p := range problems {
		fs.Problems().Add(p)
	}
	e.kept = keep && !r.unkept && len(problems) == 0
	e.value, e.stamps = nil, nil
	if e.kept {
		e.value, e.stamps = any(val), r.stamps
		v.mark(k)
	}
	return val
}

// keyOf is the key of kind in fs's root; ok is false without a view or
// when the root cannot be stat'ed.
func (v *view) keyOf(fs *fsroot.Root, kind string) (key, bool) {
	if v == nil {
		return key{}, false
	}
	fi, err := fs.Sub().Stat("/")
	if err != nil {
		return key{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return key{}, false
	}
	return key{dir: fs.Dir, dev: st.Dev, ino: st.Ino, kind: kind}, true
}

func (c *Cache) entry(k key) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[k]
	if e == nil {
		e = &entry{}
		c.entries[k] = e
	}
	return e
}

func (v *view) mark(k key) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.checked[k] = true
}

// fresh reports whether e's files are as they were when it was read:
// checked once in the view (the caller holds e.mu).
func (v *view) fresh(k key, e *entry, fs *fsroot.Root) bool {
	v.mu.Lock()
	done := v.checked[k]
	v.mu.Unlock()
	if done {
		return true
	}
	now := fs.Sub()
	for _, s := range e.stamps {
		id, ok := identityOf(now.Stat(s.name))
		if !ok || id != s.id {
			return false
		}
	}
	v.mark(k)
	return true
}

// ReadFile reads name whole (see fsroot.Root.ReadFile), noting its
// identity first: a change after the note is a change the next check sees.
func (r *Reader) ReadFile(name string) ([]byte, error) {
	fi, err := r.root.Stat(name)
	r.note(name, fi, err)
	return r.root.ReadFile(name)
}

// Same reports whether a and b are the same file, unchanged: the identity
// an entry is checked by.
func Same(a, b fs.FileInfo) bool {
	if a == nil || b == nil {
		return false
	}
	ia, oka := identityOf(a, nil)
	ib, okb := identityOf(b, nil)
	return oka && okb && ia == ib
}
