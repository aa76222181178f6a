package rpmmacros

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBadInput: FIFOs, symlink loops, devices, binary and huge files on
// the macro path are rows with the reason, the huge one read to the end,
// within seconds.
func TestBadInput(t *testing.T) {
	root := t.TempDir()
	d := filepath.Join(root, "usr/lib/rpm/macros.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(syscall.Mkfifo(filepath.Join(d, "macros.fifo"), 0o644))
	must(os.Symlink("macros.loop", filepath.Join(d, "macros.loop")))
	must(os.Symlink("/dev/zero", filepath.Join(d, "macros.zero")))
	must(os.Symlink("/nonexistent", filepath.Join(d, "macros.dangling")))
	binary := make([]byte, 1<<16)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	must(os.WriteFile(filepath.Join(d, "macros.binary"), binary, 0o644))
	// 8 MiB of padding, then a definition: read to the end
	big := append(bytes.Repeat([]byte("# padding padding padding padding padding padding padding\n"), 8<<20/59), "%__transaction_late\t/tmp/late.so\n"...)
	must(os.WriteFile(filepath.Join(d, "macros.big"), big, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	rows, err := Rows(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	reasons := map[string]string{}
	late := false
	for _, r := range rows {
		if r["name"] == "" {
			reasons[filepath.Base(r["path"])] = r["reason"]
		}
		late = late || r["name"] == "__transaction_late" && r["effective"] == "1"
	}
	for _, n := range []string{"macros.fifo", "macros.loop", "macros.zero", "macros.dangling"} {
		if !strings.Contains(reasons[n], "cannot be read") {
			t.Errorf("%s: reason %q, want cannot be read", n, reasons[n])
		}
	}
	if !late {
		t.Error("the definition after 8 MiB of padding is not an effective row")
	}
}
