package store

import (
	"path/filepath"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/pgtest"
)

// opener opens an empty store on the engine under test.
type opener func(t *testing.T) *DB

// each runs a contract test on every engine: a SQLite file and a
// database on a real PostgreSQL server.
func each(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) { test(t, openSQLite) })
	t.Run("postgres", func(t *testing.T) { test(t, openPostgresTest) })
}

// eachDSN runs a contract test that opens stores itself on every engine:
// newDSN names a new empty one.
func eachDSN(t *testing.T, test func(t *testing.T, newDSN func(t *testing.T) string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqliteDSN) })
	t.Run("postgres", func(t *testing.T) { test(t, func(t *testing.T) string { return postgresServer(t).NewDatabase(t) }) })
}

func sqliteDSN(t *testing.T) string { return filepath.Join(t.TempDir(), "p.db") }

func openSQLite(t *testing.T) *DB {
	t.Helper()
	return mustOpen(t, sqliteDSN(t))
}

func openPostgresTest(t *testing.T) *DB {
	t.Helper()
	return mustOpen(t, postgresServer(t).NewDatabase(t))
}

func mustOpen(t *testing.T, dsn string) *DB {
	t.Helper()
	s, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testPG is the package's one PostgreSQL server, stopped by TestMain.
var testPG pgtest.Shared

func postgresServer(t *testing.T) *pgtest.Server { return testPG.Server(t) }
