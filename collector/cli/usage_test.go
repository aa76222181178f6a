package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// Usage errors are one line on stderr naming the fix and the help, exit
// 2, nothing on stdout.
func TestUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "u.db")
	if code, _, errs := runCLI("hunt", "--db", db, "--root", planted, "--format", "json"); code > 1 {
		t.Fatalf("hunt: exit %d %s", code, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"hnut"}, `unknown command "hnut" (did you mean hunt?); see pkgpersist --help`},
		{[]string{"zzzzzz"}, `unknown command "zzzzzz"; see pkgpersist --help`},
		{[]string{"report", "stack"}, `(did you mean stacks?); see pkgpersist report --help`},
		{[]string{"diff", "--hots", "x"}, `unknown flag --hots (did you mean --host?); see pkgpersist diff --help`},
		{[]string{"--verison"}, `(did you mean --version?)`},
		{[]string{"diff", "--db", db, "--host", "typo"}, `no host "typo" in`},
		{[]string{"diff", "--db", db, "--run", "999"}, `no run 999 in`},
		{[]string{"prune", "--db", db, "--keep", "soon"}, `--keep: "soon" is not an age`},
		{[]string{"backup", "--db", db}, `give one FILE`},
	} {
		code, out, errs := runCLI(c.args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", c.args, code, out, errs, c.want)
		}
	}
	if code, out, _ := runCLI("diff", "--db", db, "--host", mustHost(t), "--run", "1", "--format", "json"); code != 0 || out == "" {
		t.Fatalf("known host and run: exit %d %q", code, out)
	}
}

func mustHost(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h + ":" + planted
}

// Every flag that takes a value names it in the help (a metavar).
func TestMetavars(t *testing.T) {
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			for _, f := range c.Flags {
				if _, ok := f.(*cli.BoolFlag); ok {
					continue
				}
				if u := f.(cli.DocGenerationFlag).GetUsage(); strings.Count(u, "`") != 2 {
					t.Errorf("%s %s --%s: no `METAVAR` in %q", path, c.Name, f.Names()[0], u)
				}
			}
			walk(path+" "+c.Name, c.Subcommands)
		}
	}
	walk("pkgpersist", []*cli.Command{huntCommand(), diffCommand(), queryCommand(), batchCommand(), packsCommand(), serveCommand(), hostsCommand(), ingestCommand(), reportCommand(), pruneCommand(), backupCommand(), migrateCommand()})
}

// prune, backup, and diff of a database nobody may write.
func TestPruneBackupReadOnly(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	if code, _, errs := runCLI("hunt", "--db", db, "--root", planted, "--format", "json"); code > 1 {
		t.Fatalf("hunt: exit %d %s", code, errs)
	}
	_, want, _ := runCLI("diff", "--db", db, "--format", "json")
	code, out, errs := runCLI("prune", "--db", db, "--keep", "1d")
	if code != 0 || !strings.Contains(out, "pruned before") {
		t.Fatalf("prune: exit %d %q %s", code, out, errs)
	}
	if _, got, _ := runCLI("diff", "--db", db, "--format", "json"); got != want {
		t.Fatal("prune of nothing old changed the diff")
	}
	copyDB := filepath.Join(dir, "copy.db")
	if code, _, errs := runCLI("backup", "--db", db, copyDB); code != 0 {
		t.Fatalf("backup: exit %d %s", code, errs)
	}
	if _, got, _ := runCLI("diff", "--db", copyDB, "--format", "json"); got != want {
		t.Fatal("the backup's diff differs")
	}
	if code, _, _ := runCLI("backup", "--db", db, copyDB); code != 1 {
		t.Fatalf("backup over a file: exit %d", code)
	}
	// the copy, unwritable even for root, is still read
	ro := t.TempDir()
	roDB := filepath.Join(ro, "ro.db")
	if code, _, errs := runCLI("backup", "--db", db, roDB); code != 0 {
		t.Fatalf("backup: %s", errs)
	}
	for _, p := range []string{roDB, ro} {
		if out, err := exec.Command("chattr", "+i", p).CombinedOutput(); err != nil {
			t.Skipf("chattr: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", p).Run() })
	}
	if code, got, errs := runCLI("diff", "--db", roDB, "--format", "json"); code != 0 || got != want {
		t.Fatalf("diff of a read-only database: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI("hosts", "--db", roDB); code != 0 {
		t.Fatalf("hosts of a read-only database: exit %d %s", code, errs)
	}
}
