package rpmplugins

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixture: each row of test/roots/rpm-plugins, as
// test/roots/rpm-plugins.expected.md explains it.
func TestFixture(t *testing.T) {
	rows, err := Rows(context.Background(), "../../../test/roots/rpm-plugins")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, r := range rows {
		got[r["name"]+" "+r["path"]] = r
	}
	for key, want := range map[string]map[string]string{
		"systemd_inhibit /usr/lib64/rpm-plugins/systemd_inhibit.so": {"loaded": "1", "macro_file": "/usr/lib/rpm/macros:8", "package": ""},
		"syslog /opt/.x/libsys.so":                                  {"loaded": "1", "options": "-q  --quiet", "macro_file": "/etc/rpm/macros.plugins:4"},
		"selinux ":                                                  {"loaded": "0", "reason": "disabled: %__transaction_selinux expands to nothing"},
		"orphan ":                                                   {"loaded": "0", "reason": "not configured: %__transaction_orphan is not defined"},
		"prioreset /usr/lib64/rpm-plugins/prioreset-gone.so": {"loaded": "0", "sha256": ""},
		"ima ":                   {"loaded": "0", "macro": "%(echo /opt/.x/ima.so)"},
		"ghost /opt/.x/ghost.so": {"loaded": "0", "reason": "not set up: rpm sets up only the plugins with a ghost.so in %{__plugindir} (/usr/lib64/rpm-plugins)"},
		"audit /usr/lib/x86_64-linux-gnu/rpm-plugins/audit.so": {"loaded": "0", "reason": "not loaded: not in %{__plugindir} (/usr/lib64/rpm-plugins); rpm does not look in /usr/lib/x86_64-linux-gnu/rpm-plugins"},
	} {
		r, ok := got[key]
		if !ok {
			t.Errorf("no row %q", key)
			continue
		}
		for col, v := range want {
			if r[col] != v {
				t.Errorf("%s: %s = %q, want %q", key, col, r[col], v)
			}
		}
	}
	if len(rows) != 8 {
		t.Errorf("%d rows, want 8", len(rows))
	}
}

// TestNoRPM: a root without rpm (no rpm program, no macro file) has no
// plugins to report, not a row saying %__plugindir is undefined; with the
// rpm program and no macro defining it, that row says why none loads.
func TestNoRPM(t *testing.T) {
	root := t.TempDir()
	rows, err := Rows(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("rows without rpm: %v", rows)
	}
	if err := os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/bin/rpm"), []byte("rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	rows, err = Rows(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !strings.Contains(rows[0]["reason"], "%__plugindir is not defined") {
		t.Errorf("rows with rpm and no macros: %v", rows)
	}
}
