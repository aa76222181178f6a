package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// createPrivate creates the database file 0600 when it does not exist
// yet. SQLite would create it 0644 (less the umask), and gives its -wal
// and -shm files the database file's mode: they hold every stored row
// too, and node key hashes. A database that exists keeps its mode (an
// operator may have opened it to a group on purpose); looser reports
// each of the three files that others can read, for the caller to warn
// about.
func createPrivate(path string) (looser []string, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return nil, f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		looser = append(looser, fmt.Sprintf("%s is mode %04o: other users can read the stored results (chmod 600 %s; pkgpersist creates new databases 0600)",
			p, fi.Mode().Perm(), p))
	}
	return looser, nil
}
