package capture

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/fanotify"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/proctable"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/queries/fimpaths"
)

// fileWork is a file event whose writer is named, waiting for the file's
// hash and owner.
type fileWork struct {
	row table.Row
	ch  fanotify.Change
}

// describer gives file rows their hash and owner, and adds them to the
// ring in the order the reader named their writers, on a goroutine of its
// own: the owner index is rebuilt after each change of a package database
// (over a second during an install) and a large file takes as long to
// hash, which on the reader stalled the process connector, and the short
// processes of the very install being watched were gone before their
// exec was read.
type describer struct {
	jobs   chan fileWork
	ring   *events.Ring
	owners *owners
	root   *fsroot.Root
	done   chan struct{}
}

// describeQueue is how many named file events may wait; past it the
// reader waits (the kernel queues meanwhile, and counts what it drops).
const describeQueue = 4096

// describeBatch is how many waiting events share one look at whether the
// package databases changed.
const describeBatch = 256

func startDescriber(ring *events.Ring, own *owners, root *fsroot.Root) *describer {
	d := &describer{jobs: make(chan fileWork, describeQueue), ring: ring, owners: own, root: root, done: make(chan struct{})}
	// the one pass over dpkg's file lists, before the first event waits
	own.source()
	go d.run()
	return d
}

func (d *describer) run() {
	defer close(d.done)
	defer d.root.Close()
	defer d.owners.close()
	batch := make([]fileWork, 0, describeBatch)
	for w := range d.jobs {
		batch = append(batch[:0], w)
	more:
		for len(batch) < describeBatch {
			select {
			case w, ok := <-d.jobs:
				if !ok {
					break more
				}
				batch = append(batch, w)
			default:
				break more
			}
		}
		own := d.owners.source()
		for _, w := range batch {
			w.row["package"], w.row["manager"] = own.OwnerOf(w.ch.Path)
			if w.ch.Action != fanotify.Deleted && w.ch.Action != fanotify.MovedFrom {
				w.row["sha256"] = sha256Of(d.root, w.ch.Path)
			}
			d.ring.Add(w.row)
			if w.row["path"] == "" {
				d.ring.Incomplete(1)
			}
		}
	}
}

// stop describes what is queued and ends.
func (d *describer) stop() {
	close(d.jobs)
	<-d.done
}

// owners answers which package owns a path from one provenance source
// kept while the package databases do not change: dpkg's answer for a
// path not asked before is a pass over every file list, too much per
// read of file events.
type owners struct {
	set   fimpaths.Set
	root  *fsroot.Root
	src   *provenance.Source
	stamp string
}

// dbPaths are the package databases' files and directories whose change
// means new owners: dpkg replaces status and writes info/*.list, rpm
// writes its database files (sqlite, ndb or bdb) in place.
var dbPaths = []string{"/var/lib/dpkg", "/var/lib/dpkg/status", "/var/lib/dpkg/info", "/var/lib/rpm", "/usr/lib/sysimage/rpm"}

// source returns the source, a new one when a database changed.
func (o *owners) source() *provenance.Source {
	var b strings.Builder
	for _, p := range dbPaths {
		stampOf(&b, p)
		if !strings.HasSuffix(p, "/rpm") {
			continue
		}
		if ents, err := os.ReadDir(p); err == nil {
			for _, e := range ents {
				stampOf(&b, p+"/"+e.Name())
			}
		}
	}
	if o.src == nil || b.String() != o.stamp {
		if o.src != nil {
			o.src.Close()
		}
		o.src, o.stamp = provenance.New(o.root.Sub()), b.String()
		o.src.PrefetchMatching(o.set.Match)
	}
	return o.src
}

func (o *owners) close() {
	if o.src != nil {
		o.src.Close()
	}
}

// stampOf writes what changes when p changes: its size and times.
func stampOf(b *strings.Builder, p string) {
	var st unix.Stat_t
	if unix.Stat(p, &st) == nil {
		fmt.Fprintf(b, "%s %d %d %d %d;", p, st.Ino, st.Size, st.Mtim.Nano(), st.Ctim.Nano())
	}
}

// writerRow renders a change made between after and by (since boot) with
// its writer as the table knows it. A writer that exec'd between the two
// may have written as either program: its path and cmdline are left
// empty (the row is incomplete), never guessed, and its ancestry, which
// an exec does not change, is kept.
func writerRow(procs *proctable.Table, after, by time.Duration, ch fanotify.Change) table.Row {
	row := table.Row{
		"action": ch.Action, "target_path": ch.Path, "pid": strconv.Itoa(ch.PID),
		"path": "", "script": "", "cmdline": "", "ancestry": "[]", "ancestry_scripts": "[]", "sha256": "", "package": "", "manager": "",
	}
	if p := procs.Get(ch.PID); p != nil {
		img, sure := p.At(after, by)
		if sure {
			row["path"], row["script"], row["cmdline"] = img.Path, img.Script, img.Cmdline()
		}
		if img != nil {
			row["ancestry"], row["ancestry_scripts"] = ancestry(procs, img.PPID)
		}
	}
	return row
}

// sha256Of is a regular file's SHA-256 now (” when it is gone, or not a
// regular file).
func sha256Of(root *fsroot.Root, name string) string {
	f, err := root.OpenFile(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	if f.Drain() != nil {
		return ""
	}
	d, _ := f.Digests()
	return d.SHA256
}
