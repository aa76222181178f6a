package table

import (
	"context"
	"reflect"
	"testing"
	"time"
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

// TestOpenRootReleases: the reading context ends with done, within the
// caller's; a root that cannot be opened is an error, with nothing to
// release.
func TestOpenRootReleases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	fs, rctx, done, err := OpenRoot(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if fs.Kind("/") != "dir" {
		t.Errorf("root kind %q, want dir", fs.Kind("/"))
	}
	want := time.Now().Add(time.Hour * 3 / 4)
	if d, ok := rctx.Deadline(); !ok || d.Before(want.Add(-time.Minute)) || d.After(want.Add(time.Minute)) {
		t.Errorf("reading deadline %v (%v), want about %v: three quarters of the caller's time", d, ok, want)
	}
	if rctx.Err() != nil {
		t.Fatal("reading context ended before done")
	}
	done()
	if rctx.Err() == nil {
		t.Error("reading context still open after done")
	}
	if _, _, _, err := OpenRoot(ctx, t.TempDir()+"/missing"); err == nil {
		t.Error("a missing root opened")
	}
}
