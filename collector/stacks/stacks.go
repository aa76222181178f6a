// Package stacks is the "Persistence via Package Manager" hunt's two
// stacking queries over the events osqueryd hosts logged: rare writers of
// package-manager hook and plugin files, and rare programs package
// managers start. Stacking keeps what few hosts did few times.
package stacks

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Source is one query whose logged rows a stack reads.
type Source struct {
	QueryID string
	// Columns hold the executable and the file it wrote (stack 1) or
	// its parent's executable (stack 2).
	Columns []string
	// ByName: the query cannot tell package managers by executable
	// path, so the stack leaves their writes out (stack 1) or keeps
	// their children (stack 2) by process name, which a process
	// chooses.
	ByName bool
}

// The sources of each stack, preferred first: the query on the pkgpersist
// extension's event tables, then osquery's own for hosts without it. A
// host is stacked from the first source it logged rows of in the window,
// so a host that runs both counts its events once.
var (
	FileSources = []Source{
		{QueryID: "pm-writes", Columns: []string{"path", "target_path"}},
		{QueryID: "pm-process-file-events", Columns: []string{"executable", "path"}, ByName: true},
	}
	ChildSources = []Source{
		{QueryID: "pm-descendants", Columns: []string{"path", "parent_path"}},
		{QueryID: "pm-children", Columns: []string{"path", "parent_path"}, ByName: true},
	}
)

// Logged is what one source's rows grouped to.
type Logged struct {
	Source Source
	Groups []store.Group
}

// Grouper groups a query's logged rows (the store's GroupLogged).
type Grouper interface {
	GroupLogged(ctx context.Context, queryID string, since, until time.Time, columns []string, unless ...string) ([]store.Group, error)
}

// Load groups each source's rows logged in [since, until] by its
// columns, each host from the first source it logged.
func Load(ctx context.Context, g Grouper, sources []Source, since, until time.Time) ([]Logged, error) {
	var out []Logged
	var before []string
	for _, s := range sources {
		gs, err := g.GroupLogged(ctx, s.QueryID, since, until, s.Columns, before...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.QueryID, err)
		}
		out = append(out, Logged{Source: s, Groups: gs})
		before = append(before, s.QueryID)
	}
	return out, nil
}

// Rollups keeps counts of a query's logged rows by columns (the store's
// EnsureRollup).
type Rollups interface {
	EnsureRollup(ctx context.Context, queryID string, columns []string) error
}

// Prepare has the store keep the rollups Load reads: each source's rows
// by its columns, and a source that others follow per host alone (which
// hosts logged it is what the sources after it leave out). The store
// counts the rows stored so far once, and every write keeps them from
// then on.
func Prepare(ctx context.Context, r Rollups) error {
	for _, sources := range [][]Source{FileSources, ChildSources} {
		for i, s := range sources {
			rollups := [][]string{s.Columns}
			if i < len(sources)-1 {
				rollups = append(rollups, []string{})
			}
			for _, cols := range rollups {
				if err := r.EnsureRollup(ctx, s.QueryID, cols); err != nil {
					return fmt.Errorf("%s: %w", s.QueryID, err)
				}
			}
		}
	}
	return nil
}

// Count is how many groups ls hold.
func Count(ls []Logged) int {
	n := 0
	for _, l := range ls {
		n += len(l.Groups)
	}
	return n
}

// Options are the hunt's thresholds; Defaults are the published ones.
type Options struct {
	// PackageManagers are process names whose writes are expected
	// (stack 1 leaves them out of a ByName source's rows).
	PackageManagers []string
	// FileMaxCount and FileMaxHosts bound stack 1: 0 < count <= 20,
	// distinct hosts <= 4.
	FileMaxCount, FileMaxHosts int
	// Parents are the process names whose children stack 2 counts in a
	// ByName source's rows.
	Parents []string
	// ChildMaxHosts and ChildCountBelow bound stack 2: distinct hosts <=
	// 5, count < 50; at most ChildLimit rows.
	ChildMaxHosts, ChildCountBelow, ChildLimit int
}

// Defaults are the hunt's values.
var Defaults = Options{
	PackageManagers: []string{"dpkg", "dockerd", "yum", "dnf", "snapd", "pacman", "pamac-daemon", "microdnf", "podman", "apk", "yumBackend.py"},
	FileMaxCount:    20, FileMaxHosts: 4,
	Parents:       []string{"apt", "apt-get", "aptitude", "dpkg", "dnf", "dnf-3", "dnf5", "microdnf", "yum", "rpm", "unattended-upgrade", "packagekitd"},
	ChildMaxHosts: 5, ChildCountBelow: 50, ChildLimit: 100,
}

// Stack is one stacked group.
type Stack struct {
	Executable string
	Path       string // stack 1 only
	Count      int
	Hosts      []string
}

// merge folds the sources' groups into stacks keyed by key (skipping
// groups where ok is false), summing counts and joining host sets, rarest
// first.
func merge(ls []Logged, key func(s Source, g store.Group) (exe, file string, ok bool)) []Stack {
	type acc struct {
		count int
		hosts map[string]bool
	}
	byKey := map[[2]string]*acc{}
	for _, l := range ls {
		for _, g := range l.Groups {
			exe, file, ok := key(l.Source, g)
			if !ok {
				continue
			}
			k := [2]string{exe, file}
			a := byKey[k]
			if a == nil {
				a = &acc{hosts: map[string]bool{}}
				byKey[k] = a
			}
			a.count += g.Count
			for _, h := range g.Hosts {
				a.hosts[h] = true
			}
		}
	}
	out := make([]Stack, 0, len(byKey))
	for k, a := range byKey {
		s := Stack{Executable: k[0], Path: k[1], Count: a.count}
		for h := range a.hosts {
			s.Hosts = append(s.Hosts, h)
		}
		sort.Strings(s.Hosts)
		out = append(out, s)
	}
	// ascending count: the rare ones first; ties in a stable order
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count < out[j].Count
		}
		if out[i].Executable != out[j].Executable {
			return out[i].Executable < out[j].Executable
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// Files is stack 1: writes in the package-manager directories by processes
// that are not package managers, by executable and file path.
func Files(ls []Logged, o Options) []Stack {
	var out []Stack
	for _, s := range merge(ls, func(src Source, g store.Group) (string, string, bool) {
		exe := g.Values[0]
		return exe, g.Values[1], exe != "" && !(src.ByName && slices.Contains(o.PackageManagers, path.Base(exe)))
	}) {
		if s.Count > 0 && s.Count <= o.FileMaxCount && len(s.Hosts) <= o.FileMaxHosts {
			out = append(out, s)
		}
	}
	return out
}

// Children is stack 2: programs started by the package managers, by
// executable.
func Children(ls []Logged, o Options) []Stack {
	var out []Stack
	for _, s := range merge(ls, func(src Source, g store.Group) (string, string, bool) {
		return g.Values[0], "", g.Values[0] != "" && (!src.ByName || slices.Contains(o.Parents, path.Base(g.Values[1])))
	}) {
		if len(out) == o.ChildLimit {
			break
		}
		if len(s.Hosts) <= o.ChildMaxHosts && s.Count < o.ChildCountBelow {
			out = append(out, s)
		}
	}
	return out
}

// Rows renders stacks for the output formats.
func Rows(name string, ss []Stack) [][]string {
	rows := make([][]string, len(ss))
	for i, s := range ss {
		rows[i] = []string{name, s.Executable, s.Path, itoa(s.Count), itoa(len(s.Hosts)), strings.Join(s.Hosts, ",")}
	}
	return rows
}

// Columns of Rows.
var Columns = []string{"stack", "executable", "path", "count", "hosts", "host_list"}

func itoa(n int) string { return strconv.Itoa(n) }

// Store is what Compute reads: the logged rows, and the rollups that
// make grouping them cheap.
type Store interface {
	Grouper
	Rollups
}

// Result is both stacks over a window, with how many groups each had
// before the thresholds.
type Result struct {
	Files, Children         []Stack
	FileGroups, ChildGroups int
	Since, Until            time.Time
	// Unprepared is why the rollups could not be kept (nil when they
	// are): the stacks are exact without them, only slower.
	Unprepared error
}

// Compute is the hunt's two stacks over the events logged in [since,
// until] with the thresholds of o: what report stacks prints and the web
// report shows.
func Compute(ctx context.Context, st Store, o Options, since, until time.Time) (Result, error) {
	r := Result{Since: since, Until: until, Unprepared: Prepare(ctx, st)}
	files, err := Load(ctx, st, FileSources, since, until)
	if err != nil {
		return r, err
	}
	children, err := Load(ctx, st, ChildSources, since, until)
	if err != nil {
		return r, err
	}
	r.Files, r.Children = Files(files, o), Children(children, o)
	r.FileGroups, r.ChildGroups = Count(files), Count(children)
	return r, nil
}
