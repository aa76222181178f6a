package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

const watchUnit = "../../dist/systemd/pkgpersist-watch.service"

// TestWatchUnitVerifies: systemd-analyze verify finds nothing to say of
// the service's unit (it exits 0 on unknown keys and bad values, so any
// output fails), with ExecStart's program an executable that exists.
func TestWatchUnitVerifies(t *testing.T) {
	analyze := need.Program(t, "systemd-analyze")
	unit, err := os.ReadFile(watchUnit)
	mustNil(t, err)
	exe := execStart(t, string(unit))[0]
	bin := buildCLI(t)
	p := filepath.Join(t.TempDir(), "pkgpersist-watch.service")
	mustNil(t, os.WriteFile(p, []byte(strings.ReplaceAll(string(unit), exe, bin)), 0o644))
	out, err := exec.Command(analyze, "verify", p).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestWatchUnitFlags: the unit's command line is one pkgpersist watch
// accepts: with a bad --interval added last, it fails on that, not on
// its own flags.
func TestWatchUnitFlags(t *testing.T) {
	unit, err := os.ReadFile(watchUnit)
	mustNil(t, err)
	args := execStart(t, string(unit))[1:]
	code, _, errs := runCLI(append(args, "--interval", "0")...)
	if code != 2 || !strings.Contains(errs, "--interval must be positive") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// execStart is the unit's ExecStart, split on spaces (it quotes nothing).
func execStart(t *testing.T, unit string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^ExecStart=(.+)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("no ExecStart")
	}
	return strings.Fields(m[1])
}
