package pgtest

import (
	"strings"
	"testing"
)

// The server starts, a database is created on it, and psql reaches it.
func TestStart(t *testing.T) {
	s := Start(t, "fsync=off")
	dsn := s.NewDatabase(t)
	out, err := s.run("psql", "-X", "-A", "-t", "-c", "SELECT current_user || ' ' || current_database()", dsn)
	if err != nil {
		t.Fatalf("psql: %v: %s", err, out)
	}
	if !strings.HasPrefix(strings.TrimSpace(string(out)), "pkgpersist t") {
		t.Fatalf("psql said %q", out)
	}
}
