// Package querydef reads query files: SQL preceded by a header of
// `-- key: value` comment lines (a value continues on following comment
// lines that are indented), as in queries/.
package querydef

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Query is one query file.
type Query struct {
	ID             string
	Title          string
	Description    string
	Attack         []string
	Platform       string
	Interval       int
	Mode           string // snapshot or differential
	Kind           string // detection, inventory or event
	Source         string
	FalsePositives string
	Fixes          string
	// Volatile are result columns whose values change without anything
	// worth reporting (a file's access time changes when it is read): they
	// are stored and shown, but a row that differs only in them is the
	// same row.
	Volatile []string
	// Severity (low, medium, high, critical) and Next, the one step an
	// analyst takes first on a row, are what a detection's reader needs:
	// every built-in detection has both; a user's own may leave them out.
	Severity string
	Next     string
	SQL      string
	File     string
}

// Kinds and modes a header may name. A detection returns no rows on a
// healthy host; an inventory describes state; an event query reads an
// evented table, whose rows are happenings that are only ever added.
var (
	Kinds      = []string{"detection", "inventory", "event"}
	Severities = []string{"low", "medium", "high", "critical"}
	Modes      = []string{"snapshot", "differential"}
)

// column is what a result column name may be in a volatile list.
var column = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// MaxInterval is osquery's limit on a scheduled query's interval.
const MaxInterval = 604800

// Parse reads one file.
func Parse(file string, data []byte) (*Query, error) {
	q := &Query{File: file}
	fields := map[string]*string{
		"id": &q.ID, "title": &q.Title, "description": &q.Description, "platform": &q.Platform,
		"mode": &q.Mode, "kind": &q.Kind, "source": &q.Source, "false_positives": &q.FalsePositives,
		"fixes": &q.Fixes,
	}
	fields["severity"], fields["next"] = &q.Severity, &q.Next
	var attack, interval, volatile string
	fields["attack"], fields["interval"], fields["volatile"] = &attack, &interval, &volatile
	lines := strings.Split(string(data), "\n")
	var last *string
	i := 0
	for ; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		if !strings.HasPrefix(l, "--") {
			break
		}
		body := strings.TrimPrefix(l, "--")
		if strings.HasPrefix(body, "   ") && last != nil {
			*last += " " + strings.TrimSpace(body)
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(body), ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: header line is not `-- key: value`", file, i+1)
		}
		dst, known := fields[strings.TrimSpace(k)]
		if !known {
			return nil, fmt.Errorf("%s:%d: unknown header key %q", file, i+1, strings.TrimSpace(k))
		}
		*dst = strings.TrimSpace(v)
		last = dst
	}
	q.SQL = strings.TrimSpace(strings.Join(lines[i:], "\n"))
	q.Attack, q.Volatile = list(attack), list(volatile)
	var err error
	if q.Interval, err = strconv.Atoi(interval); err != nil {
		return nil, fmt.Errorf("%s: interval %q is not a number of seconds", file, interval)
	}
	return q, q.validate()
}

// list splits a comma-separated header value, dropping empty items.
func list(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (q *Query) validate() error {
	for _, c := range q.Volatile {
		if !column().MatchString(c) {
			return fmt.Errorf("%s: volatile column %q is not a column name", q.File, c)
		}
	}
	switch {
	case q.ID == "" || q.Title == "" || q.Description == "" || q.SQL == "":
		return fmt.Errorf("%s: id, title, description and SQL are required", q.File)
	case strings.TrimSuffix(path.Base(q.File), ".sql") != q.ID:
		return fmt.Errorf("%s: id %q does not match the file name", q.File, q.ID)
	case !slices.Contains(Kinds, q.Kind):
		return fmt.Errorf("%s: kind %q is not one of %s", q.File, q.Kind, strings.Join(Kinds, ", "))
	case !slices.Contains(Modes, q.Mode):
		return fmt.Errorf("%s: mode %q is not one of %s", q.File, q.Mode, strings.Join(Modes, ", "))
	case q.Kind == "event" && q.Mode != "differential":
		// a snapshot of an evented table drains the events each time and
		// logs them as a whole set, which osquery's scheduler does not
		// mean for events
		return fmt.Errorf("%s: an event query must be differential", q.File)
	case q.Interval <= 0 || q.Interval > MaxInterval:
		return fmt.Errorf("%s: interval %d is outside 1..%d", q.File, q.Interval, MaxInterval)
	case q.Platform == "" || len(q.Attack) == 0:
		return fmt.Errorf("%s: platform and attack are required", q.File)
	case q.Severity != "" && !slices.Contains(Severities, q.Severity):
		return fmt.Errorf("%s: severity %q is not one of %s", q.File, q.Severity, strings.Join(Severities, ", "))
	case q.Kind != "detection" && (q.Severity != "" || q.Next != ""):
		return fmt.Errorf("%s: only a detection has a severity and a next step", q.File)
	}
	return nil
}

// Load reads every .sql file of a directory (or embedded FS), sorted by id;
// ids must be unique.
func Load(fsys fs.FS) ([]*Query, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*Query
	seen := map[string]bool{}
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		q, err := Parse(n, data)
		if err != nil {
			return nil, err
		}
		if seen[q.ID] {
			return nil, fmt.Errorf("%s: duplicate id %q", n, q.ID)
		}
		seen[q.ID] = true
		out = append(out, q)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no .sql query files")
	}
	return out, nil
}
