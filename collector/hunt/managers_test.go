package hunt_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/queries"
)

// TestHuntOtherManagers: a hunt with the built-in queries of a root that
// has pacman hooks, apk commit hooks, libzypp plugins and zypper
// subcommands, and a redirected rpm plugin reports each planted one as a
// new finding of the detection that covers it (queries/managers_test.go
// checks the queries row by row).
func TestHuntOtherManagers(t *testing.T) {
	root := t.TempDir()
	// cp -a: whether apk and libzypp run a file depends on its mode
	for _, fx := range []string{"alpm", "apk", "zypp", "rpm-plugins"} {
		if out, err := exec.Command("cp", "-a", filepath.Join("../../test/roots", fx)+"/.", root).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v: %s", err, out)
		}
	}
	qs, err := querydef.Load(queries.FS)
	must(t, err)
	st := openStore(t)
	ctx := context.Background()
	sum, err := hunt.Run(ctx, st, []hunt.Target{hunt.Local{Host: "fixture", Root: root}}, qs, hunt.Options{})
	must(t, err)
	findings, _, err := hunt.Findings(ctx, st, sum, qs)
	must(t, err)
	var got []string
	for _, f := range findings {
		if f.Kind != "new" {
			t.Errorf("first run, finding not new: %+v", f)
		}
		got = append(got, f.QueryID+" "+f.Row["path"])
	}
	for _, want := range []string{
		"unowned-hooks /etc/pacman.d/hooks/20-overridden.hook",
		"unowned-hooks /etc/apk/commit_hooks.d/10-backdoor.sh",
		"unowned-plugins /usr/lib/zypp/plugins/commit/backdoor.sh",
		"unowned-plugins /usr/local/bin/zypper-extra",
		"unowned-plugins /opt/.x/libsys.so",
		"rpm-macros-run-code /etc/rpm/macros.plugins",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("no finding %q in %q", want, got)
		}
	}
	for _, never := range []string{
		"unowned-hooks /etc/pacman.d/hooks/30-masked.hook",
		"unowned-hooks /etc/apk/commit_hooks.d/20-motd",
		"unowned-plugins /usr/lib/zypp/plugins/commit/notes.txt",
		"unowned-plugins /opt/.x/ghost.so",
	} {
		if slices.Contains(got, never) {
			t.Errorf("finding %q: the package manager does not run it, or a package owns it", never)
		}
	}
}
