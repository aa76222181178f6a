// Package fanotify reports creations, modifications (close after write),
// renames and deletions of files under the package managers' paths
// (fimpaths), with the process that made each, from a fanotify group.
//
// Marks: one inode mark per existing directory on the way to or under a
// watched pattern (/, /etc, /etc/apt, /etc/apt/apt.conf.d and what is
// below it, /usr/lib, /usr/lib/python3.13, ...), each reporting its
// entries' creation, deletion, rename and close-after-write, with the
// directory's file handle and the entry's name (FAN_REPORT_DFID_NAME). A
// directory created or moved in later where a pattern may match is marked
// when its creation is read. Filesystem marks (FAN_MARK_FILESYSTEM) were
// the alternative: they catch every directory without following them, but
// they queue every write of the whole filesystem (logs, caches, databases)
// to be read and filtered here, which on a busy host fills the queue (and
// overflows lose the watched events with the rest); and they report no
// mount, so a directory bind-mounted over a watched path (as containers
// and this package's tests do) is named by the path of its source. The
// inode marks cost one mark per directory (the built-in list marks a few
// dozen; Marks says how many) and only the few watched directories'
// events reach this process; the directories on the way (/, /etc,
// /usr/lib) also report their own entries' events, filtered here by name.
// Each event's directory is known by the handle recorded when it was
// marked, so no handle is ever opened again (open_by_handle_at): an event
// whose directory is not marked (a rename's other side) is outside the
// watched paths by construction.
//
// Symbolic links are not followed below /: a watched path reached only
// through a link is not watched there.
//
// A file created in a directory after the directory appeared but before
// its mark was placed has no event of its own: the directory is listed
// once marked, and what it holds then is reported as created by the
// process that made the directory appear.
//
// A second, separate group (Execs, exec.go) reports the files opened for
// execution on every filesystem, in fd mode: which program each exec
// ran, for the process capture. It is apart from this one because it
// needs the opposite choices: filesystem marks (programs run from
// anywhere, and executions are few next to writes) and an open
// descriptor per event to name the file (no FID reporting), where this
// group marks directories and names entries by their directory's handle.
package fanotify

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pkgpersist/pkgpersist/queries/fimpaths"
)

// osquery's file_events actions.
const (
	Created   = "CREATED"
	Updated   = "UPDATED"
	Deleted   = "DELETED"
	MovedFrom = "MOVED_FROM"
	MovedTo   = "MOVED_TO"
)

// Change is one event on a watched path.
type Change struct {
	Action string
	Path   string
	PID    int
}

// MaxMarks bounds the directories marked: a tree that grew past it is
// reported as an error rather than watched in part without saying so.
const MaxMarks = 4096

// dirMask is what every marked directory reports: its entries' events
// (and its subdirectories', FAN_ONDIR).
const dirMask = unix.FAN_CREATE | unix.FAN_DELETE | unix.FAN_RENAME | unix.FAN_CLOSE_WRITE |
	unix.FAN_ONDIR | unix.FAN_EVENT_ON_CHILD

// Watcher is a fanotify group watching the paths of one set. It belongs to
// the one goroutine that reads it.
type Watcher struct {
	fd    int
	set   fimpaths.Set
	dirs  map[FID]string
	buf   []byte
	evs   []Event
	lost  int64
	fault error // the first marking error after Open
	// what the last Read saw: any event, and whether it left the queue
	// empty
	readAny, drained bool
}

// maxEvent is more than one event's size (metadata, a directory's file
// handle and a name): a read that left this much of the buffer unused
// took every event queued.
const maxEvent = 4096

// Open creates the group (needs root: CAP_SYS_ADMIN) and marks the
// directories of set. The group's descriptor is non-blocking: poll Fd.
func Open(set fimpaths.Set) (*Watcher, error) {
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK|unix.FAN_REPORT_DFID_NAME, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fanotify: init (needs root, Linux 5.17 for FAN_RENAME): %w", err)
	}
	w := &Watcher{fd: fd, set: set, dirs: map[FID]string{}, buf: make([]byte, 64<<10)}
	if _, err := w.markTree("/", false); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Fd is the group's descriptor, to poll.
func (w *Watcher) Fd() int { return w.fd }

// Marks is the number of directories marked.
func (w *Watcher) Marks() int { return len(w.dirs) }

// Close closes the group.
func (w *Watcher) Close() error { return unix.Close(w.fd) }

// Read reads what the group has queued (none when nothing is) and appends
// the changes on watched paths to out; lost is the number of queue
// overflows read (each lost an unknown number of events: at least one).
func (w *Watcher) Read(out []Change) ([]Change, int64, error) {
	n, err := unix.Read(w.fd, w.buf)
	w.readAny, w.drained = false, errors.Is(err, unix.EAGAIN)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return out, 0, nil
	}
	if err != nil {
		return out, 0, fmt.Errorf("fanotify: read: %w", err)
	}
	w.readAny, w.drained = n > 0, len(w.buf)-n >= maxEvent
	w.evs, err = Parse(w.buf[:n], w.evs[:0])
	w.lost = 0
	for _, ev := range w.evs {
		out = w.changes(ev, out)
	}
	if err == nil && w.fault != nil {
		err, w.fault = w.fault, nil
	}
	return out, w.lost, err
}

// ReadAny is whether the last Read read any event (watched or not).
func (w *Watcher) ReadAny() bool { return w.readAny }

// Drained is whether the last Read took every event queued: an event
// read later was queued after that read began.
func (w *Watcher) Drained() bool { return w.drained }

// path is an entry's path, when its directory is marked.
func (w *Watcher) path(e Entry) (string, bool) {
	dir, ok := w.dirs[e.Dir]
	if !ok {
		return "", false
	}
	return path.Join(dir, e.Name), true
}

// changes turns one event into changes on watched paths, marking and
// forgetting directories as they come and go.
func (w *Watcher) changes(ev Event, out []Change) []Change {
	pid := int(ev.PID)
	add := func(action, p string) {
		if w.set.Match(p) {
			out = append(out, Change{Action: action, Path: p, PID: pid})
		}
	}
	isDir := ev.Mask&unix.FAN_ONDIR != 0
	if ev.Mask&unix.FAN_Q_OVERFLOW != 0 {
		w.lost++
		return out
	}
	if ev.Mask&unix.FAN_RENAME != 0 {
		oldPath, oldOK := w.path(ev.Old)
		newPath, newOK := w.path(ev.New)
		if oldOK {
			add(MovedFrom, oldPath)
			if isDir {
				w.forget(oldPath)
			}
		}
		if newOK {
			add(MovedTo, newPath)
			if isDir {
				out = w.appeared(newPath, pid, out)
			}
		}
	}
	p, ok := w.path(ev.Entry)
	if !ok {
		return out
	}
	created := func() {
		add(Created, p)
		if isDir {
			out = w.appeared(p, pid, out)
		}
	}
	deleted := func() {
		add(Deleted, p)
		if isDir {
			w.forget(p)
		}
	}
	// the queue merges a name's events into one mask, which says what
	// happened but not in which order: a name both deleted and created
	// that exists now was deleted first
	both := ev.Mask&(unix.FAN_CREATE|unix.FAN_DELETE) == unix.FAN_CREATE|unix.FAN_DELETE
	if both && exists(p) {
		deleted()
		created()
		both = false
	} else if ev.Mask&unix.FAN_CREATE != 0 {
		created()
	}
	if ev.Mask&unix.FAN_CLOSE_WRITE != 0 && !isDir {
		add(Updated, p)
	}
	if ev.Mask&unix.FAN_DELETE != 0 && (both || ev.Mask&unix.FAN_CREATE == 0) {
		deleted()
	}
	return out
}

// exists is whether a name is there now, link or not.
func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// appeared marks a directory that was created or moved in, and reports
// the files it already holds as created by pid.
func (w *Watcher) appeared(dir string, pid int, out []Change) []Change {
	found, err := w.markTree(dir, true)
	if err != nil && w.fault == nil {
		w.fault = err
	}
	for _, f := range found {
		if w.set.Match(f) {
			out = append(out, Change{Action: Created, Path: f, PID: pid})
		}
	}
	return out
}

// forget drops a directory gone from its path, and those below it: their
// events, if their marks outlive them elsewhere, are ignored.
func (w *Watcher) forget(dir string) {
	for fid, p := range w.dirs {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			delete(w.dirs, fid)
		}
	}
}

// markTree marks dir and every directory below it on the way to or under
// a pattern; with list, it returns the other entries found (the files of
// a directory that appeared). A directory that vanished meanwhile is not
// an error.
func (w *Watcher) markTree(dir string, list bool) ([]string, error) {
	if !w.set.Prefix(dir) {
		return nil, nil
	}
	if err := w.mark(dir); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return nil, nil
		}
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("fanotify: listing %s: %w", dir, err)
	}
	var found []string
	for _, e := range ents {
		child := path.Join(dir, e.Name())
		if !e.IsDir() {
			if list {
				found = append(found, child)
			}
			continue
		}
		if list {
			found = append(found, child)
		}
		sub, err := w.markTree(child, list)
		if err != nil {
			return found, err
		}
		found = append(found, sub...)
	}
	return found, nil
}

// mark puts the mark on one directory and records its handle.
func (w *Watcher) mark(dir string) error {
	if len(w.dirs) >= MaxMarks {
		return fmt.Errorf("fanotify: more than %d directories to watch (at %s)", MaxMarks, dir)
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fanotify: opening %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	fid, err := fidOf(dfd)
	if err != nil {
		return fmt.Errorf("fanotify: %s: %w", dir, err)
	}
	if err := unix.FanotifyMark(w.fd, unix.FAN_MARK_ADD|unix.FAN_MARK_ONLYDIR, dirMask, dfd, ""); err != nil {
		return fmt.Errorf("fanotify: marking %s: %w", dir, err)
	}
	w.dirs[fid] = dir
	return nil
}

// fidOf is the open file's id as fanotify reports it: the filesystem's
// fsid (statfs) and the file handle.
func fidOf(fd int) (FID, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return FID{}, fmt.Errorf("statfs: %w", err)
	}
	h, _, err := unix.NameToHandleAt(fd, "", unix.AT_EMPTY_PATH)
	if err != nil {
		return FID{}, fmt.Errorf("file handle: %w", err)
	}
	return FID{FSID: st.Fsid.Val, Type: h.Type(), Handle: string(h.Bytes())}, nil
}
