package hooktargets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/pacmanoracle"
)

// TestOraclePacmanTargets: Debian's pacman installs a package into a copy
// of the alpm root. For every effective hook, the program hook_targets
// names for its Exec runs exactly when that file exists: the planted
// /usr/local/bin/pkg-cleanup writes its own path into its marker, and the
// relative `busybox` of 46-relative.hook runs only once the file
// hook_targets names (/busybox, not /bin/busybox on PATH) is put there.
func TestOraclePacmanTargets(t *testing.T) {
	p := pacmanoracle.New(t, filepath.Join(rootsDir, "alpm"))
	programs := map[string]string{} // marker -> target named
	exists := map[string]bool{}
	for _, r := range rowsOf(t, p.Path) {
		if r["source_table"] != "alpm_hooks" || r["active"] != "1" || r["how"] != "direct" || r["via"] != "" {
			continue
		}
		i := strings.LastIndex(r["command"], "/markers/")
		if i < 0 {
			t.Fatalf("a fixture hook without a marker: %s", r["command"])
		}
		m := strings.TrimRight(r["command"][i+len("/markers/"):], `"]`)
		programs[m], exists[m] = r["target"], r["target_exists"] == "1"
	}
	if programs["46-relative"] != "/busybox" || exists["46-relative"] || programs["45-local"] != "/usr/local/bin/pkg-cleanup" {
		t.Fatalf("hook_targets names %v", programs)
	}
	pkg := pacmanoracle.BuildPackage(t, p.Dir)
	install := func() {
		if out, ok := p.Run("-U", pkg); !ok {
			t.Fatalf("pacman -U failed:\n%s", out)
		}
	}
	install()
	ran := map[string]bool{}
	for _, m := range p.Ran() {
		ran[m] = true
	}
	for m, target := range programs {
		if m == "70-remove-only" {
			continue // runs on removal only
		}
		if ran[m] != exists[m] {
			t.Errorf("%s: pacman ran it: %v; hook_targets says %s exists: %v", m, ran[m], target, exists[m])
		}
	}
	data, err := os.ReadFile(filepath.Join(p.Markers, "45-local"))
	if err != nil || strings.TrimSpace(string(data)) != programs["45-local"] {
		t.Errorf("45-local: the marker says %q (%v), hook_targets names %s", data, err, programs["45-local"])
	}
	// put busybox where hook_targets says execv looks, install again
	if out, ok := p.Run("-R", "fixturepkg"); !ok {
		t.Fatalf("pacman -R failed:\n%s", out)
	}
	bb, err := os.ReadFile(filepath.Join(p.Path, "bin/busybox"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Path, programs["46-relative"]), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	install()
	if _, err := os.Stat(filepath.Join(p.Markers, "46-relative")); err != nil {
		t.Errorf("46-relative did not run with %s in place: %v", programs["46-relative"], err)
	}
	rows, err := Rows(context.Background(), p.Path, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r["hook"] == "46-relative.hook" && r["how"] == "direct" && r["via"] == "" && r["target_exists"] != "1" {
			t.Errorf("46-relative: hook_targets does not see the planted %s: %v", r["target"], r)
		}
	}
}
