// Package fsroottest races a root's directories against the code reading
// them, for the tests of fsroot and of the tables that read through it.
package fsroottest

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Iterations is how many times a race test reads through the swapping
// directory; Budget only stops a test that hangs.
const (
	Iterations = 5000
	Budget     = 60 * time.Second
)

// The contents of /d/f inside the root and of the decoy outside it: of
// different sizes, so a size alone tells them apart.
const (
	Inside  = "inside\n"
	Outside = "OUTSIDE, a decoy\n"
)

// DecoyName is an entry only the outside directory has.
const DecoyName = "decoy-only-outside"

// Swap is a root whose directory /d a goroutine keeps exchanging
// (renameat2 RENAME_EXCHANGE, atomic) with /swap, a symlink to a directory
// outside the root holding a decoy f and DecoyName. Inside, /d/f holds
// Inside and /d/sub is a directory.
type Swap struct {
	Root, Outside string
	Decoy         fs.FileInfo // of the outside f
	OutsideDir    fs.FileInfo // of the outside directory
	swaps         atomic.Int64
}

// NewSwap makes the root and swaps until the test ends.
func NewSwap(t testing.TB) *Swap {
	t.Helper()
	base := t.TempDir()
	s := &Swap{Root: filepath.Join(base, "root"), Outside: filepath.Join(base, "outside")}
	for _, step := range []func() error{
		func() error { return os.MkdirAll(filepath.Join(s.Root, "d/sub"), 0o755) },
		func() error { return os.MkdirAll(filepath.Join(s.Outside, "sub"), 0o755) },
		func() error { return os.WriteFile(filepath.Join(s.Root, "d/f"), []byte(Inside), 0o644) },
		func() error { return os.WriteFile(filepath.Join(s.Outside, "f"), []byte(Outside), 0o644) },
		func() error { return os.WriteFile(filepath.Join(s.Outside, DecoyName), nil, 0o644) },
		func() error { return os.Symlink(s.Outside, filepath.Join(s.Root, "swap")) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if s.Decoy, err = os.Stat(filepath.Join(s.Outside, "f")); err != nil {
		t.Fatal(err)
	}
	if s.OutsideDir, err = os.Stat(s.Outside); err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		d, swap := filepath.Join(s.Root, "d"), filepath.Join(s.Root, "swap")
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := unix.Renameat2(unix.AT_FDCWD, d, unix.AT_FDCWD, swap, unix.RENAME_EXCHANGE); err != nil {
				t.Errorf("swap: %v", err)
				return
			}
			s.swaps.Add(1)
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		t.Logf("%d swaps", s.swaps.Load())
	})
	return s
}

// Escaped reports whether fi describes the decoy or the outside directory.
func (s *Swap) Escaped(fi fs.FileInfo) bool {
	return Same(fi, s.Decoy) || Same(fi, s.OutsideDir)
}

// EscapedIno reports whether an inode number is the decoy's or the
// outside directory's (a table reports inodes as numbers).
func (s *Swap) EscapedIno(ino uint64) bool {
	return ino == s.Decoy.Sys().(*syscall.Stat_t).Ino || ino == s.OutsideDir.Sys().(*syscall.Stat_t).Ino
}

// Same reports whether two FileInfos are of one file (device and inode):
// os.SameFile knows only the os package's own.
func Same(a, b fs.FileInfo) bool {
	if a == nil || b == nil {
		return false
	}
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// Loop runs f Iterations times, failing the test if that takes more than
// Budget.
func Loop(t testing.TB, f func(i int)) {
	t.Helper()
	start := time.Now()
	for i := 0; i < Iterations; i++ {
		if time.Since(start) > Budget {
			t.Fatalf("only %d iterations in %v", i, Budget)
		}
		f(i)
	}
	t.Logf("%d iterations in %v", Iterations, time.Since(start).Round(time.Millisecond))
}
