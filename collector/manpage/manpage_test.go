package manpage_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	urfave "github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/cli"
	"github.com/pkgpersist/pkgpersist/collector/clidoc"
	"github.com/pkgpersist/pkgpersist/collector/manpage"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// demo is a command line whose text has everything roff would take for
// its own: lines starting with a dot or a quote, backslashes, hyphens,
// double quotes in arguments, an indented block and an exit status.
func demo() *clidoc.Command {
	return clidoc.FromApp(&urfave.App{
		Name: "demo", Usage: "try \"roff\" escapes", Version: "1",
		Commands: []*urfave.Command{{
			Name: "sub", Usage: "a sub-command", ArgsUsage: "[FILE ...]",
			Description: `Reads each FILE.
.TH would be a request here, and so would
'br at the start of a line; a back\slash and -- dashes stay text.

Examples:
  demo sub --mode "a b" file
  .hidden

Exit status: 0 when all went well;
2 for usage errors.`,
			Flags: []urfave.Flag{
				&urfave.StringFlag{Name: "mode", Aliases: []string{"m"}, Value: "fast", Usage: "the `MODE`, as in \\d"},
				&urfave.BoolFlag{Name: "dry-run", Usage: "change nothing"},
				&urfave.StringFlag{Name: "key", Required: true, Usage: "`FILE` with the key"},
			},
		}, {Name: "secret", Hidden: true}},
	})
}

// TestGolden: the page of demo sub, as written, is the file in testdata
// (PKGPERSIST_UPDATE_GOLDEN=1 rewrites it).
func TestGolden(t *testing.T) {
	pages := manpage.Pages(demo(), "demo 1")
	var names []string
	for _, p := range pages {
		names = append(names, p.Name)
	}
	if strings.Join(names, " ") != "demo demo-sub" {
		t.Fatalf("pages %q (the hidden command has none)", names)
	}
	golden := filepath.Join("testdata", "demo-sub.1")
	if os.Getenv("PKGPERSIST_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, []byte(pages[1].Text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if pages[1].Text != string(want) {
		t.Errorf("demo-sub.1 differs from %s:\n%s", golden, pages[1].Text)
	}
}

// render is man's text of a page, failing on any warning man (groff)
// gives: roff requests where text was meant, unknown escapes.
func render(t *testing.T, man, file string) string {
	t.Helper()
	cmd := exec.Command(man, "--warnings", "-l", file)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MAN_KEEP_FORMATTING=", "LC_ALL=C.UTF-8", "MANPAGER=cat", "PAGER=cat")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || errb.Len() > 0 {
		t.Errorf("man -l %s: %v\n%s", filepath.Base(file), err, errb.String())
	}
	return out.String()
}

// TestDemoRenders: man renders the demo page without a warning and shows
// the text that looked like requests as text, each section where it
// belongs.
func TestDemoRenders(t *testing.T) {
	man := need.Program(t, "man")
	files, err := manpage.Write(t.TempDir(), demo(), "demo 1")
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, man, files[1])
	for _, want := range []string{
		"demo-sub - a sub-command", "demo sub [OPTIONS] [FILE ...]",
		".TH would be a request here", "'br at", `back\slash and -- dashes`,
		`demo sub --mode "a b" file`, ".hidden",
		"--mode, -m MODE", `the MODE, as in \d (default: "fast")`, "--key FILE", "(required)", "--dry-run",
		"EXIT STATUS\n       0 when all went well; 2 for usage errors.", "SEE ALSO\n       demo(1)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the page lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(strings.Split(got, "EXIT STATUS")[0], "Exit status") {
		t.Errorf("the exit status stayed in the description:\n%s", got)
	}
}

// TestEveryCommand: pkgpersist's own command line has a page for the
// program and for every command and subcommand it does not hide, each
// rendering without a warning, naming its command and its flags.
func TestEveryCommand(t *testing.T) {
	man := need.Program(t, "man")
	root := clidoc.FromApp(cli.App(io.Discard, io.Discard))
	dir := t.TempDir()
	files, err := manpage.Write(dir, root, "pkgpersist test")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	root.Walk(func(c *clidoc.Command) {
		n++
		f := filepath.Join(dir, c.Name()+".1")
		got := render(t, man, f)
		if !strings.Contains(got, c.Line()) {
			t.Errorf("%s does not show %q", c.Name(), c.Line())
		}
		for _, fl := range c.Flags {
			if !strings.Contains(got, fl.Dashed()[0]) {
				t.Errorf("%s lacks %s", c.Name(), fl.Dashed()[0])
			}
		}
	})
	if len(files) != n || n < 20 {
		t.Errorf("%d pages for %d commands", len(files), n)
	}
	for _, want := range []string{"pkgpersist-hunt", "pkgpersist-report-stacks", "pkgpersist-triage-add", "pkgpersist-completion"} {
		if _, err := os.Stat(filepath.Join(dir, want+".1")); err != nil {
			t.Errorf("no page %s: %v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pkgpersist-man.1")); err == nil {
		t.Error("the hidden man command has a page")
	}
	// MANPATH finds them by name as the packages install them
	must(t, os.MkdirAll(filepath.Join(dir, "tree", "man1"), 0o755))
	must(t, os.Rename(filepath.Join(dir, "pkgpersist-query.1"), filepath.Join(dir, "tree", "man1", "pkgpersist-query.1")))
	cmd := exec.Command(man, "pkgpersist-query")
	cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(dir, "tree"), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "EXIT STATUS") {
		t.Errorf("man pkgpersist-query: %v\n%s", err, out)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
