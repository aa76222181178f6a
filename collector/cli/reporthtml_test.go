package cli

import (
	"context"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt/hunttest"
	"github.com/pkgpersist/pkgpersist/collector/store"
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

// fileIn returns a function that writes a file of dir, 0600, and
// returns its path.
func fileIn(t *testing.T, dir string) func(name, content string) string {
	return func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// TestServeRefusesUIPassword: serve will not start with a web report
// password that is the enroll secret or the metrics token, or empty.
func TestServeRefusesUIPassword(t *testing.T) {
	dir := t.TempDir()
	file := fileIn(t, dir)
	secret, token := file("secret", "s3cret\n"), file("token", "t0ken\n")
	base := []string{"serve", "--db", filepath.Join(dir, "p.db"), "--insecure-http", "--listen", "127.0.0.1:0", "--enroll-secret-file", secret, "--metrics-token-file", token}
	for name, pw := range map[string]string{"the enroll secret": "s3cret", "the metrics token": " t0ken ", "empty": "\n"} {
		code, _, errs := runCLI(append(base, "--ui-password-file", file("ui", pw))...)
		if code != 2 || !strings.Contains(errs, "ui password") {
			t.Errorf("%s as the UI password: exit %d (%s)", name, code, errs)
		}
	}
}

// TestReportHTMLMoreNotes: the page's "more not shown" notes each name a
// command that lists what they leave out: run as they are, they exit 0
// and write a page with every hidden host and finding.
func TestReportHTMLMoreNotes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	code, _, errs := runCLI("hunt", "--db", db, "--root", planted, "--format", "csv")
	hunttest.WantClean(t, code, errs)
	t.Chdir(dir)
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	row := store.Row{"manager": "apt", "hook": "DPkg::Post-Invoke", "command": "/tmp/.x", "path": "/etc/apt/apt.conf.d/77logged", "line": "1"}
	logs := []store.Logged{{Name: "pack_pkgpersist_unowned-hooks", Action: "added", UnixTime: time.Now().Unix(), Row: row}}
	if _, err := st.SaveLogsByHost(context.Background(), map[string][]store.Logged{"zz-logger1": logs, "zz-logger2": logs}, map[string]int64{}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, page, errs := runCLI("report", "html", "--db", db, "--out", "-", "--max-hosts", "1", "--max-findings", "1")
	if code != 0 {
		t.Fatalf("exit %d (%s)", code, errs)
	}
	rows := func(page, class string) int { return strings.Count(page, `<tr class="`+class) }
	for id, class := range map[string]string{"hosts-hidden": "host", "findings-hidden": "finding"} {
		m := regexp.MustCompile(`id="` + id + `">[^<]*<code>([^<]*)</code>`).FindStringSubmatch(page)
		if m == nil {
			t.Errorf("no command in the note %s", id)
			continue
		}
		args := strings.Fields(html.UnescapeString(m[1]))
		if len(args) < 3 || args[0] != "pkgpersist" {
			t.Errorf("note %s: %q", id, m[1])
			continue
		}
		if code, _, errs := runCLI(args[1:]...); code != 0 {
			t.Errorf("%s: exit %d (%s)", m[1], code, errs)
			continue
		}
		all, err := os.ReadFile(filepath.Join(dir, "pkgpersist-report.html"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(all), `id="`+id+`"`) || rows(string(all), class) <= rows(page, class) {
			t.Errorf("%s: %d %s rows, the capped page %d", m[1], rows(string(all), class), class, rows(page, class))
		}
	}
}

// TestServeSecretFiles: an empty or unreadable secret file (enroll
// secret, metrics token, UI password) is one clear line each: which
// file, and empty, or the error reading it.
func TestServeSecretFiles(t *testing.T) {
	dir := t.TempDir()
	file := fileIn(t, dir)
	secret, token, ui, empty := file("secret", "s3cret\n"), file("token", "t0ken\n"), file("ui", "pw\n"), file("empty", " \n")
	missing := filepath.Join(dir, "missing")
	run := func(secretFile, tokenFile, uiFile string) (int, string) {
		code, _, errs := runCLI("serve", "--db", filepath.Join(dir, "p.db"), "--insecure-http", "--listen", "127.0.0.1:0",
			"--enroll-secret-file", secretFile, "--metrics-token-file", tokenFile, "--ui-password-file", uiFile)
		return code, errs
	}
	for _, c := range []struct {
		name              string
		secret, token, ui string
		want              string
	}{
		{"empty enroll secret", empty, token, ui, "enroll secret file " + empty + " is empty"},
		{"empty metrics token", secret, empty, ui, "metrics token file " + empty + " is empty"},
		{"empty UI password", secret, token, empty, "ui password file " + empty + " is empty"},
		{"missing enroll secret", missing, token, ui, "enroll secret file " + missing + " cannot be read: no such file or directory"},
		{"missing metrics token", secret, missing, ui, "metrics token file " + missing + " cannot be read: no such file or directory"},
		{"missing UI password", secret, token, missing, "ui password file " + missing + " cannot be read: no such file or directory"},
	} {
		code, errs := run(c.secret, c.token, c.ui)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Contains(errs, "<nil>") || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%s: exit %d, %q; want %q", c.name, code, errs, c.want)
		}
	}
}
