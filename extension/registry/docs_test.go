package registry

import (
	"os"
	"strings"
	"testing"
)

const (
	readme     = "../../README.md"
	beginMark  = "<!-- BEGIN TABLES: generated from the code by `make docs` -->\n"
	endMark    = "<!-- END TABLES -->"
	updateDocs = "PKGPERSIST_UPDATE_DOCS"
)

// TestREADMETableReference fails when README's table reference and the
// table definitions disagree; `make docs` rewrites it.
func TestREADMETableReference(t *testing.T) {
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, beginMark)
	j := strings.Index(text, endMark)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q ... %q", beginMark, endMark)
	}
	got := text[i+len(beginMark) : j]
	want := Markdown()
	if got == want {
		return
	}
	if os.Getenv(updateDocs) != "" {
		if err := os.WriteFile(readme, []byte(text[:i+len(beginMark)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README.md's table reference is stale: run `make docs`")
}

// TestTablesWellFormed: names unique, every column typed and described,
// every table with the hidden root column.
func TestTablesWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, tb := range Tables() {
		if seen[tb.Name] || tb.Name == "" || tb.Generate == nil || tb.Description == "" {
			t.Errorf("table %q: duplicate, unnamed, without generate or description", tb.Name)
		}
		seen[tb.Name] = true
		cols := map[string]bool{}
		hasRoot := false
		for _, c := range tb.Columns {
			if cols[c.Name] || c.Type == "" || c.Description == "" {
				t.Errorf("%s.%s: duplicate, untyped or undescribed", tb.Name, c.Name)
			}
			cols[c.Name] = true
			hasRoot = hasRoot || (c.Name == "root" && c.Hidden)
		}
		if !hasRoot && !tb.Evented {
			t.Errorf("%s has no hidden root column", tb.Name)
		}
	}
}
