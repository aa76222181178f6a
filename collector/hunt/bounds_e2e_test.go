package hunt_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/test/peakrss"
)

// collectorCeiling is what the collector may hold while hostile hosts
// flood it: DefaultMaxOutput of decoded answer a host (each charged its
// bytes and hunt.RowCost a row), a few hosts at once, and the runtime.
// Buffering a host's output whole took 8.4 GB in 20 s.
const collectorCeiling = 400 << 20

// TestHostileOutput: hosts that print without end, a flood of rows inside
// a well-formed answer, plain text, or standard error, each fail with one
// line while the good host beside them is stored, and the collector's
// peak RSS stays under collectorCeiling.
func TestHostileOutput(t *testing.T) {
	l := startHostileLab(t, `*" batch "*/flood-rows*) printf '[{"id":"hooks","rows":['; exec yes '{"a":"b"},' ;;
*" batch "*/flood-text*) exec yes 'Welcome!' ;;
*" batch "*/flood-stderr*) exec yes 'noise' >&2 ;;`)
	l.timeout = "20s"
	qdir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
	abs, _ := filepath.Abs("../../test/roots/planted")
	good := fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[0], abs)
	bad := func(kind string) string {
		return fmt.Sprintf("root@127.0.0.1:%d?root=/%s", l.ports[1], kind)
	}
	db := filepath.Join(t.TempDir(), "p.db")
	cmd := exec.Command(l.bin, "hunt", "--db", db, "--queries", qdir, "--ssh-config", l.sshConfig, "--timeout", l.timeout, "--parallel", "4", "--format", "json",
		good, "ssh://"+bad("flood-rows"), "ssh://"+bad("flood-text"), "ssh://"+bad("flood-stderr"))
	r, err := peakrss.Run(cmd, 2*collectorCeiling)
	must(t, err)
	t.Logf("collector peak RSS %d MB", r.Peak>>20)
	if r.Killed || r.Peak > collectorCeiling {
		t.Fatalf("collector peak RSS %d MB, ceiling %d MB (killed %v)\n%s", r.Peak>>20, collectorCeiling>>20, r.Killed, r.Stderr)
	}
	if ee, ok := r.Err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\n%s", r.Err, r.Stderr)
	}
	for _, want := range []string{
		bad("flood-rows") + ": failed: remote engine: " + (&hunt.OutputLimitError{Max: hunt.DefaultMaxOutput}).Error(),
		bad("flood-text") + ": failed: remote engine: malformed output from the remote engine: invalid character 'W'",
		bad("flood-stderr") + ": failed: remote engine: timed out",
		strings.TrimPrefix(good, "ssh://") + ": ok",
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("missing %q in\n%s", want, r.Stderr)
		}
	}
}

// TestRemoteBatchEndsWithHunt: a query that never ends on the host, the
// hunt times out, and the host's pkgpersist batch is gone soon after (the
// lab's sshd runs the "remote" side on this machine: its processes are in
// /proc).
func TestRemoteBatchEndsWithHunt(t *testing.T) {
	l := startLab(t)
	l.timeout = "8s"
	qdir := t.TempDir()
	spin := strings.Replace(hooksQuery[:strings.Index(hooksQuery, "SELECT")], "id: hooks", "id: spin", 1) +
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c\n"
	must(t, os.WriteFile(filepath.Join(qdir, "spin.sql"), []byte(spin), 0o644))
	root := t.TempDir() // names this test's batch in /proc
	code, errs := l.hunt(t, filepath.Join(t.TempDir(), "p.db"), qdir, fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[0], root))
	if code != 1 || !strings.Contains(errs, "timed out") {
		t.Fatalf("exit %d, want 1 and a timeout\n%s", code, errs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := batches(t, root)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("pkgpersist batch still running 10 s after the hunt timed out: pids %v", left)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// batches lists the pids of pkgpersist batch processes hunting root.
func batches(t *testing.T, root string) []int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	must(t, err)
	var out []int
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		if len(args) > 3 && strings.HasSuffix(args[0], "/pkgpersist") && args[1] == "batch" && strings.Contains(string(data), "\x00"+root+"\x00") {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			out = append(out, pid)
		}
	}
	return out
}
