package store

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// storeBefore makes a database at the schema just before the migration
// m (every earlier migration applied, as an older pkgpersist left it)
// and returns its path and a store on it that does not migrate; the
// caller fills it, closes it, and opens the path to migrate it.
func storeBefore(t *testing.T, m string) (string, *DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE schema_version (version INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, mig := range migrations {
		if mig == m {
			return path, &DB{db: db, opt: DefaultOptions}
		}
		if _, err := db.Exec(mig); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO schema_version (version) VALUES (?)`, i+1); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("no such migration")
	return "", nil
}
