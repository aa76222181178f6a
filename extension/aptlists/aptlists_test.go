package aptlists

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/test/need"
)

func FuzzParse(f *testing.F) {
	f.Add("Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nFilename: pool/h/hello.deb\n\nPackage: x\nArchitecture: all\n")
	f.Add("Package: \n Version: 1\n\n\r\nPackage:a:b\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = Parse(strings.NewReader(in), nil, func(e Entry) {
			if e.Package == "" {
				t.Fatalf("entry without a package: %+v", e)
			}
		})
	})
}

func TestIsPackages(t *testing.T) {
	for name, want := range map[string]string{
		"deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages":      "",
		"deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4":  ".lz4",
		"archive.ubuntu.com_ubuntu_dists_noble_main_binary-amd64_Packages.zst": ".zst",
		"_repo_._Packages.xz": ".xz",
	} {
		if ext, ok := IsPackages(name); !ok || ext != want {
			t.Errorf("%s: %q %v", name, ext, ok)
		}
	}
	for _, name := range []string{"x_Release", "x_Packages.diff_Index", "lock", "x_Sources.gz", "x_Packages.gz.1"} {
		if _, ok := IsPackages(name); ok {
			t.Errorf("%s taken as a Packages index", name)
		}
	}
}

// TestCompressedLists: the same index stored plain and through each
// compressor apt may use (the real programs compress) offers the same.
func TestCompressedLists(t *testing.T) {
	dir := t.TempDir()
	lists := filepath.Join(dir, "var/lib/apt/lists")
	if err := os.MkdirAll(lists, 0o755); err != nil {
		t.Fatal(err)
	}
	idx := "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nDescription: x\n long\n\n"
	tools := map[string][]string{"": nil, ".gz": {"gzip", "-c"}, ".xz": {"xz", "-c"}, ".lz4": {"lz4", "-c"}, ".zst": {"zstd", "-c"}, ".bz2": {"bzip2", "-c"}, ".lzma": {"xz", "--format=lzma", "-c"}}
	for ext, tool := range tools {
		data := []byte(idx)
		if tool != nil {
			need.Program(t, tool[0])
			cmd := exec.Command(tool[0], tool[1:]...)
			cmd.Stdin = strings.NewReader(idx)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			data = out
		}
		if err := os.WriteFile(filepath.Join(lists, "r"+strings.TrimPrefix(ext, ".")+"_Packages"+ext), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := fsroot.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	ix, probs := Load(fs, Dir, nil)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	if got := ix.Offers(Entry{"hello", "2.10-3", "amd64"}); len(got) != len(tools) {
		t.Errorf("offered by %v", got)
	}
}
