package hunt_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/distbin"
	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/hunt/hunttest"
	"github.com/pkgpersist/pkgpersist/test/distbuild"
)

// target is an SSH target of the lab, hunted in this process with make
// dist's builds and the pkgpersist engine.
func (l *lab) target(t testing.TB, url string) *hunt.SSH {
	t.Helper()
	s, err := hunt.ParseSSH(url)
	must(t, err)
	s.Config, s.Timeout, s.Builds, s.Engine = l.sshConfig, 2*time.Minute, distbin.Finder{Dist: dist.Dir(t)}, "pkgpersist"
	return s
}

// hooksBatch is the batch of the end-to-end hunts: the hooks query and
// the coverage query.
func hooksBatch() []hunt.BatchQuery {
	return []hunt.BatchQuery{{ID: "hooks", SQL: hooksQuery[strings.Index(hooksQuery, "SELECT"):]}, {ID: hunt.CoverageID, SQL: hunt.CoverageSQL}}
}

// trustedDir is a new directory that passes the remote cache's rule:
// it and every directory above it owned by root and writable by no one
// else (t.TempDir is under the world-writable /tmp).
func trustedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/run", "pkgpersist-test-")
	must(t, err)
	must(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// TestRemoteCache: the first hunt with a remote cache copies the build
// into it, the next copies nothing (bytes sent counted) and runs it from
// there. A cached file whose content changed is not run: it is copied
// again, with a note. A cache directory (or one above it) that is not
// root's alone is refused with a note saying why, and the build is copied
// to a temporary directory instead, which is removed; the refused
// directory is left as it was.
func TestRemoteCache(t *testing.T) {
	tmp := t.TempDir()
	l := startLabWith(t, func(*lab) string { return "SetEnv TMPDIR=" + tmp })
	root, _ := filepath.Abs("../../test/roots/planted")
	parent := trustedDir(t)
	cache := filepath.Join(parent, "cache")
	s := l.target(t, fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[0], root))
	s.Cache = cache
	bin := filepath.Join(distbuild.Arch(dist.Dir(t), runtime.GOARCH), "pkgpersist")
	fi, err := os.Stat(bin)
	must(t, err)
	sum := fileSHA256(t, bin)
	cached := filepath.Join(cache, sum)
	hunted := func(name string) hunt.Answer {
		t.Helper()
		a, err := s.Hunt(context.Background(), hooksBatch())
		if err != nil || len(a.Results) != 2 || len(a.Results[0].Rows) < 20 {
			t.Fatalf("%s: %v, %d answers %+v", name, err, len(a.Results), a.Notes)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Fatalf("%s: temporary directory left on the host: %v", name, left)
		}
		return a
	}

	a := hunted("first")
	if a.Uploaded != fi.Size() || len(a.Notes) != 0 || fileSHA256(t, cached) != sum {
		t.Fatalf("first hunt: sent %d bytes (build %d), notes %q", a.Uploaded, fi.Size(), a.Notes)
	}
	if a = hunted("repeat"); a.Uploaded != 0 || len(a.Notes) != 0 {
		t.Fatalf("repeat hunt: sent %d bytes, notes %q", a.Uploaded, a.Notes)
	}

	// tampered: same owner and mode, other content
	marker := filepath.Join(t.TempDir(), "ran")
	must(t, os.WriteFile(cached, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755))
	a = hunted("tampered")
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the tampered cached file was run")
	}
	if a.Uploaded != fi.Size() || !strings.Contains(strings.Join(a.Notes, "\n"), "its SHA-256 is ") || fileSHA256(t, cached) != sum {
		t.Fatalf("tampered: sent %d bytes, notes %q", a.Uploaded, a.Notes)
	}

	for _, c := range []struct {
		name, dir string
		mode      os.FileMode
		uid       int
		why       string
	}{
		{"group-writable", cache, 0o775, 0, cache + ": writable by group or others (drwxrwxr-x)"},
		{"not root's", cache, 0o755, 65534, cache + ": owned by uid 65534, not root"},
		{"parent others-writable", parent, 0o757, 0, parent + ": writable by group or others (drwxr-xrwx)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			must(t, os.Chmod(c.dir, c.mode))
			must(t, os.Chown(c.dir, c.uid, 0))
			defer func() {
				must(t, os.Chmod(c.dir, 0o755))
				must(t, os.Chown(c.dir, 0, 0))
			}()
			must(t, os.WriteFile(cached, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755))
			a := hunted(c.name)
			want := "note: remote cache refused: " + c.why + "; copied pkgpersist to a temporary directory instead"
			if a.Uploaded != fi.Size() || strings.Join(a.Notes, "\n") != want {
				t.Fatalf("sent %d bytes, notes %q, want %q", a.Uploaded, a.Notes, want)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the refused cache's file was run")
			}
			if data, _ := os.ReadFile(cached); !strings.Contains(string(data), marker) {
				t.Fatal("the refused cache was written")
			}
		})
	}
}

// TestTemporaryDirectoryRemoved: the private temporary directory is
// removed on the host when the batch fails and when the hunt is cancelled
// while the batch runs.
func TestTemporaryDirectoryRemoved(t *testing.T) {
	tmp := t.TempDir()
	l := startHostileLab(t, `*" batch --root '/fail' "*) exit 3 ;;
*" batch --root '/hang' "*) sleep 20 ;;
*) TMPDIR=`+tmp+` exec sh -c "$SSH_ORIGINAL_COMMAND" ;;`)
	for _, c := range []struct {
		root    string
		timeout time.Duration
		want    string
	}{{"/fail", time.Minute, "remote engine: "}, {"/hang", 5 * time.Second, "timed out"}} {
		s := l.target(t, fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[1], c.root))
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		_, err := s.Hunt(ctx, hooksBatch())
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v, want %q", c.root, err, c.want)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Fatalf("%s: temporary directory left on the host: %v", c.root, left)
		}
	}
}

// TestMaxStartups: an sshd that turns away all but two unauthenticated
// connections at a time (MaxStartups 2:100:2), hunted on more hosts than
// that at once: every host ends ok, and the waits are noted.
func TestMaxStartups(t *testing.T) {
	l := startLabWith(t, func(*lab) string { return "MaxStartups 2:100:2" })
	qdir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(qdir, "hooks.sql"), []byte(hooksQuery), 0o644))
	var targets []string
	for i, root := range roots(t, 12, "planted") {
		targets = append(targets, fmt.Sprintf("ssh://root@127.0.0.1:%d?root=%s", l.ports[i%2], root))
	}
	l.extraArgs = []string{"--parallel", "12"}
	code, errs := l.hunt(t, filepath.Join(t.TempDir(), "p.db"), qdir, targets...)
	hunttest.WantClean(t, code, errs)
	if !strings.Contains(errs, "note: sshd refused the connection ") {
		t.Fatalf("no host noted a refused connection:\n%s", errs)
	}
}
