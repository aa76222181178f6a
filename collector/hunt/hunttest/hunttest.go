// Package hunttest helps the tests of whole hunts judge their outcome
// while the coverage table may not be registered yet.
package hunttest

import (
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/tables"
)

// CoverageTable is the table the hunt's coverage query reads.
const CoverageTable = "pkgpersist_coverage"

// CoverageRegistered reports whether the embedded engine serves the
// coverage table.
func CoverageRegistered() bool {
	for _, t := range tables.Engine() {
		if t.Name == CoverageTable {
			return true
		}
	}
	return false
}

// WantClean fails t unless a hunt that exited with code, printing errs on
// stderr, was clean (exit 0). Without the coverage table no hunt can be
// clean: then it wants exit 1 with every host incomplete for that reason
// alone, and logs that it settled for that.
func WantClean(t testing.TB, code int, errs string) {
	t.Helper()
	if CoverageRegistered() {
		if code != 0 {
			t.Fatalf("hunt: exit %d, want 0\n%s", code, errs)
		}
		return
	}
	if code != 1 {
		t.Fatalf("hunt: exit %d, want 1 (%s is not registered, so every host is incomplete)\n%s", code, CoverageTable, errs)
	}
	for _, l := range strings.Split(errs, "\n") {
		if (strings.Contains(l, ": incomplete: ") || strings.Contains(l, ": failed: ")) && !strings.Contains(l, "no such table: "+CoverageTable) {
			t.Fatalf("hunt: a reason other than the missing %s: %s\n%s", CoverageTable, l, errs)
		}
	}
	t.Logf("%s is not registered yet: the hunt is incomplete for that reason alone; once it is, this test wants exit 0", CoverageTable)
}
