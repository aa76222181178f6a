package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionCommand: pkgpersist completion prints each shell's
// script and refuses other shells or none, as a usage error.
func TestCompletionCommand(t *testing.T) {
	for shell, mark := range map[string]string{"bash": "complete -F _pkgpersist pkgpersist", "zsh": "#compdef pkgpersist"} {
		code, out, errs := runCLI("completion", shell)
		if code != 0 || !strings.Contains(out, mark) || errs != "" {
			t.Errorf("%s: exit %d, %q…, stderr %q", shell, code, out[:min(len(out), 80)], errs)
		}
	}
	for _, args := range [][]string{{"completion"}, {"completion", "fish"}, {"completion", "bash", "zsh"}} {
		if code, _, errs := runCLI(args...); code != 2 || !strings.Contains(errs, "see pkgpersist completion --help") {
			t.Errorf("%q: exit %d: %s", args, code, errs)
		}
	}
}

// TestManCommand: the hidden pkgpersist man writes a page for the program
// and each command, and help does not list it.
func TestManCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1")
	if code, _, errs := runCLI("man", "--out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, p := range []string{"pkgpersist.1", "pkgpersist-hunt.1", "pkgpersist-report-stacks.1", "pkgpersist-completion.1"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
	if _, out, _ := runCLI("--help"); strings.Contains(out, " man ") {
		t.Errorf("help lists the hidden man command:\n%s", out)
	}
}
