// Package debhistory reads what dpkg and apt record of each package
// operation: dpkg's log (/var/log/dpkg.log, one line per action, written
// by every dpkg run, whoever started it) and apt's history log
// (/var/log/apt/history.log, one stanza per apt run with its command line
// and the user who asked). A version that dpkg's log installs and no apt
// run does came from a .deb file given to dpkg itself.
package debhistory

import (
	"compress/gzip"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pkgpersist/pkgpersist/extension/deb822"
	"github.com/pkgpersist/pkgpersist/extension/lines"
)

// The logs' default places.
const (
	DpkgLog    = "/var/log/dpkg.log"
	AptHistory = "/var/log/apt/history.log"
)

// FS is what the logs are read through (see fsroot.Root).
type FS interface {
	Open(name string) (io.ReadCloser, error)
	ReadDir(name string) ([]string, error)
}

// DpkgAction is an install or upgrade line of dpkg's log:
// `<date> <time> install|upgrade <pkg>:<arch> <old> <new>`.
type DpkgAction struct {
	Time, Action, Package, Arch, Old, New string
	Line                                  int
}

// ParseDpkgLog calls fn for each install and upgrade line.
func ParseDpkgLog(r io.Reader, stop func() error, fn func(DpkgAction)) error {
	lr := lines.New(r, stop)
	for {
		l, ok := lr.Next()
		if !ok {
			return lr.Err()
		}
		f := strings.Fields(l)
		if len(f) != 6 || (f[2] != "install" && f[2] != "upgrade") {
			continue
		}
		name, arch, _ := strings.Cut(f[3], ":")
		fn(DpkgAction{Time: f[0] + " " + f[1], Action: f[2], Package: name, Arch: arch, Old: f[4], New: f[5], Line: lr.Line()})
	}
}

// AptRun is one stanza of apt's history log.
type AptRun struct {
	Start, End, Commandline, RequestedBy string
	// Changes are the packages the run installed, upgraded, reinstalled
	// or downgraded, with the version it left.
	Changes []AptChange
	Line    int
}

// AptChange is one package of an AptRun.
type AptChange struct {
	Action, Package, Arch, Version string
}

// item is one `name:arch (version[, version][, automatic])` of a list.
var item = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([^\s,()]+) \(([^()]*)\)`) })

// ParseAptHistory calls fn for each run of apt's history log.
func ParseAptHistory(r io.Reader, stop func() error, fn func(AptRun)) error {
	actions := []string{"Install", "Upgrade", "Reinstall", "Downgrade"}
	want := append([]string{"Start-Date", "End-Date", "Commandline", "Requested-By"}, actions...)
	return deb822.Each(r, want, stop, func(s deb822.Stanza) {
		run := AptRun{Start: s.Fields["Start-Date"], End: s.Fields["End-Date"], Commandline: s.Fields["Commandline"],
			RequestedBy: s.Fields["Requested-By"], Line: s.Line}
		for _, a := range actions {
			for _, m := range item().FindAllStringSubmatch(s.Fields[a], -1) {
				name, arch, _ := strings.Cut(m[1], ":")
				if name == "" {
					continue // not a package: apt writes none without a name
				}
				vers := strings.Split(m[2], ", ")
				v := vers[0]
				if a == "Upgrade" || a == "Downgrade" {
					// `old, new`
					if len(vers) > 1 {
						v = vers[1]
					}
				}
				run.Changes = append(run.Changes, AptChange{Action: strings.ToLower(a), Package: name, Arch: arch, Version: v})
			}
		}
		fn(run)
	})
}

// Rotated lists a log and its rotations (name, name.1, name.2.gz, …),
// oldest first, as logrotate names them.
func Rotated(fs FS, name string) []string {
	dir, base := name[:strings.LastIndexByte(name, '/')], name[strings.LastIndexByte(name, '/')+1:]
	ents, _ := fs.ReadDir(dir)
	type rot struct {
		n    int
		name string
	}
	var rs []rot
	for _, e := range ents {
		if e == base {
			rs = append(rs, rot{0, dir + "/" + e})
			continue
		}
		rest, ok := strings.CutPrefix(e, base+".")
		if !ok {
			continue
		}
		rest = strings.TrimSuffix(rest, ".gz")
		if n, err := strconv.Atoi(rest); err == nil && n > 0 {
			rs = append(rs, rot{n, dir + "/" + e})
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n })
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.name
	}
	return out
}

// Open opens a log file, decompressing a rotated .gz.
func Open(fs FS, name string) (io.ReadCloser, error) {
	f, err := fs.Open(name)
	if err != nil || !strings.HasSuffix(name, ".gz") {
		return f, err
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}, nil
}
