package completion_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/cli"
	"github.com/pkgpersist/pkgpersist/collector/clidoc"
	"github.com/pkgpersist/pkgpersist/collector/completion"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// script writes the program's completion for shell into a directory and
// returns the file, named as each shell looks for it.
func script(t *testing.T, shell string) string {
	t.Helper()
	var b bytes.Buffer
	if err := completion.Write(&b, shell, clidoc.FromApp(cli.App(io.Discard, io.Discard))); err != nil {
		t.Fatal(err)
	}
	name := map[string]string{"bash": "pkgpersist", "zsh": "_pkgpersist"}[shell]
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// files is a directory with one file and one directory, for the flags
// whose values are names.
func files(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "afile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(d, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBash: bash sources the script and registers the function; typed
// words complete as the command line defines them, ending each line at
// the cursor's word.
func TestBash(t *testing.T) {
	bash := need.Program(t, "bash")
	s := script(t, "bash")
	d := files(t)
	cases := []struct {
		words string
		want  string
	}{
		{"pkgpersist hu", "hunt"},
		{"pkgpersist report ne", "new-terms"},
		{"pkgpersist report", "report"}, // the word itself: bash adds the space
		{"pkgpersist triage r", "remove"},
		{"pkgpersist query --fi", "--file"},
		{"pkgpersist serve --enroll-s", "--enroll-secret-file"},
		{"pkgpersist query --file " + d + "/a", d + "/adir " + d + "/afile"},
		{"pkgpersist query --root " + d + "/a", d + "/adir"},
		{"pkgpersist query --format j", ""}, // a value, not a command
		{"pkgpersist --db x hu", "hunt"},
		{"pkgpersist nosuch --", "--help --version"},
	}
	for _, c := range cases {
		out, err := exec.Command(bash, "-c", `source "$1" && complete -p pkgpersist >/dev/null &&
COMP_WORDS=($2); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _pkgpersist; printf '%s\n' "${COMPREPLY[@]}" | sort`, "bash", s, c.words).CombinedOutput()
		if got := strings.Join(strings.Fields(string(out)), " "); err != nil || got != c.want {
			t.Errorf("%q: got %q, want %q (%v)", c.words, got, c.want, err)
		}
	}
}

// TestZsh: zsh's completion system loads the function from fpath, and the
// function, with the completion builtins it calls replaced by ones that
// print their arguments, offers what the command line defines.
func TestZsh(t *testing.T) {
	zsh := need.Program(t, "zsh")
	s := script(t, "zsh")
	home := t.TempDir()
	load := exec.Command(zsh, "-fc", `fpath=("$1" $fpath); autoload -U compinit; compinit -u -d "$2/.zcompdump"
autoload -U +X _pkgpersist && print -r -- "$_comps[pkgpersist]"`, "zsh", filepath.Dir(s), home)
	if out, err := load.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "_pkgpersist" {
		t.Fatalf("compinit: %v\n%s", err, out)
	}
	cases := []struct{ words, want string }{
		{"pkgpersist hu", "commands: hunt:run the queries"},
		{"pkgpersist report ", "commands: stacks:"},
		{"pkgpersist query --", "options: --root:filesystem DIR"},
		{"pkgpersist query --file ", "files"},
		{"pkgpersist query --root ", "files -/"},
		{"pkgpersist query --format ", "message value"},
	}
	for _, c := range cases {
		// sourcing the file defines the function and runs it once, as
		// autoload does on the first completion
		out, err := exec.Command(zsh, "-fc", `_describe() { local -a l; l=(${(P)4}); print -r -- "$3s: ${(j:|:)l}"; }
_files() { print -r -- files "$@"; }
_message() { print -r -- message "$@"; }
words=(${=2}); [[ $2 == *' ' ]] && words+=(''); CURRENT=${#words}; PREFIX=${words[CURRENT]}
source "$1"`, "zsh", s, c.words).CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%q: got %q, want %q (%v)", c.words, out, c.want, err)
		}
	}
}

func TestUnknownShell(t *testing.T) {
	if err := completion.Write(io.Discard, "fish", &clidoc.Command{Path: []string{"p"}}); err == nil || !strings.Contains(err.Error(), "bash, zsh") {
		t.Errorf("fish: %v", err)
	}
}

// TestZshInteractive: an interactive zsh (on a pseudo-terminal, zpty),
// with the function in its fpath and compinit run, completes a typed
// line on Tab as the command line defines it.
func TestZshInteractive(t *testing.T) {
	zsh := need.Program(t, "zsh")
	s := script(t, "zsh")
	for typed, want := range map[string]string{
		"pkgpersist report ne":        "pkgpersist report new-terms",
		"pkgpersist serve --enroll-s": "pkgpersist serve --enroll-secret-file",
	} {
		cmd := exec.Command(zsh, "-fc", `zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='>'; fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "$2"$'\t'
local buf= chunk
for i in {1..100}; do
	zpty -r -t z chunk && buf+=$chunk
	[[ $buf == *"$3"* ]] && break
	sleep 0.1
done
zpty -d z
print -r -- $buf`, "zsh", filepath.Dir(s), typed, want)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("%q<Tab>: want %q (%v)\n%q", typed, want, err, out)
		}
	}
}

// TestBashSpacedNames: a file name with a space or a glob character is
// one completion, as it is named.
func TestBashSpacedNames(t *testing.T) {
	bash := need.Program(t, "bash")
	s := script(t, "bash")
	d := t.TempDir()
	for _, n := range []string{"my store.db", "my*x.db"} {
		if err := os.WriteFile(filepath.Join(d, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bash, "-c", `source "$1" && COMP_WORDS=(pkgpersist diff --db "$2/my"); COMP_CWORD=3; _pkgpersist; printf '%s\n' "${COMPREPLY[@]}" | sort`,
		"bash", s, d).CombinedOutput()
	if want := d + "/my store.db\n" + d + "/my*x.db\n"; err != nil || string(out) != want {
		t.Errorf("got %q, want %q (%v)", out, want, err)
	}
}
