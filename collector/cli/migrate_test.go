package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/pgtest"
)

// migrateInto hunts into a SQLite store, migrates it to the database to
// and checks that diff answers alike from both; a second migrate into
// the same database is refused with one line.
func migrateInto(t *testing.T, to string) {
	from := filepath.Join(t.TempDir(), "from.db")
	if code, _, errs := runCLI("hunt", "--db", from, "--root", planted, "--format", "json"); code > 1 {
		t.Fatalf("hunt: exit %d %s", code, errs)
	}
	code, out, errs := runCLI("migrate", "--from", from, "--to", to)
	if code != 0 || !strings.Contains(out, "results  ") || !regexp.MustCompile(`rows in \d+ tables, counted in both`).MatchString(out) {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errs)
	}
	for _, args := range [][]string{{"diff", "--format", "json"}, {"diff", "--run", "1", "--detections", "--format", "csv"}} {
		_, want, _ := runCLI(append(args, "--db", from)...)
		code, got, errs := runCLI(append(args, "--db", to)...)
		if code != 0 || got != want || want == "" {
			t.Fatalf("%v of the migrated database: exit %d %s\n got %.300s\nwant %.300s", args, code, errs, got, want)
		}
	}
	code, out, errs = runCLI("migrate", "--from", from, "--to", to)
	if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "already holds data (table hosts has rows): migrate into an empty database") {
		t.Fatalf("migrate into a database with data: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestMigrateToSQLite(t *testing.T) { migrateInto(t, filepath.Join(t.TempDir(), "to.db")) }

func TestMigrateToPostgres(t *testing.T) {
	migrateInto(t, pgtest.Start(t, "fsync=off").NewDatabase(t))
}

func TestMigrateUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "--to", filepath.Join(dir, "to.db")}, "give the SQLite store to copy (--from FILE)"},
		{[]string{"migrate", "--from", "postgres://h/db", "--to", filepath.Join(dir, "to.db")}, "--from takes a SQLite FILE"},
		{[]string{"migrate", "--from", filepath.Join(dir, "none.db"), "--to", filepath.Join(dir, "to.db")}, "no database"},
		{[]string{"migrate", "extra"}, "migrate takes no arguments"},
	} {
		code, out, errs := runCLI(c.args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", c.args, code, out, errs, c.want)
		}
	}
}

// A database that cannot be reached fails with exit 1, and no message
// shows the password of the URL.
func TestMigrateUnreachableKeepsPassword(t *testing.T) {
	from := filepath.Join(t.TempDir(), "from.db")
	if code, _, errs := runCLI("hunt", "--db", from, "--root", planted, "--format", "json"); code > 1 {
		t.Fatalf("hunt: exit %d %s", code, errs)
	}
	code, out, errs := runCLI("migrate", "--from", from, "--to", "postgres://pkgpersist:s3cret@127.0.0.1:1/pkgpersist?connect_timeout=5")
	if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || strings.Contains(errs, "s3cret") {
		t.Fatalf("migrate to nowhere: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
