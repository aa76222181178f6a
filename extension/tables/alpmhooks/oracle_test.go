package alpmhooks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/pacmanoracle"
)

const rootsDir = "../../../test/roots"

// newPacmanRoot copies the fixture root (none for an empty root).
func newPacmanRoot(t *testing.T, fixture string) *pacmanoracle.Root {
	t.Helper()
	if fixture != "" {
		fixture = filepath.Join(rootsDir, fixture)
	}
	return pacmanoracle.New(t, fixture)
}

// effective lists the marker names of the hooks the table says run: the
// file names without .hook.
func effective(t *testing.T, root string) ([]string, []table.Row) {
	t.Helper()
	rows, err := Rows(context.Background(), root)
	must(t, err)
	var out []string
	for _, r := range rows {
		if r["effective"] == "1" && startable(root, r["exec"]) {
			out = append(out, marker(r["exec"]))
		}
	}
	sort.Strings(out)
	return out, rows
}

// startable: libalpm runs an effective hook's command with execv in the
// root, which fails for a program that is not there (46-relative.hook: a
// name without '/' is not searched on PATH). hook_targets says which file
// that is; its oracle (extension/tables/hooktargets) checks it.
func startable(root, execJSON string) bool {
	var argv []string
	if json.Unmarshal([]byte(execJSON), &argv) != nil || len(argv) == 0 {
		return false
	}
	_, err := os.Stat(filepath.Join(root, argv[0]))
	return err == nil
}

// marker is the marker file a fixture hook's command writes: its last
// word names it (/markers/NAME).
func marker(execJSON string) string {
	i := strings.LastIndex(execJSON, "/markers/")
	if i < 0 {
		return execJSON
	}
	return strings.TrimRight(execJSON[i+len("/markers/"):], `"]`)
}

// TestOraclePacman: Debian's pacman installs a package into the fixture
// root and removes it again; the hooks whose markers appear are exactly
// the rows the table says are effective (every effective hook of the
// fixture triggers on one of the two transactions). After the install,
// every row's package is the one pacman -Qo names (the hook the package
// shipped is owned by it; the fixture's database owns two more) and
// package_modified is whether pacman -Qkk finds its checksum changed.
func TestOraclePacman(t *testing.T) {
	p := newPacmanRoot(t, "alpm")
	want, rows := effective(t, p.Path)
	pkg := pacmanoracle.BuildPackage(t, p.Dir)
	if out, ok := p.Run("-U", pkg); !ok {
		t.Fatalf("pacman -U failed:\n%s", out)
	}
	afterInstall, rows2 := effective(t, p.Path)
	modified, qkk := p.Modified()
	owners := map[string]string{}
	for _, r := range rows2 {
		owners[r["path"]] = p.Owner(r["path"])
	}
	if out, ok := p.Run("-R", "fixturepkg"); !ok {
		t.Fatalf("pacman -R failed:\n%s", out)
	}
	if got := p.Ran(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("pacman ran %v\ntable says effective %v\n%s", got, want, dump(rows))
	}
	if !contains(afterInstall, "80-pkg") {
		t.Fatalf("after the install the packaged hook is not effective: %v", afterInstall)
	}
	if owners["/usr/share/libalpm/hooks/80-pkg.hook"] != "fixturepkg" || !modified["/usr/share/libalpm/hooks/40-pre.hook"] {
		t.Fatalf("pacman does not own 80-pkg.hook or find 40-pre.hook modified: %v\n%s", owners, qkk)
	}
	for _, r := range rows2 {
		if r["package"] != owners[r["path"]] || r["package_modified"] != table.Bool(modified[r["path"]]) {
			t.Errorf("%s: package %q modified %s; pacman -Qo %q, -Qkk modified %v", r["path"], r["package"], r["package_modified"], owners[r["path"]], modified[r["path"]])
		}
	}
}

// TestOraclePacmanBroken: one invalid hook file makes pacman abort the
// transaction before any hook runs; the table says no hook is effective,
// and why.
func TestOraclePacmanBroken(t *testing.T) {
	p := newPacmanRoot(t, "alpm-broken")
	want, rows := effective(t, p.Path)
	out, ok := p.Run("-U", pacmanoracle.BuildPackage(t, p.Dir))
	if ok {
		t.Fatalf("pacman -U succeeded despite an invalid hook:\n%s", out)
	}
	if got := p.Ran(); len(got) != 0 || len(want) != 0 {
		t.Fatalf("pacman ran %v\ntable says effective %v\n%s\n%s", got, want, out, dump(rows))
	}
	for _, r := range rows {
		if r["path"] == "/usr/share/libalpm/hooks/10-valid.hook" && !strings.Contains(r["reason"], "aborts every transaction") {
			t.Fatalf("10-valid.hook: reason %q", r["reason"])
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func dump(rows []table.Row) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r["path"] + " effective=" + r["effective"] + " reason=" + r["reason"] + " exec=" + r["exec"] + "\n")
	}
	return b.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
