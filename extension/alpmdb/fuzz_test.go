package alpmdb

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func FuzzReadMtree(f *testing.F) {
	plain, err := os.ReadFile("testdata/bsdtar.mtree")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(plain)
	f.Add([]byte(gz(string(plain))))
	f.Add([]byte("/set type=file\nusr type=dir\n bin type=dir\n  sh sha256digest=" + strings.Repeat("ab", 32) + "\n ..\n..\nx\\\n type=link\n"))
	f.Add([]byte("./a\\040b\\s\\0\\377 type=file md5=" + strings.Repeat("0", 32) + "\n./a\\040b\\s\\0\\377 md5digest=" + strings.Repeat("1", 32) + "\n/unset all\n./c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := ReadMtree(bytes.NewReader(data))
		for _, e := range entries {
			if !strings.HasPrefix(e.Path, "/") || e.Type == "" {
				t.Fatalf("bad entry %+v", e)
			}
			if (e.SHA256 != "" && len(e.SHA256) != 64) || (e.MD5 != "" && len(e.MD5) != 32) {
				t.Fatalf("bad digest %+v", e)
			}
		}
	})
}
