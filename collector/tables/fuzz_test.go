package tables

import (
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/colonfile"
	"github.com/pkgpersist/pkgpersist/collector/tables/aptsources"
	"github.com/pkgpersist/pkgpersist/collector/tables/yumsources"
)

// FuzzSourceParsers feeds the same bytes to every parser of the osquery
// tables: sources.list lines, deb822 stanzas, .repo INI and passwd.
func FuzzSourceParsers(f *testing.F) {
	f.Add([]byte("deb [arch=amd64] http://deb.debian.org/debian bookworm main\n"))
	f.Add([]byte("Types: deb\nURIs: http://a/\nSuites: s\n"))
	f.Add([]byte("[base]\nname=x\nbaseurl=http://y\n"))
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, line := range []string{string(data)} {
			if s, ok := aptsources.ParseLine(line); ok && s.BaseURI == "" {
				t.Fatal("source without URI")
			}
		}
		for _, s := range aptsources.ParseDeb822(string(data)) {
			if s.Name == "" {
				t.Fatal("source without name")
			}
		}
		_, _ = yumsources.ParseINI(data)
		for _, r := range colonfile.Records(data, 7) {
			if len(r) != 7 {
				t.Fatal("record with the wrong field count")
			}
		}
	})
}
