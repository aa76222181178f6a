package registry

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/table"
)

// TestBadInputEveryTable: FIFOs, symlink loops, devices, oversized and
// binary files in every directory a table reads are reported, and every
// table answers within 5 seconds.
func TestBadInputEveryTable(t *testing.T) {
	root := t.TempDir()
	dirs := map[string]string{
		"etc/apt/apt.conf.d":                         ".conf",
		"etc/dpkg/dpkg.cfg.d":                        "",
		"usr/lib/python3/dist-packages/dnf-plugins":  ".py",
		"etc/dnf/plugins":                            ".conf",
		"etc/dnf/plugins/post-transaction-actions.d": ".action",
		"etc/dnf/libdnf5-plugins":                    ".conf",
		"etc/dnf/libdnf5-plugins/actions.d":          ".actions",
		"usr/lib/yum-plugins":                        ".py",
		"etc/yum/pluginconf.d":                       ".conf",
		"etc/yum/post-actions":                       ".action",
		"var/lib/dpkg/info":                          ".postinst",
		"var/lib/apt/lists":                          "_Packages.lz4",
		"usr/share/libalpm/hooks":                    ".hook",
		"usr/lib/rpm/macros.d":                       "",
		"etc/rpm":                                    "",
		"usr/lib64/rpm-plugins":                      ".so",
		"etc/apk/commit_hooks.d":                     "",
		"usr/lib/zypp/plugins/commit":                "",
		"usr/lib/zypper/commands":                    "",
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "usr/lib/python3/dist-packages/dnf"), 0o755))
	must(os.WriteFile(filepath.Join(root, "usr/lib/python3/dist-packages/dnf/const.py"), []byte("PLUGINPATH = '/usr/lib/python3/dist-packages/dnf-plugins'\n"), 0o644))
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "etc/yum.conf"), []byte("[main]\nplugins=1\n"), 0o644))
	must(os.MkdirAll(filepath.Join(root, "dev"), 0o755))
	_ = syscall.Mknod(filepath.Join(root, "dev/zero"), syscall.S_IFCHR|0o666, 1<<8|5)
	binary := make([]byte, 1<<16)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	for dir, ext := range dirs {
		d := filepath.Join(root, dir)
		must(os.MkdirAll(d, 0o755))
		must(syscall.Mkfifo(filepath.Join(d, "fifo"+ext), 0o644))
		must(os.Symlink("loop"+ext, filepath.Join(d, "loop"+ext)))
		must(os.Symlink("/dev/zero", filepath.Join(d, "zero"+ext)))
		must(os.WriteFile(filepath.Join(d, "big"+ext), make([]byte, 8<<20), 0o644))
		must(os.WriteFile(filepath.Join(d, "binary"+ext), binary, 0o644))
	}
	q := table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: root}}}}
	for _, tb := range Tables() {
		if tb.Evented {
			// no root to read: the evented tables' inputs are events
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		start := time.Now()
		rows, err := tb.Run(ctx, q)
		cancel()
		if err != nil {
			t.Errorf("%s: after %v: %v", tb.Name, time.Since(start), err)
			continue
		}
		for _, r := range rows {
			if r["reason"] == "" && (strings.Contains(r["path"], "fifo") || strings.Contains(r["path"], "loop") || strings.Contains(r["path"], "zero")) {
				t.Errorf("%s: a bad file reported as fine: %v", tb.Name, r)
			}
		}
		t.Logf("%s: %d rows in %v", tb.Name, len(rows), time.Since(start))
	}
}
