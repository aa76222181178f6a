// Package storetest opens stores for the tests of the packages that use
// one, on the engine PKGPERSIST_TEST_STORE names: "sqlite" (the default,
// a file in the test's temporary directory) or "postgres" (a new database
// on one PostgreSQL server per test binary, from test/pgtest). make test
// runs the packages that serve and read stores once on each engine.
package storetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/test/pgtest"
)

// Engine is the engine the tests run on.
func Engine() string {
	if e := os.Getenv("PKGPERSIST_TEST_STORE"); e != "" {
		return e
	}
	return "sqlite"
}

// server is the test binary's PostgreSQL server, stopped by Main.
var server pgtest.Shared

// DSN is where a new empty store for t is: a file name or a PostgreSQL
// URL (what --db takes).
func DSN(t testing.TB) string {
	t.Helper()
	if Engine() != "postgres" {
		return filepath.Join(t.TempDir(), "p.db")
	}
	return Postgres(t)
}

// Postgres is a new empty database for t on the test binary's PostgreSQL
// server, whatever the engine under test: for tests that run on both.
func Postgres(t testing.TB) string {
	t.Helper()
	return server.Server(t).NewDatabase(t)
}

// Open opens a new empty store for t, closed when t ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	st, err := store.Open(DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Main runs the tests and stops the PostgreSQL server if one started:
// call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	server.Stop()
	return code
}
