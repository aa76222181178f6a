package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// immutable makes path unwritable even for root (chattr +i) until the
// test ends; the test skips where the file system has no such attribute.
func immutable(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if out, err := exec.Command("chattr", "+i", p).CombinedOutput(); err != nil {
			t.Skipf("chattr +i: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", p).Run() })
	}
}

// A database in a directory nobody may write, itself unwritable, is
// read by OpenReadOnly as it was, and left as it was.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "ro.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ids, at := churnStore(t, s, 2, 50, 3)
	want := diffs(t, s, ids, at)
	s.Close()
	before, _ := os.ReadFile(path)
	immutable(t, path, dir)

	if _, err := Open(path); err == nil {
		t.Fatal("Open of an immutable database succeeded: the test cannot tell read-only apart")
	}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := diffs(t, ro, ids, at); !reflect.DeepEqual(got, want) {
		t.Fatal("read-only diffs differ")
	}
	if err := ro.FinishRun(ctx, ids[0]); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("write on a read-only store: %v", err)
	}
	ro.Close()
	if after, _ := os.ReadFile(path); !reflect.DeepEqual(before, after) {
		t.Fatal("the read-only open changed the file")
	}
}
