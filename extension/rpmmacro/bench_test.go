package rpmmacro

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// BenchmarkRead: the reader on Debian's /usr/lib/rpm/macros repeated to
// 8 MiB, and as the baseline the same bytes copied to nowhere.
func BenchmarkRead(b *testing.B) {
	one, err := os.ReadFile("/usr/lib/rpm/macros")
	if err != nil {
		b.Skip("no rpm macro file here")
	}
	data := bytes.Repeat(one, 8<<20/len(one))
	for name, read := range map[string]func() error{
		"parse": func() error { _, err := All(bytes.NewReader(data)); return err },
		"once":  func() error { _, err := io.Copy(io.Discard, bytes.NewReader(data)); return err },
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				if err := read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
