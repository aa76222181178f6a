// Package distbuild gives tests the static release binaries, built as a
// release builds them: by the Makefile's dist target, once per test binary.
package distbuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// compilers are the C compilers the dist target links each architecture
// with (the Makefile's CC_amd64, CC_arm64).
var compilers = map[string]string{"amd64": "musl-gcc", "arm64": "aarch64-linux-gnu-gcc"}

// Programs are the files make dist writes for each architecture.
var Programs = []string{"pkgpersist", "pkgpersist.ext"}

// Dist is one make dist run shared by the tests of a package: the first
// test that asks for it builds it, the others reuse it (or its failure).
type Dist struct {
	Arches []string // GOARCH values, as DIST_ARCHS takes them
	// Packages asks for the .deb and .rpm too (some seconds more per
	// architecture); without it make dist writes the programs alone.
	Packages bool

	once sync.Once
	dir  string
	took time.Duration
	err  error
}

// Dir returns the dist directory, building it on first use. Without make
// or a compiler the test is skipped (failed when CI is set).
func (d *Dist) Dir(t testing.TB) string {
	t.Helper()
	need.Program(t, "make")
	for _, a := range d.Arches {
		cc, ok := compilers[a]
		if !ok {
			t.Fatalf("make dist knows no compiler for %s", a)
		}
		need.Program(t, cc)
	}
	d.once.Do(d.build)
	if d.err != nil {
		t.Fatal(d.err)
	}
	t.Logf("make dist %s: %v", strings.Join(d.Arches, " "), d.took.Round(time.Second))
	return d.dir
}

// Arch returns the directory of one architecture's programs in dir.
func Arch(dir, arch string) string { return filepath.Join(dir, "pkgpersist_linux_"+arch) }

func (d *Dist) build() {
	repo, err := moduleRoot()
	if err != nil {
		d.err = err
		return
	}
	if d.dir, d.err = os.MkdirTemp("", "pkgpersist-dist-"); d.err != nil {
		return
	}
	start := time.Now()
	packages := "no"
	if d.Packages {
		packages = "yes"
	}
	cmd := exec.Command("make", "-C", repo, "--no-print-directory", "dist", "DIST="+d.dir, "DIST_ARCHS="+strings.Join(d.Arches, " "), "DIST_PACKAGES="+packages)
	if out, err := cmd.CombinedOutput(); err != nil {
		d.err = fmt.Errorf("make dist: %v\n%s", err, out)
	}
	d.took = time.Since(start)
}

// Remove deletes what Dir built; TestMain calls it after the tests.
func (d *Dist) Remove() {
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
}

// moduleRoot is the directory holding go.mod (and the Makefile) above the
// test's working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = up
	}
}
