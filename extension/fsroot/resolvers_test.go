package fsroot

import (
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// resolvers are the two ways a Root resolves names: openat2 where the
// kernel has it, pathrs-lite's O_PATH walk where it does not. Every
// behaviour test runs on both.
var resolvers = []struct {
	name string
	new  func(dir string) *Root
}{
	{"openat2", New},
	{"walk", func(dir string) *Root {
		r := New(dir)
		if err := r.Check(); err == nil {
			r.h.openat2 = false
		}
		return r
	}},
}

func eachResolver(t *testing.T, f func(t *testing.T, newRoot func(dir string) *Root)) {
	for _, res := range resolvers {
		t.Run(res.name, func(t *testing.T) {
			if res.name == "openat2" {
				r := New(t.TempDir())
				must(t, r.Check())
				if !r.h.openat2 {
					need.Missing(t, "openat2 (Linux 5.6 or later, not refused by seccomp)")
				}
				r.Close()
			}
			f(t, res.new)
		})
	}
}
