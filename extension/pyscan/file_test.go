package pyscan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// TestScanFile: a module of any size is streamed and hashed whole, after a
// syntax error too; bounds reached and running out of time are problems
// of the root.
func TestScanFile(t *testing.T) {
	padded := "import os\nos.system('id')\n#" + strings.Repeat("x", 3<<20) + "\n"
	broken := "x = (\n" + strings.Repeat("# more\n", 1000)
	var many strings.Builder
	many.WriteString("import os\n")
	for i := 0; i < maxCalls+1; i++ {
		many.WriteString("os.system('x')\n")
	}
	files := map[string]string{"/p/padded.py": padded, "/p/broken.py": broken, "/p/many.py": many.String()}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "p"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ps := &fsroot.Problems{}
	ctx := fsroot.WithProblems(context.Background(), ps)
	fs, err := fsroot.OpenContext(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		s := Options{}.ScanFile(ctx, fs, name)
		sum := sha256.Sum256([]byte(data))
		if s.Digests == nil || s.Digests.SHA256 != hex.EncodeToString(sum[:]) || s.Digests.Size != int64(len(data)) {
			t.Errorf("%s: digests %+v", name, s.Digests)
		}
		if (name == "/p/broken.py") != (s.Err != nil) || s.ReadErr != nil {
			t.Errorf("%s: err %v, read err %v", name, s.Err, s.ReadErr)
		}
	}
	if got := ps.List(); len(got) != 1 || got[0].Path != "/p/many.py" || got[0].Cause != fsroot.CauseLimit {
		t.Errorf("problems: %+v", got)
	}

	expired, cancel := context.WithCancel(ctx)
	cancel()
	s := Options{}.ScanFile(expired, fs, "/p/padded.py")
	if !errors.Is(s.ReadErr, context.Canceled) || s.Module != nil {
		t.Errorf("after the deadline: %+v", s)
	}
	last := ps.List()[len(ps.List())-1]
	if last.Path != "/p/padded.py" || last.Cause != fsroot.CauseDeadline {
		t.Errorf("deadline problem: %+v", last)
	}
}
