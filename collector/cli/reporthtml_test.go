package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/hunt/hunttest"
)

// TestReportHTML: report html writes the page to --out (by default
// pkgpersist-report.html here) and prints its path, or to standard
// output with --out -, leaves no temporary file, and exits 2 without a
// store, 1 when the file cannot be written.
func TestReportHTML(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	code, _, errs := runCLI("hunt", "--db", db, "--root", planted, "--format", "csv")
	hunttest.WantClean(t, code, errs)
	isPage := func(what, s string) {
		t.Helper()
		if !strings.HasPrefix(s, "<!DOCTYPE html>") || !strings.Contains(s, `data-detection="unowned-hooks"`) || !strings.HasSuffix(s, "</html>\n") {
			t.Errorf("%s is not the whole page: %.200s", what, s)
		}
	}
	out := filepath.Join(dir, "r.html")
	code, stdout, errs := runCLI("report", "html", "--db", db, "--out", out)
	if code != 0 || stdout != out+"\n" {
		t.Fatalf("report html: exit %d, printed %q (%s)", code, stdout, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	isPage(out, string(b))
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600 (it holds what the store holds)", out, fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".r.html.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	code, stdout, errs = runCLI("report", "html", "--db", db, "--out", "-")
	if code != 0 {
		t.Fatalf("--out -: exit %d (%s)", code, errs)
	}
	isPage("standard output", stdout)

	t.Chdir(dir)
	if code, stdout, errs := runCLI("report", "html", "--db", db); code != 0 || stdout != "pkgpersist-report.html\n" {
		t.Fatalf("default --out: exit %d, printed %q (%s)", code, stdout, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "pkgpersist-report.html")); err != nil {
		t.Fatal(err)
	}

	for args, want := range map[*[]string]int{
		{"report", "html", "--db", filepath.Join(dir, "none.db")}:                      2,
		{"report", "html", "--db", db, "extra"}:                                        2,
		{"report", "html", "--db", db, "--max-findings", "0"}:                          2,
		{"report", "html", "--db", db, "--out", filepath.Join(dir, "no", "such", "r")}: 1,
	} {
		if code, _, errs := runCLI(*args...); code != want {
			t.Errorf("%q: exit %d, want %d (%s)", *args, code, want, errs)
		}
	}
}

// TestServeRefusesUIPassword: serve will not start with a web report
// password that is the enroll secret or the metrics token, or empty.
func TestServeRefusesUIPassword(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret, token := file("secret", "s3cret\n"), file("token", "t0ken\n")
	base := []string{"serve", "--db", filepath.Join(dir, "p.db"), "--insecure-http", "--listen", "127.0.0.1:0", "--enroll-secret-file", secret, "--metrics-token-file", token}
	for name, pw := range map[string]string{"the enroll secret": "s3cret", "the metrics token": " t0ken ", "empty": "\n"} {
		code, _, errs := runCLI(append(base, "--ui-password-file", file("ui", pw))...)
		if code != 2 || !strings.Contains(errs, "ui password") {
			t.Errorf("%s as the UI password: exit %d (%s)", name, code, errs)
		}
	}
}
