package rpmhistory

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// FuzzHistoryDB: any bytes as DNF 4's or DNF 5's history database (the
// first byte chooses which), with or without a log, are read without a
// panic or a hang; what is found is a package version with a name.
func FuzzHistoryDB(f *testing.F) {
	real, err := os.ReadFile("testdata/dnf4-history.sqlite")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append([]byte{0}, real...), []byte(nil))
	f.Add(append([]byte{1}, real...), []byte(nil))
	f.Add([]byte{0}, []byte("x"))
	f.Fuzz(func(t *testing.T, data, wal []byte) {
		if len(data) == 0 {
			return
		}
		file := DNF4
		if data[0]%2 == 1 {
			file = DNF5
		}
		root := t.TempDir()
		must(t, os.MkdirAll(filepath.Join(root, filepath.Dir(file)), 0o755))
		must(t, os.WriteFile(filepath.Join(root, file), data[1:], 0o644))
		if len(wal) > 0 {
			must(t, os.WriteFile(filepath.Join(root, file+"-wal"), wal, 0o644))
		}
		probs := &fsroot.Problems{}
		ctx := fsroot.WithProblems(context.Background(), probs)
		fs, err := fsroot.OpenContext(ctx, root)
		must(t, err)
		defer fs.Close()
		h := Load(ctx, fs)
		for n := range h.by {
			if n.Name == "" || n.Version == "" || n.Epoch < 0 {
				t.Fatalf("record for %+v", n)
			}
		}
	})
}

// FuzzParseYumDBName: a name read is one the directory's name is made of.
func FuzzParseYumDBName(f *testing.F) {
	f.Add("k", "abc-kernel-3.10.0-1160.el7-x86_64")
	f.Add("p", "abc-python-libs-2.7.5-90.el7-x86_64")
	f.Add("x", "--x---")
	f.Fuzz(func(t *testing.T, letter, dir string) {
		n, err := ParseYumDBName(letter, dir)
		if err != nil {
			return
		}
		if !strings.HasPrefix(n.Name, letter) || n.Epoch != -1 || n.Version == "" || n.Release == "" || n.Arch == "" ||
			!strings.HasSuffix(dir, "-"+n.Name+"-"+n.Version+"-"+n.Release+"-"+n.Arch) {
			t.Fatalf("%s/%s read as %+v", letter, dir, n)
		}
	})
}
