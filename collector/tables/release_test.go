package tables

import (
	"context"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/engine"
)

// TestGenerationsReleaseTheRoot: every table closes the root it opens
// when its generation ends. The garbage collector, which would close a
// forgotten descriptor some time later, is off while the test counts.
func TestGenerationsReleaseTheRoot(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	root := t.TempDir()
	write(t, root, "etc/passwd", []byte("root:x:0:0:root:/root:/bin/bash\n"))
	write(t, root, "etc/apt/apt.conf.d/10x", []byte("DPkg::Pre-Invoke { \"true\"; };\n"))
	write(t, root, "etc/dnf/dnf.conf", []byte("[main]\n"))
	e, err := engine.New(Engine(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	query := func(table string) {
		sql := "SELECT * FROM " + table
		if table == "file" {
			sql += " WHERE path LIKE '/etc/%%'"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := e.Query(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for _, tb := range Engine() {
		if tb.Evented {
			continue // they open no root
		}
		query(tb.Name) // the first use may open what lives as long as the process
		before := fds(t)
		for i := 0; i < 20; i++ {
			query(tb.Name)
		}
		if after := fds(t); after > before {
			t.Errorf("%s: %d descriptors open after 20 generations, %d before", tb.Name, after, before)
		}
	}
}

func fds(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
