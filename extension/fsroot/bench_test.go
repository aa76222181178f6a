package fsroot

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// BenchmarkOpenRead opens and reads a small configuration file three
// levels down: through a Root (openat2, and pathrs-lite's walk where the
// kernel lacks openat2), and the way fsroot did before (securejoin, then
// stat and open of the host path it returned), for the ratio.
func BenchmarkOpenRead(b *testing.B) {
	root := b.TempDir()
	const name = "/etc/apt/apt.conf.d/20hook"
	must(b, os.MkdirAll(filepath.Join(root, "etc/apt/apt.conf.d"), 0o755))
	must(b, os.WriteFile(filepath.Join(root, name), []byte("DPkg::Pre-Invoke { \"/usr/bin/true\"; };\n"), 0o644))
	for _, res := range resolvers {
		b.Run(res.name, func(b *testing.B) {
			r := res.new(root)
			defer r.Close()
			buf := make([]byte, 512)
			for b.Loop() {
				// what OpenFile does, less the hashing, which both share
				f, fi, err := r.open(name)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(f, buf[:fi.Size()]); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
	b.Run("securejoin", func(b *testing.B) {
		buf := make([]byte, 512)
		for b.Loop() {
			p, err := securejoin.SecureJoin(root, name)
			if err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
			if err != nil {
				b.Fatal(err)
			}
			if fi2, err := f.Stat(); err != nil || !os.SameFile(fi, fi2) {
				b.Fatal("changed")
			}
			if _, err := io.ReadFull(f, buf[:fi.Size()]); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
}
