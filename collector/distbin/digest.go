package distbin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// Digests hashes the programs copied to hosts once for a whole hunt: every
// target copying a build shares its SHA-256 instead of reading the file
// again (and, before, holding it in memory) for each host. A file whose
// identity (device, inode, size, modification time) changed since it was
// hashed is hashed again. The zero value is ready; a nil *Digests hashes
// on every call.
type Digests struct {
	mu   sync.Mutex
	sums map[string]digest
}

type digest struct {
	id  fileID
	sum string
}

// fileID is what says a file is still the one hashed.
type fileID struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

func identify(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), st.Ino
	}
	return id
}

// SHA256 returns the hex SHA-256 of the file at path, and its size.
func (d *Digests) SHA256(path string) (sum string, size int64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", 0, err
	}
	id := identify(fi)
	if d != nil {
		d.mu.Lock()
		got, ok := d.sums[path]
		d.mu.Unlock()
		if ok && got.id == id {
			return got.sum, id.size, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	fi, err = f.Stat()
	if err != nil {
		return "", 0, err
	}
	if after := identify(fi); after != id || n != id.size {
		return "", 0, fmt.Errorf("%s changed while it was hashed", path)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if d != nil {
		d.mu.Lock()
		if d.sums == nil {
			d.sums = map[string]digest{}
		}
		d.sums[path] = digest{id: id, sum: sum}
		d.mu.Unlock()
	}
	return sum, id.size, nil
}
