package pyscan

import (
	"bytes"
	"strings"
	"testing"
)

// benchPlugin is a plugin module of the usual size and shape.
var benchPlugin = func() []byte {
	var b bytes.Buffer
	b.WriteString("# -*- coding: utf-8 -*-\n\"\"\"A DNF plugin.\"\"\"\nfrom __future__ import absolute_import\nimport dnf, os, subprocess\nimport dnf.cli\n")
	for i := 0; i < 40; i++ {
		b.WriteString(strings.ReplaceAll(`
class Plugin_N(dnf.Plugin):
    """Plugin N does things."""
    name = 'plugin_N'
    config_name = 'plugin-N'

    def __init__(self, base, cli):
        super(Plugin_N, self).__init__(base, cli)
        self.items = [x for x in range(10) if x % 2]
        self.conf = {'a': 1, 'b': [1, 2, 3], 'c': "text %s" % 'N'}

    def transaction(self):
        for pkg in self.base.transaction:
            if pkg.name.startswith('kernel') and not self.conf.get('skip'):
                subprocess.call(['/usr/bin/logger', '-t', 'plugin', pkg.name])
        return True
`, "N", string(rune('a'+i%26))))
	}
	return b.Bytes()
}()

func benchScan(b *testing.B, src []byte) {
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ScanBytes(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanPlugin: a 27 KiB plugin of ordinary code.
func BenchmarkScanPlugin(b *testing.B) { benchScan(b, benchPlugin) }

// BenchmarkScanPadded: the plugin followed by 16 MiB of comment, as an
// attacker pads a module.
func BenchmarkScanPadded(b *testing.B) {
	src := append(append([]byte{}, benchPlugin...), '#')
	src = append(src, bytes.Repeat([]byte("padding "), 2<<20)...)
	benchScan(b, append(src, '\n'))
}

// BenchmarkScanPaddedString: the plugin followed by a 16 MiB string literal.
func BenchmarkScanPaddedString(b *testing.B) {
	src := append(append([]byte{}, benchPlugin...), "x = '"...)
	src = append(src, bytes.Repeat([]byte("AAAAAAAA"), 2<<20)...)
	benchScan(b, append(src, "'\n"...))
}

// BenchmarkScanLongList: one 16 MiB list display, past the node budget.
func BenchmarkScanLongList(b *testing.B) {
	src := append([]byte("x = ["), bytes.Repeat([]byte("1, "), 16<<20/3)...)
	benchScan(b, append(src, "]\n"...))
}
