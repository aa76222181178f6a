package apthooks

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// generateWithin runs the table on root under a deadline that guards
// against a hang (generous: CI machines are loaded).
func generateWithin(t *testing.T, root string) []table.Row {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	rows, err := Table().Run(ctx, table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: root}}}})
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	return rows
}

func rowsFor(rows []table.Row, path string) []table.Row {
	var out []table.Row
	for _, r := range rows {
		if r["path"] == path {
			out = append(out, r)
		}
	}
	return out
}

// TestFilesAptSkips: a FIFO, a symlink to /dev/zero, symlink loops and an
// 8 MiB file in the parts directory are reported, and the good file's hook
// stays active (apt skips what is not a regular file and reads the rest).
func TestFilesAptSkips(t *testing.T) {
	root := t.TempDir()
	parts := filepath.Join(root, "etc/apt/apt.conf.d")
	write(t, filepath.Join(parts, "10good.conf"), []byte(`DPkg::Post-Invoke:: "echo good";`+"\n"))
	if err := syscall.Mkfifo(filepath.Join(parts, "20fifo.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	// /dev/zero inside the root is a real character device where the test
	// may create one (root), else the link dangles; either is reported.
	_ = os.MkdirAll(filepath.Join(root, "dev"), 0o755)
	_ = syscall.Mknod(filepath.Join(root, "dev/zero"), syscall.S_IFCHR|0o666, int(1<<8|5))
	must(t, os.Symlink("/dev/zero", filepath.Join(parts, "30zero.conf")))
	must(t, os.Symlink("40loop.conf", filepath.Join(parts, "40loop.conf")))
	must(t, os.Symlink("41loopb.conf", filepath.Join(parts, "41loopa.conf")))
	must(t, os.Symlink("41loopa.conf", filepath.Join(parts, "41loopb.conf")))
	// no size limit: a hook after 8 MiB of other settings is read
	big := append(bytes.Repeat([]byte("// APT::Big \"x\";\n"), 8<<20/17+1), "DPkg::Post-Invoke:: \"echo big\";\n"...)
	write(t, filepath.Join(parts, "50big.conf"), big)

	rows := generateWithin(t, root)
	good := rowsFor(rows, "/etc/apt/apt.conf.d/10good.conf")
	if len(good) != 1 || good[0]["active"] != "1" || good[0]["command"] != "echo good" || good[0]["position"] != "0" {
		t.Fatalf("good file: %v", good)
	}
	for name, want := range map[string]string{
		"20fifo.conf":  "not a regular file (fifo)",
		"30zero.conf":  "ignored by apt",
		"40loop.conf":  "cannot be stat'ed",
		"41loopa.conf": "cannot be stat'ed",
		"41loopb.conf": "cannot be stat'ed",
	} {
		rs := rowsFor(rows, "/etc/apt/apt.conf.d/"+name)
		if len(rs) != 1 || rs[0]["active"] != "0" || !strings.Contains(rs[0]["reason"], want) {
			t.Errorf("%s: want one inactive row with reason containing %q, got %v", name, want, rs)
		}
	}
	if rs := rowsFor(rows, "/etc/apt/apt.conf.d/50big.conf"); len(rs) != 1 || rs[0]["active"] != "1" || rs[0]["command"] != "echo big" {
		t.Errorf("50big.conf: want the hook at its end active, got %v", rs)
	}
}

// TestFilesThatStopApt: binary data, NUL bytes, an unterminated string, an
// unterminated comment, 20,000-deep nesting and an #include of a directory
// (which hangs apt itself) each get a row with the reason; apt then runs
// nothing, so the good hook is a row with active = 0 that says why.
func TestFilesThatStopApt(t *testing.T) {
	root := t.TempDir()
	parts := filepath.Join(root, "etc/apt/apt.conf.d")
	write(t, filepath.Join(parts, "10good.conf"), []byte(`DPkg::Post-Invoke:: "echo good";`+"\n"))
	bin := make([]byte, 64<<10)
	rand.New(rand.NewSource(1)).Read(bin)
	write(t, filepath.Join(parts, "20binary.conf"), bin)
	write(t, filepath.Join(parts, "21nul.conf"), []byte("A \"x\";\n\x00\x00\x00junk\x00;\nB \x00\"y;\n"))
	write(t, filepath.Join(parts, "22string.conf"), []byte("DPkg::Post-Invoke:: \"never closed;\n"))
	write(t, filepath.Join(parts, "23comment.conf"), []byte("DPkg::Post-Invoke:: \"before the comment\";\n/* never closed\nDPkg::Post-Invoke:: \"inside\";\n"))
	deep := strings.Repeat("a {\n", 20000) + "DPkg::Post-Invoke:: \"deep\";\n" + strings.Repeat("};\n", 20000)
	write(t, filepath.Join(parts, "24deep.conf"), []byte(deep))
	must(t, os.MkdirAll(filepath.Join(root, "etc/apt/somedir"), 0o755))
	write(t, filepath.Join(parts, "25incdir.conf"), []byte("#include \"etc/apt/somedir\";\n"))

	rows := generateWithin(t, root)
	good := rowsFor(rows, "/etc/apt/apt.conf.d/10good.conf")
	if len(good) != 1 || good[0]["active"] != "0" || good[0]["command"] != "echo good" || !strings.HasPrefix(good[0]["reason"], "apt runs nothing: ") {
		t.Fatalf("good file: %v", good)
	}
	for name, want := range map[string]string{
		"20binary.conf": "syntax error",
		"21nul.conf":    "syntax error",
		"22string.conf": "extra junk at end of file",
		"25incdir.conf": "included from here",
	} {
		rs := rowsFor(rows, "/etc/apt/apt.conf.d/"+name)
		if len(rs) == 0 || !strings.Contains(rs[0]["reason"], want) {
			t.Errorf("%s: want a row with reason containing %q, got %v", name, want, rs)
		}
	}
	if rs := rowsFor(rows, "/etc/apt/somedir"); len(rs) != 1 || !strings.Contains(rs[0]["reason"], "is a directory") {
		t.Errorf("included directory: %v", rs)
	}
	// the unterminated comment is valid for apt: the entry before it is a
	// row, what is inside the comment is not
	c := rowsFor(rows, "/etc/apt/apt.conf.d/23comment.conf")
	if len(c) != 1 || c[0]["command"] != "before the comment" {
		t.Errorf("unterminated comment: %v", c)
	}
	// 20,000-deep nesting scopes the hook below a:: twenty thousand times,
	// so it is no hook at all; the file must simply be read in time
	for _, r := range rowsFor(rows, "/etc/apt/apt.conf.d/24deep.conf") {
		t.Errorf("deep nesting made a row: %v", r)
	}
	for _, r := range rows {
		if r["active"] != "0" {
			t.Errorf("active row although apt stops: %v", r)
		}
	}
}

// TestDeadline: a generation that cannot finish in time returns an error
// instead of hanging.
func TestDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Table().Run(ctx, table.QueryContext{})
	if err == nil {
		t.Fatal("no error from a cancelled generation")
	}
}

// TestPanicIsAnError: a table that panics answers with an error.
func TestPanicIsAnError(t *testing.T) {
	tb := &table.Table{Name: "boom", Generate: func(context.Context, table.QueryContext) ([]table.Row, error) {
		var m map[string]int
		m["x"]++
		return nil, nil
	}}
	_, err := tb.Run(context.Background(), table.QueryContext{})
	if err == nil || !strings.Contains(err.Error(), "boom: internal error") {
		t.Fatalf("err = %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDeadlineSaysWhatWasNotRead: a file too large to read in the table's
// time (64 GiB, sparse) stops the reading, not the table: the hook before
// it is a row, the file is a row that says it was not read to the end, and
// the problem is recorded with cause deadline.
func TestDeadlineSaysWhatWasNotRead(t *testing.T) {
	root := t.TempDir()
	parts := filepath.Join(root, "etc/apt/apt.conf.d")
	write(t, filepath.Join(parts, "10good.conf"), []byte(`DPkg::Post-Invoke:: "echo good";`+"\n"))
	huge := filepath.Join(parts, "20huge.conf")
	write(t, huge, []byte("APT::Update::Pre-Invoke:: \"echo before\";\n"))
	if err := os.Truncate(huge, 64<<30); err != nil {
		t.Fatal(err)
	}
	problems := &fsroot.Problems{}
	ctx, cancel := context.WithTimeout(fsroot.WithProblems(context.Background(), problems), 400*time.Millisecond)
	defer cancel()
	rows, err := Table().Run(ctx, table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: root}}}})
	if err != nil {
		t.Fatalf("the table failed instead of saying what it did not read: %v", err)
	}
	if rs := rowsFor(rows, "/etc/apt/apt.conf.d/10good.conf"); len(rs) != 1 || rs[0]["active"] != "1" {
		t.Errorf("good file: %v", rs)
	}
	var before, unread bool
	for _, r := range rowsFor(rows, "/etc/apt/apt.conf.d/20huge.conf") {
		before = before || r["command"] == "echo before"
		unread = unread || (r["active"] == "0" && strings.Contains(r["reason"], "not evaluated") && strings.Contains(r["reason"], "not read to the end"))
	}
	if !before || !unread {
		t.Errorf("huge file: rows %v", rowsFor(rows, "/etc/apt/apt.conf.d/20huge.conf"))
	}
	ps := problems.List()
	if len(ps) != 1 || ps[0].Path != "/etc/apt/apt.conf.d/20huge.conf" || ps[0].Cause != fsroot.CauseDeadline {
		t.Errorf("problems: %+v", ps)
	}
}
