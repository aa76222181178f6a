package alpmdb

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/treefiles"
)

// BenchmarkLookup: a database the size of a desktop Arch install (1,500
// packages of 100 files), asked about 1,000 files of 1,000 packages with
// their checksums: every file list is read once, each asked package's
// mtree once.
func BenchmarkLookup(b *testing.B) {
	const pkgs, files = 1500, 100
	sum := strings.Repeat("ab", 32)
	tree := map[string]string{}
	var asked []string
	for i := 0; i < pkgs; i++ {
		dir := fmt.Sprintf("var/lib/pacman/local/p%d-1.0-1/", i)
		var list, mtree strings.Builder
		list.WriteString("%FILES%\n")
		mtree.WriteString("#mtree\n/set type=file uid=0 gid=0 mode=644\n")
		for j := 0; j < files; j++ {
			f := fmt.Sprintf("usr/share/p%d/f%d", i, j)
			list.WriteString(f + "\n")
			mtree.WriteString("./" + f + " time=1700000000.0 size=3 sha256digest=" + sum + "\n")
		}
		tree[dir+"desc"] = fmt.Sprintf("%%NAME%%\np%d\n", i)
		tree[dir+"files"] = list.String()
		tree[dir+"mtree"] = gz(mtree.String())
		if i < 1000 {
			asked = append(asked, fmt.Sprintf("/usr/share/p%d/f7", i))
		}
	}
	root := b.TempDir()
	treefiles.Write(b, root, tree)
	fs, err := fsroot.Open(root)
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		db := New(fs, "")
		for _, p := range asked {
			if o := db.Lookup(p, func(string) string { return sum }); o.Package == "" || o.Modified {
				b.Fatalf("%s: %+v", p, o)
			}
		}
	}
}
