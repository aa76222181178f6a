package distbin

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDigestsRehashChanged: a file hashed once is not read again while it
// is unchanged (its content is swapped behind the same identity: the old
// sum stays), and is hashed again once its identity changes.
func TestDigestsRehashChanged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pkgpersist")
	want := func(data string) string {
		s := sha256.Sum256([]byte(data))
		return hex.EncodeToString(s[:])
	}
	if err := os.WriteFile(p, []byte("first"), 0o755); err != nil {
		t.Fatal(err)
	}
	var d Digests
	sum, n, err := d.SHA256(p)
	if err != nil || sum != want("first") || n != 5 {
		t.Fatalf("first: %s %d %v", sum, n, err)
	}
	fi, _ := os.Stat(p)
	// same size and modification time: the memo answers, unread
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("FIRST"), 0)
	f.Close()
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	if sum, _, _ := d.SHA256(p); sum != want("first") {
		t.Fatalf("unchanged identity was hashed again: %s", sum)
	}
	// a new modification time: hashed again
	os.Chtimes(p, fi.ModTime().Add(time.Second), fi.ModTime().Add(time.Second))
	if sum, _, _ := d.SHA256(p); sum != want("FIRST") {
		t.Fatalf("changed file kept its old sum: %s", sum)
	}
	// nil hashes every time
	var none *Digests
	if sum, _, err := none.SHA256(p); err != nil || sum != want("FIRST") {
		t.Fatalf("nil: %s %v", sum, err)
	}
}
