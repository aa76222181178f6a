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

// merge folds groups into stacks keyed by key (skipping groups where ok
// is false), summing counts and joining host sets, rarest first.
func merge(groups []store.Group, key func(g store.Group) (exe, file string, ok bool)) []Stack {
	type acc struct {
		count int
		hosts map[string]bool
	}
	byKey := map[[2]string]*acc{}
	for _, g := range groups {
		exe, file, ok := key(g)
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

// FileColumns and ChildColumns are what each stack groups the logged rows
// by (store.GroupLogged).
var (
	FileColumns  = []string{"executable", "path"}
	ChildColumns = []string{"path", "parent_path"}
)

// Files is stack 1: writes in the package-manager directories by processes
// that are not package managers, by executable and file path, from groups
// by FileColumns.
func Files(groups []store.Group, o Options) []Stack {
	var out []Stack
	for _, s := range merge(groups, func(g store.Group) (string, string, bool) {
		exe := g.Values[0]
		return exe, g.Values[1], exe != "" && !slices.Contains(o.PackageManagers, path.Base(exe))
	}) {
		if s.Count > 0 && s.Count <= o.FileMaxCount && len(s.Hosts) <= o.FileMaxHosts {
			out = append(out, s)
		}
	}
	return out
}

// Children is stack 2: programs started by the package managers, by
// executable, from groups by ChildColumns.
func Children(groups []store.Group, o Options) []Stack {
	var out []Stack
	for _, s := range merge(groups, func(g store.Group) (string, string, bool) {
		return g.Values[0], "", g.Values[0] != "" && slices.Contains(o.Parents, path.Base(g.Values[1]))
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
