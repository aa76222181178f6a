package apthooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestProvenance: rows carry the file's hash, owner, mode and time, the
// Debian package that owns the file, and whether dpkg's checksum still
// matches, on the root gathered from real Debian packages.
func TestProvenance(t *testing.T) {
	root := filepath.Join(rootsDir, "debian-real")
	rows, err := Rows(context.Background(), root, "")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		pkg      string
		modified string
	}{
		"99needrestart":       {"needrestart", "1"}, // changed after install
		"05etckeeper":         {"etckeeper", "0"},
		"70debconf":           {"debconf", "0"},
		"99zz-unowned.conf":   {"", "0"}, // no package: the strongest signal
		"auto-apt-proxy.conf": {"auto-apt-proxy", "0"},
	}
	for name, want := range cases {
		p := "/etc/apt/apt.conf.d/" + name
		rs := rowsFor(rows, p)
		if len(rs) == 0 {
			t.Errorf("%s: no rows", name)
			continue
		}
		host := filepath.Join(root, p)
		data, err := os.ReadFile(host)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fi, _ := os.Stat(host)
		st := fi.Sys().(*syscall.Stat_t)
		for _, r := range rs {
			if r["package"] != want.pkg || r["package_modified"] != want.modified {
				t.Errorf("%s: package %q modified %s, want %q %s", name, r["package"], r["package_modified"], want.pkg, want.modified)
			}
			if r["sha256"] != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: sha256 %s", name, r["sha256"])
			}
			if r["mode"] != "0644" || r["uid"] != strconv.Itoa(int(st.Uid)) || r["mtime"] != strconv.FormatInt(fi.ModTime().Unix(), 10) {
				t.Errorf("%s: mode %s uid %s mtime %s", name, r["mode"], r["uid"], r["mtime"])
			}
			if r["line"] == "0" || r["line"] == "" {
				t.Errorf("%s: no line", name)
			}
		}
	}
}
