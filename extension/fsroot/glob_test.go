package fsroot

import (
	"fmt"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/treefiles"
)

// TestGlob: glob(3)'s rule for hidden names (a leading '.' is matched by
// a literal '.' alone, and then "." and ".." are names too), byte-wise
// order, the directory as written, and a pattern without wildcards as it
// is.
func TestGlob(t *testing.T) {
	root := t.TempDir()
	treefiles.Write(t, root, map[string]string{"d/.h": "", "d/b": "", "d/B": "", "d/a.conf": ""})
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for pattern, want := range map[string]string{
		"/d/*":     "[/d/B /d/a.conf /d/b] false",
		"/d/.*":    "[/d/. /d/.. /d/.h] false",
		`/d/\.h*`:  "[/d/.h] false",
		"/d/[.]h":  "[] false",
		"/d/?h":    "[] false",
		"//d/*.c*": "[//d/a.conf] false",
		"/none/.*": "[] false",
		"/d/.h":    "[/d/.h] true",
		"/none/x":  "[/none/x] true",
	} {
		if got := fmt.Sprint(r.Glob(pattern)); got != want {
			t.Errorf("%s: %s, want %s", pattern, got, want)
		}
	}
}
