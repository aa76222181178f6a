// Package unitcheck checks pkgpersist's systemd units with the real
// systemd-analyze, for the CLI's tests of each unit and the packages'
// tests of the units they install.
package unitcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// Verify wants systemd-analyze verify to find nothing to say of the unit
// at path (it exits 0 on unknown keys and bad values, so any output
// fails). ExecStart's program becomes exe, a program that exists here;
// manDir is a man page tree (DIR/man1/NAME.1) holding the pages the
// unit's Documentation= names, which verify looks up with man.
func Verify(t testing.TB, path, exe, manDir string) {
	t.Helper()
	analyze := need.Program(t, "systemd-analyze")
	need.Program(t, "man")
	unit, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	prog := ExecStart(t, string(unit))[0]
	p := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(unit), prog, exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", p)
	cmd.Env = append(os.Environ(), "MANPATH="+manDir)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", filepath.Base(path), err, out)
	}
}

// ExecStart is the unit's ExecStart, split on spaces (the units quote
// nothing).
func ExecStart(t testing.TB, unit string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^ExecStart=(.+)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("no ExecStart")
	}
	return strings.Fields(m[1])
}

// Settings are the unit's KEY=VALUE lines, each key's values in order.
func Settings(unit string) map[string][]string {
	s := map[string][]string{}
	for _, l := range strings.Split(unit, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, ";") {
			s[k] = append(s[k], v)
		}
	}
	return s
}
