// Package fimpaths holds the package-manager paths watched for file
// events: derived from the hunt's file queries, so that the packs' FIM
// section (osquery file_paths) and the extension's own fanotify capture
// watch the same list and cannot drift, and a matcher with osquery's FIM
// pattern semantics.
package fimpaths

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/queries"
)

var (
	readsFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\b(from|join)\s+file\b`) })
	pathIs    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\bpath\s*(?:like|=)\s*'([^']+)'`) })
)

// FromSQL returns the file_paths patterns for every path the queries'
// SQL looks at in the file table, sorted: a LIKE on a directory becomes a
// recursive watch (dir/%%), an equality the file itself.
func FromSQL(sqls []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, sql := range sqls {
		if !readsFile().MatchString(sql) {
			continue
		}
		for _, m := range pathIs().FindAllStringSubmatch(sql, -1) {
			p := m[1]
			if dir, ok := strings.CutSuffix(strings.TrimRight(p, "%"), "/"); ok && strings.HasSuffix(p, "%") {
				p = dir + "/%%"
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Builtin is the patterns of the built-in queries (queries.FS).
func Builtin() ([]string, error) {
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		return nil, fmt.Errorf("FIM paths: %w", err)
	}
	sqls := make([]string, len(qs))
	for i, q := range qs {
		sqls[i] = q.SQL
	}
	return FromSQL(sqls), nil
}

// Pattern is one file_paths pattern split into its path components.
type Pattern struct {
	Text string
	// Parts are the components; "%" in one matches any run of characters
	// within that component (osquery's glob '*').
	Parts []string
	// Recursive is a pattern ending in "/%%": everything below the
	// directory the other parts name, and that directory itself (its
	// removal or creation changes what is below).
	Recursive bool
}

// Parse reads a pattern; it must be absolute.
func Parse(p string) (Pattern, error) {
	if !strings.HasPrefix(p, "/") {
		return Pattern{}, fmt.Errorf("FIM path %q is not absolute", p)
	}
	out := Pattern{Text: p}
	rest := p
	if dir, ok := strings.CutSuffix(p, "/%%"); ok {
		out.Recursive, rest = true, dir
	}
	if strings.Contains(rest, "%%") {
		return Pattern{}, fmt.Errorf("FIM path %q: %%%% is only recursive at the end", p)
	}
	out.Parts = strings.Split(strings.TrimPrefix(path.Clean(rest), "/"), "/")
	if out.Parts[0] == "" {
		out.Parts = nil
	}
	return out, nil
}

// Fixed is the leading directory of the pattern that holds no wildcard
// (the part a watch can be put on as it is).
func (p Pattern) Fixed() string {
	var fixed []string
	for _, c := range p.Parts {
		if strings.Contains(c, "%") {
			break
		}
		fixed = append(fixed, c)
	}
	return "/" + strings.Join(fixed, "/")
}

// Match reports whether the absolute, clean path falls under the pattern.
func (p Pattern) Match(name string) bool {
	comps := strings.Split(strings.TrimPrefix(name, "/"), "/")
	if len(comps) < len(p.Parts) || (!p.Recursive && len(comps) != len(p.Parts)) {
		return false
	}
	for i, c := range p.Parts {
		if !component(c, comps[i]) {
			return false
		}
	}
	return true
}

// Prefix reports whether the directory dir could hold a path the pattern
// matches (it is the pattern's fixed part, a directory on the way to it,
// or under it).
func (p Pattern) Prefix(dir string) bool {
	comps := strings.Split(strings.TrimPrefix(dir, "/"), "/")
	if dir == "/" {
		comps = nil
	}
	for i, c := range comps {
		if i >= len(p.Parts) {
			return p.Recursive
		}
		if !component(p.Parts[i], c) {
			return false
		}
	}
	return p.Recursive || len(comps) < len(p.Parts)
}

// component matches one path component against one pattern component,
// where % stands for any run of characters.
func component(pat, s string) bool {
	chunks := strings.Split(pat, "%")
	if len(chunks) == 1 {
		return pat == s
	}
	if !strings.HasPrefix(s, chunks[0]) {
		return false
	}
	s = s[len(chunks[0]):]
	last := chunks[len(chunks)-1]
	for _, c := range chunks[1 : len(chunks)-1] {
		i := strings.Index(s, c)
		if i < 0 {
			return false
		}
		s = s[i+len(c):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// Set is a list of patterns.
type Set []Pattern

// NewSet parses every pattern.
func NewSet(patterns []string) (Set, error) {
	out := make(Set, 0, len(patterns))
	for _, t := range patterns {
		p, err := Parse(t)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Match reports whether name falls under one of the patterns.
func (s Set) Match(name string) bool {
	for _, p := range s {
		if p.Match(name) {
			return true
		}
	}
	return false
}

// Prefix reports whether the directory dir is on the way to, or under,
// one of the patterns.
func (s Set) Prefix(dir string) bool {
	for _, p := range s {
		if p.Prefix(dir) {
			return true
		}
	}
	return false
}
