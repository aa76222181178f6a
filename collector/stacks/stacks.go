// Package stacks is the "Persistence via Package Manager" hunt's two
// stacking queries over the events osqueryd hosts logged: rare writers of
// package-manager hook and plugin files, and rare programs package
// managers start. Stacking keeps what few hosts did few times.
package stacks

import (
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// The queries whose logged rows the stacks read.
const (
	FileQueryID     = "pm-process-file-events"
	ChildrenQueryID = "pm-children"
)

// Options are the hunt's thresholds; Defaults are the published ones.
type Options struct {
	// PackageManagers are process names whose writes are expected
	// (stack 1 leaves them out).
	PackageManagers []string
	// FileMaxCount and FileMaxHosts bound stack 1: 0 < count <= 20,
	// distinct hosts <= 4.
	FileMaxCount, FileMaxHosts int
	// Parents are the process names whose children stack 2 counts.
	Parents []string
	// ChildMaxHosts and ChildCountBelow bound stack 2: distinct hosts <=
	// 5, count < 50; at most ChildLimit rows.
	ChildMaxHosts, ChildCountBelow, ChildLimit int
}

// Defaults are the hunt's values.
var Defaults = Options{
	PackageManagers: []string{"dpkg", "dockerd", "yum", "dnf", "snapd", "pacman", "pamac-daemon", "microdnf", "podman", "apk", "yumBackend.py"},
	FileMaxCount:    20, FileMaxHosts: 4,
	Parents:       []string{"apt", "yum", "dnf"},
	ChildMaxHosts: 5, ChildCountBelow: 50, ChildLimit: 100,
}

// Stack is one stacked group.
type Stack struct {
	Executable string
	Path       string // stack 1 only
	Count      int
	Hosts      []string
}

type group struct {
	count int
	hosts map[string]bool
}

func stack(events []store.LoggedEvent, key func(e store.LoggedEvent) (exe, file string, ok bool)) []Stack {
	groups := map[[2]string]*group{}
	for _, e := range events {
		exe, file, ok := key(e)
		if !ok {
			continue
		}
		k := [2]string{exe, file}
		g := groups[k]
		if g == nil {
			g = &group{hosts: map[string]bool{}}
			groups[k] = g
		}
		g.count++
		g.hosts[e.Host] = true
	}
	out := make([]Stack, 0, len(groups))
	for k, g := range groups {
		s := Stack{Executable: k[0], Path: k[1], Count: g.count}
		for h := range g.hosts {
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
func Files(events []store.LoggedEvent, o Options) []Stack {
	var out []Stack
	for _, s := range stack(events, func(e store.LoggedEvent) (string, string, bool) {
		exe := e.Row["executable"]
		return exe, e.Row["path"], exe != "" && !slices.Contains(o.PackageManagers, path.Base(exe))
	}) {
		if s.Count > 0 && s.Count <= o.FileMaxCount && len(s.Hosts) <= o.FileMaxHosts {
			out = append(out, s)
		}
	}
	return out
}

// Children is stack 2: programs started by the package managers, by
// executable.
func Children(events []store.LoggedEvent, o Options) []Stack {
	var out []Stack
	for _, s := range stack(events, func(e store.LoggedEvent) (string, string, bool) {
		parent := path.Base(e.Row["parent_path"])
		return e.Row["path"], "", e.Row["path"] != "" && slices.Contains(o.Parents, parent)
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

// Until drops the events logged after t (for replaying a past time).
func Until(events []store.LoggedEvent, t time.Time) []store.LoggedEvent {
	out := events[:0:0]
	for _, e := range events {
		if !e.Logged.After(t) {
			out = append(out, e)
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
