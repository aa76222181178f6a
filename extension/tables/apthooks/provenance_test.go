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

	"github.com/pkgpersist/pkgpersist/extension/table"
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

// TestProvenanceOnlyWhenRead: a statement that reads no provenance column
// gets rows without them (the package databases are not read), one that
// reads some gets those, and every other value is the same as in the rows
// with all columns.
func TestProvenanceOnlyWhenRead(t *testing.T) {
	root := filepath.Join(rootsDir, "debian-real")
	all, err := Rows(context.Background(), root, "")
	if err != nil {
		t.Fatal(err)
	}
	provenance := map[string]bool{"sha256": true, "mtime": true, "uid": true, "mode": true, "package": true, "package_modified": true}
	for _, used := range []map[string]bool{
		{"hook": true, "command": true, "path": true, "active": true},
		{"path": true, "package": true},
		{"sha256": true, "package_modified": true},
	} {
		q := table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: root}}}, Used: used}
		got, err := Table().Run(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(all) || len(all) == 0 {
			t.Fatalf("used %v: %d rows, with all columns %d", used, len(got), len(all))
		}
		for i, r := range got {
			for _, c := range Table().Columns {
				v, ok := r[c.Name]
				switch {
				case provenance[c.Name] && !used[c.Name]:
					if ok {
						t.Errorf("used %v: row %d has %s", used, i, c.Name)
					}
				case v != all[i][c.Name] || !ok:
					t.Errorf("used %v: row %d: %s = %q, with all columns %q", used, i, c.Name, v, all[i][c.Name])
				}
			}
		}
	}
}
