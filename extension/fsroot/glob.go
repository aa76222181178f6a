package fsroot

import (
	"path"
	"sort"
	"strings"
)

// Glob expands a pattern whose wildcards are in its last element alone,
// as glob(3) without flags does for the package managers that read a
// directory of configuration through it (pacman's Include, rpm's macro
// path): the matches are the directory as written followed by each
// matching name, sorted byte-wise; a wildcard or bracket never matches a
// name's leading '.', so a hidden name matches only a last element that
// begins with a literal '.' (or an escaped one, "\."), and then "." and
// ".." match too, as the directory lists them to glob(3). A pattern
// without wildcards is returned as it is, with literal true. What the
// caller does with no match (pacman's GLOB_NOCHECK) is its own. A
// directory that cannot be listed is recorded as a problem (OpenDir).
func (r *Root) Glob(pattern string) (matches []string, literal bool) {
	dir, base := path.Split(pattern)
	if !strings.ContainsAny(base, "*?[") {
		return []string{pattern}, true
	}
	listed := dir
	if listed == "" {
		listed = "."
	}
	names, err := r.ReadDir(listed)
	hidden := strings.HasPrefix(base, ".") || strings.HasPrefix(base, `\.`)
	if hidden && err == nil {
		names = append(names, ".", "..")
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasPrefix(n, ".") && !hidden {
			continue
		}
		if ok, _ := path.Match(base, n); ok {
			matches = append(matches, dir+n)
		}
	}
	return matches, false
}
