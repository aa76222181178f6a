package dpkghooks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/need"
)

const rootsDir = "../../../test/roots"

// markerDir is where the fixtures' hooks leave their marks.
const markerDir = "/tmp/pkgpersist-dpkg-markers"

var markerCmd = regexp.MustCompile(`^touch ` + regexp.QuoteMeta(markerDir) + `/([^\s;#]+)`)

// runDpkg runs the real dpkg with the fixture's /etc/dpkg: in a private
// mount namespace the root's etc/dpkg is bound over /etc/dpkg, HOME is the
// root's /root, and a scratch admin directory keeps the host's database
// untouched. `--configure --pending` with nothing pending still runs every
// hook. It returns the markers left and whether dpkg succeeded.
func runDpkg(t *testing.T, root string, wantLogger bool) ([]string, bool, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		need.Missing(t, "running dpkg in a private mount namespace needs root")
	}
	need.Program(t, "unshare")
	need.Program(t, "dpkg")
	abs, _ := filepath.Abs(root)
	admin := t.TempDir()
	if err := os.WriteFile(filepath.Join(admin, "status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(markerDir)
	if err := os.MkdirAll(markerDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(markerDir) })
	script := `mount --bind "$1/etc/dpkg" /etc/dpkg && HOME="$1/root" exec dpkg --admindir="$2" --log=/dev/null --configure --pending`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", abs, admin)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "unshare failed") || strings.Contains(string(out), "mount:") {
		need.Missing(t, "no private mount namespace here: "+strings.TrimSpace(string(out)))
	}
	if wantLogger {
		// dpkg does not wait for status loggers
		for i := 0; i < 40; i++ {
			if _, err := os.Stat(filepath.Join(markerDir, "status-logger")); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ents, _ := os.ReadDir(markerDir)
	var markers []string
	for _, e := range ents {
		markers = append(markers, e.Name())
	}
	sort.Strings(markers)
	return markers, err == nil, string(out)
}

// TestOracleDpkg: real dpkg runs exactly the hooks the table reports
// active (each leaves a marker) and none of the inactive ones.
func TestOracleDpkg(t *testing.T) {
	for _, name := range []string{"dpkg", "dpkg-broken"} {
		t.Run(name, func(t *testing.T) {
			active, inactive, ok := oracleRoot(t, filepath.Join(rootsDir, name))
			if name == "dpkg-broken" && (ok || len(active) != 0) {
				t.Fatalf("broken configuration: dpkg ok=%v, active %v", ok, active)
			}
			if name == "dpkg" && (len(active) < 10 || len(inactive) < 3) {
				t.Fatalf("fixture too thin: %d active, %d inactive marker hooks", len(active), len(inactive))
			}
		})
	}
}

// oracleRoot compares the table's active marker hooks on root with the
// markers real dpkg leaves, and returns them.
func oracleRoot(t *testing.T, root string) (active, inactive []string, ok bool) {
	t.Helper()
	rows, err := Rows(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	logger := false
	for _, r := range rows {
		m := markerCmd.FindStringSubmatch(r["command"])
		if m == nil {
			continue
		}
		if r["active"] == "1" {
			active = append(active, m[1])
			logger = logger || r["hook"] == "status-logger"
		} else {
			inactive = append(inactive, m[1])
		}
	}
	sort.Strings(active)
	markers, ok, out := runDpkg(t, root, logger)
	if strings.Join(markers, " ") != strings.Join(active, " ") {
		t.Fatalf("dpkg (ok=%v) left markers %v\ntable's active hooks %v\ndpkg said: %s", ok, markers, active, out)
	}
	return active, inactive, ok
}

// TestPaddedAgainstDpkg: padding cannot hide a hook, and long lines are
// read as dpkg reads them (fgets, 1023 bytes at a time). Each case is a
// root of its own, checked against real dpkg.
func TestPaddedAgainstDpkg(t *testing.T) {
	hook := func(name string) string { return "post-invoke=touch " + markerDir + "/" + name + "\n" }
	comments := func(n, width int) string {
		line := "# " + strings.Repeat("c", width-3) + "\n"
		return strings.Repeat(line, n)
	}
	for name, c := range map[string]struct {
		cfg  string
		want string // the active markers, space-separated
	}{
		// 1,100 comment lines of 1,022 bytes: 1.1 MB, every line within
		// dpkg's buffer
		"1100-comment-lines": {hook("before") + comments(1100, 1023) + hook("after"), "after before"},
		// 4 MiB of short comments
		"4mib-of-comments": {hook("before") + comments(4<<20/40, 40) + hook("after"), "after before"},
		// a comment line longer than dpkg's buffer: its second piece is
		// read as an option, unknown, and dpkg stops
		"long-comment-line": {hook("before") + comments(1, 1500) + hook("after"), ""},
		// a value just under the buffer is whole; the line that follows
		// is its own
		"long-value": {"post-invoke=touch " + markerDir + "/long #" + strings.Repeat("v", 1023-2-len("post-invoke=touch "+markerDir+"/long #")) + "\n" + hook("next"), "long next"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "etc/dpkg/dpkg.cfg.d")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(root, "root"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "padded"), []byte(c.cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			active, _, _ := oracleRoot(t, root)
			if got := strings.Join(active, " "); got != c.want {
				t.Fatalf("active %q, want %q", got, c.want)
			}
		})
	}
}
