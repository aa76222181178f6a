package table

import (
	"reflect"
	"testing"
)

func TestRootsTakeOnlyEquality(t *testing.T) {
	cases := []struct {
		name string
		cs   []Constraint
		want []string
	}{
		{"none", nil, []string{"/"}},
		{"equals", []Constraint{{Equals, "/mnt/a"}}, []string{"/mnt/a"}},
		{"IN list, repeats dropped", []Constraint{{Equals, "/a"}, {Equals, "/b"}, {Equals, "/a"}}, []string{"/a", "/b"}},
		// a LIKE is a filter for osquery to apply, not a root to scan
		{"like is not a root", []Constraint{{Like, "/mnt/%"}}, []string{"/"}},
		{"glob is not a root", []Constraint{{Glob, "/mnt/*"}, {Equals, "/x"}}, []string{"/x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := QueryContext{Constraints: map[string][]Constraint{"root": c.cs}}
			if got := Roots(q); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
