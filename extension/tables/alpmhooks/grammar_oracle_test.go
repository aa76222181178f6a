package alpmhooks

import (
	"github.com/pkgpersist/pkgpersist/test/pacmanoracle"

	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOracleGrammar: one hook file at a time, each testing a rule of
// libalpm's hook grammar, in an otherwise empty root; Debian's pacman
// installs a package there. The hook's marker appears exactly when the
// table says it is effective, and pacman fails exactly when the table says
// no hook runs because a file is invalid.
func TestOracleGrammar(t *testing.T) {
	const trig = "[Trigger]\nOperation = Install\nType = Package\nTarget = *\n"
	const when = "[Action]\nWhen = PostTransaction\n"
	const exec = "Exec = /bin/busybox touch /markers/ran\n"
	cases := map[string]string{
		"valid":                trig + when + exec,
		"crlf":                 strings.ReplaceAll(trig+when+exec, "\n", "\r\n"),
		"indented":             "  [Trigger]\n\tOperation = Install\n Type = Package\nTarget = *\n" + when + "   " + exec,
		"comment":              "# c\n" + trig + "  # c\n" + when + exec,
		"inline-comment":       trig + "[Action]\nWhen = PostTransaction # c\n" + exec,
		"lowercase-value":      "[Trigger]\nOperation = install\nType = Package\nTarget = *\n" + when + exec,
		"lowercase-key":        "[Trigger]\noperation = Install\nType = Package\nTarget = *\n" + when + exec,
		"section-spaces":       "[ Trigger ]\nOperation = Install\nType = Package\nTarget = *\n" + when + exec,
		"key-before-section":   "Description = x\n" + trig + when + exec,
		"unknown-key":          trig + when + exec + "User = root\n",
		"network-access":       trig + when + exec + "NetworkAccess = allowed\n",
		"file-type":            "[Trigger]\nOperation = Install\nType = File\nTarget = usr/*\n" + when + exec,
		"negated-target":       "[Trigger]\nOperation = Install\nType = Package\nTarget = *\nTarget = !fixture*\n" + when + exec,
		"negated-then-glob":    "[Trigger]\nOperation = Install\nType = Package\nTarget = !fixture*\nTarget = *\n" + when + exec,
		"two-exec":             trig + when + "Exec = /bin/busybox touch /markers/first\n" + exec,
		"no-when":              trig + "[Action]\n" + exec,
		"no-type":              "[Trigger]\nOperation = Install\nTarget = *\n" + when + exec,
		"empty-trigger":        "[Trigger]\n" + trig + when + exec,
		"two-actions":          trig + "[Action]\n" + exec + "[Action]\nWhen = PostTransaction\n",
		"quoted-exec":          trig + when + "Exec = '/bin/busybox' \"touch\" /markers/r\\\"an\n",
		"unbalanced-quote":     trig + when + "Exec = /bin/busybox touch '/markers/ran\n",
		"flag-with-value":      trig + when + exec + "NeedsTargets = no\n",
		"nul-ends-line":        trig + when + "Exec = /bin/busybox touch /markers/ran\x00 junk\n",
		"long-line":            trig + when + exec + "Description = " + strings.Repeat("d", 5000) + "\n",
		"exact-4095":           trig + when + exec + "Description = " + strings.Repeat("d", 4095-len("Description = ")-1) + "\n",
		"unterminated-header":  "[Trigger\nOperation = Install\n",
		"empty-section":        "[]\n" + trig + when + exec,
		"no-value-operation":   "[Trigger]\nOperation\nType = Package\nTarget = *\n" + when + exec,
		"no-value-exec":        trig + when + "Exec\n",
		"no-value-depends":     trig + when + exec + "Depends\n",
		"no-value-target":      "[Trigger]\nOperation = Install\nType = Package\nTarget\n" + when + exec,
		"no-value-description": trig + when + exec + "Description\n",
		"empty-exec":           trig + when + "Exec =\n",
	}
	// loaded, but the package the test installs does not match the
	// triggers (the last matching target is a negation): no marker
	unmatched := map[string]bool{"negated-target": true}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			p := newPacmanRoot(t, "")
			dir := filepath.Join(p.Path, "etc/pacman.d/hooks")
			must(t, os.MkdirAll(dir, 0o755))
			must(t, os.WriteFile(filepath.Join(dir, "h.hook"), []byte(text), 0o644))
			want, rows := effective(t, p.Path)
			out, ok := p.Run("-U", pacmanoracle.BuildPackage(t, p.Dir))
			got := p.Ran()
			var gotHooks []string
			for _, m := range got {
				// every marker comes from the one hook
				if m == "first" {
					t.Fatalf("the first of two Exec lines ran:\n%s", out)
				}
				gotHooks = append(gotHooks, "h")
			}
			var wantHooks []string
			for range want {
				wantHooks = append(wantHooks, "h")
			}
			if unmatched[name] {
				if len(want) != 1 {
					t.Fatalf("the table does not load the hook:\n%s", dump(rows))
				}
				wantHooks = nil
			}
			if strings.Join(gotHooks, ",") != strings.Join(wantHooks, ",") {
				t.Fatalf("pacman ran %v, table effective %v\n%s\n%s", got, want, out, dump(rows))
			}
			invalid := strings.HasPrefix(rows[0]["reason"], "invalid")
			if ok == invalid {
				t.Fatalf("pacman succeeded=%v but the table says invalid=%v\n%s\n%s", ok, invalid, out, dump(rows))
			}
		})
	}
}
