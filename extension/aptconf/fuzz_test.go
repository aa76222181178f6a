package aptconf

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// memFS is one parts file in memory.
type memFS map[string][]byte

func (m memFS) Open(name string) (io.ReadCloser, error) {
	if d, ok := m[name]; ok {
		return io.NopCloser(bytes.NewReader(d)), nil
	}
	return nil, os.ErrNotExist
}

func (m memFS) ReadDir(name string) ([]string, error) {
	var out []string
	for p := range m {
		if filepath.Dir(p) == strings.TrimSuffix(name, "/") {
			out = append(out, filepath.Base(p))
		}
	}
	return out, nil
}

func (m memFS) Kind(name string) string {
	if _, ok := m[name]; ok {
		return "file"
	}
	for p := range m {
		if strings.HasPrefix(p, strings.TrimSuffix(name, "/")+"/") {
			return "dir"
		}
	}
	return ""
}

func seedCorpus(f *testing.F) {
	for _, files := range grammarCases {
		for _, body := range files {
			f.Add([]byte(body))
		}
	}
}

// FuzzRead feeds arbitrary bytes to the reader as a parts file: it must
// not panic or run long, and what it builds must be a consistent tree.
func FuzzRead(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := memFS{"/etc/apt/apt.conf.d/50fuzz.conf": data}
		start := time.Now()
		res := Load(fs, "", nil)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v for %d bytes", d, len(data))
		}
		if len(res.Files) == 0 {
			t.Fatal("the file was not recorded")
		}
		for _, a := range res.Conf.Assignments {
			if a.Item == nil {
				t.Fatal("assignment without item")
			}
			if a.Live() && a.Item.Value != a.Value {
				t.Fatalf("live assignment %q has value %q, item %q", a.Item.FullTag(), a.Value, a.Item.Value)
			}
			if a.Live() && a.Item.Index() < 0 {
				t.Fatalf("live assignment %q is not in the tree", a.Item.FullTag())
			}
		}
		if res.Failed == nil && bytes.Contains(data, []byte{'{'}) && len(res.Conf.Dump()) == 0 {
			t.Fatal("empty dump")
		}
	})
}

// FuzzAgainstApt is the differential campaign: every input is read by
// this package and by apt-config, and the trees must agree. It needs apt;
// inputs that would make apt read outside the root (#include, RootDir) or
// that change what apt computes after reading are passed over.
func FuzzAgainstApt(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		low := strings.ToLower(string(data))
		for _, s := range []string{"include", "rootdir", "x-apt-configure-index", "architecture", "compressor", "binary", "commandline", "apt::config", "dir", "debug", "quiet"} {
			if strings.Contains(low, s) {
				t.Skip()
			}
		}
		compareWithApt(t, writeRoot(t, map[string]string{"50fuzz.conf": string(data)}))
	})
}
