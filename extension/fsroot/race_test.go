package fsroot

import (
	"bytes"
	"io/fs"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot/fsroottest"
)

// TestSwapRaceStaysInside: while /d flips between a directory of the root
// and a symlink out of it, nothing read, stat'ed or listed through /d is
// ever the outside.
func TestSwapRaceStaysInside(t *testing.T) {
	eachResolver(t, func(t *testing.T, newRoot func(string) *Root) {
		s := fsroottest.NewSwap(t)
		var reads, stats int
		fsroottest.Loop(t, func(i int) {
			r := newRoot(s.Root)
			defer r.Close()
			if data, err := r.ReadFile("/d/f"); err == nil {
				reads++
				if !bytes.Equal(data, []byte(fsroottest.Inside)) {
					t.Fatalf("iteration %d: read %q through /d/f", i, data)
				}
			}
			for _, name := range []string{"/d/f", "/d", "/d/", "/d/sub/.."} {
				for _, stat := range []func(string) (fs.FileInfo, error){r.Stat, r.Lstat} {
					if fi, err := stat(name); err == nil && s.Escaped(fi) {
						t.Fatalf("iteration %d: %s is the outside", i, name)
					}
				}
			}
			if f, err := r.Describe("/d/f", nil); err == nil {
				stats++
				if f.Size != int64(len(fsroottest.Inside)) {
					t.Fatalf("iteration %d: describe /d/f: size %d, the decoy's", i, f.Size)
				}
			}
			ents, _ := r.ReadDirEntries("/d")
			for _, e := range ents {
				fi, _ := e.Info()
				if e.Name() == fsroottest.DecoyName || s.Escaped(fi) {
					t.Fatalf("iteration %d: listed the outside directory through /d", i)
				}
			}
		})
		if reads == 0 || stats == 0 {
			t.Fatalf("the race never let a read through (%d reads, %d stats): the test proves nothing", reads, stats)
		}
		t.Logf("%d reads, %d stats inside, none outside", reads, stats)
	})
}
