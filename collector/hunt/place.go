package hunt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/pkgpersist/pkgpersist/collector/distbin"
)

// placer puts the programs a hunt runs on its host: from the remote
// cache when it holds them and passes its checks, else by copying them,
// streamed from the local file (nothing per host is held in memory) and
// checked by SHA-256 on the host.
type placer struct {
	s *SSH
	c *conn
	a *Answer
	// tmp is the private temporary directory on the host, as the host's
	// shell names it; made says it was asked for, so cleanup removes it
	// whatever became of the command making it.
	tmp  string
	made bool
	// checked holds the cache's verdicts on builds, by SHA-256, that the
	// host gave before they were asked for (see precheck).
	checked map[string]string
}

// precheck is shell, run with the identification, that checks the remote
// cache for the collector build of the host's CPU ($m, its uname -m)
// and prints the build's SHA-256 and the verdict on one line: the cache
// answers with no command of its own. "" without a cache.
func (p *placer) precheck() string {
	if p.s.Cache == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(`case "$m" in`)
	for _, m := range [][2]string{{"x86_64", "x86_64|amd64"}, {"aarch64", "aarch64|arm64"}} {
		build, err := p.s.Builds.Find(m[0])
		if err != nil {
			continue
		}
		sum, _, err := p.s.Digests.SHA256(build.Collector)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, " %s) (%s) ;;", m[1], cacheScript(p.s.Cache, sum+filepath.Ext(distbin.Collector), sum, false))
	}
	b.WriteString(` *) echo none ;; esac; `)
	return b.String()
}

// tmpDir names the private temporary directory: chosen here, so that it
// can be removed even when the command making it did not answer.
func (p *placer) tmpDir() string {
	if p.tmp == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		p.tmp = `"${TMPDIR:-/tmp}"/pkgpersist.` + hex.EncodeToString(b[:])
	}
	return p.tmp
}

// cleanup removes the temporary directory, if one was asked for, even
// when the hunt timed out or was cancelled.
func (p *placer) cleanup() {
	if !p.made {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.s.Timeout)
	defer cancel()
	_, _ = p.c.ssh(ctx, nil, "rm -rf -- "+p.tmpDir())
}

// place puts the local program on the host as name and returns its path
// there.
func (p *placer) place(ctx context.Context, local, name string) (string, error) {
	sum, _, err := p.s.Digests.SHA256(local)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", local, err)
	}
	if p.s.Cache != "" {
		path, err := p.cached(ctx, local, sum, name)
		if err != nil || path != "" {
			return path, err
		}
	}
	return p.upload(ctx, local, sum, name)
}

// send streams the local file as a command's standard input, counting
// what is sent in the answer.
func (p *placer) send(ctx context.Context, local, remote string) ([]byte, error) {
	f, err := os.Open(local)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", local, err)
	}
	defer f.Close()
	return p.c.ssh(ctx, counted{f, &p.a.Uploaded}, remote)
}

// upload copies the program into the private temporary directory.
func (p *placer) upload(ctx context.Context, local, sum, name string) (string, error) {
	mk := ""
	if !p.made {
		p.made = true
		mk = "mkdir -m 700 -- " + p.tmpDir() + " && "
	}
	q := p.tmpDir() + "/" + shellQuote(name)
	out, err := p.send(ctx, local, mk+"cat > "+q+" && chmod 700 "+q+" && echo "+q+" && "+sha256Cmd(q))
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", local, err)
	}
	path, check, _ := strings.Cut(string(out), "\n")
	if f := strings.Fields(check); len(f) == 0 || f[0] != sum || !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("copy %s: checksum mismatch on the remote (%q, want %s)", local, strings.TrimSpace(string(out)), sum)
	}
	return path, nil
}

// cached returns the program's path in the remote cache, stored there
// first when it is missing or fails its checks; "" when the cache is
// refused (the note says why) and the program is to be copied instead.
func (p *placer) cached(ctx context.Context, local, sum, name string) (string, error) {
	file := sum + filepath.Ext(name)
	out, ok := p.checked[sum]
	if !ok {
		got, err := p.c.ssh(ctx, nil, cacheScript(p.s.Cache, file, sum, false))
		if err != nil {
			return "", fmt.Errorf("remote cache %s: %w", p.s.Cache, err)
		}
		if out, ok = strings.CutPrefix(strings.TrimSpace(string(got)), sum+" "); !ok {
			return "", fmt.Errorf("remote cache %s: unexpected answer %q", p.s.Cache, got)
		}
	}
	verdict, why, _ := strings.Cut(strings.TrimSpace(out), " ")
	switch verdict {
	case "hit":
		return why, nil
	case "bad":
		p.a.Notes = append(p.a.Notes, fmt.Sprintf("note: remote cache: %s; not run, copied again", why))
	case "miss", "refused":
	default:
		return "", fmt.Errorf("remote cache %s: unexpected answer %q", p.s.Cache, out)
	}
	if verdict != "refused" {
		got, err := p.send(ctx, local, cacheScript(p.s.Cache, file, sum, true))
		if err != nil {
			return "", fmt.Errorf("copy %s to the remote cache: %w", local, err)
		}
		if verdict, why, _ = strings.Cut(strings.TrimSpace(string(got)), " "); verdict == "stored" {
			return why, nil
		}
		if verdict != "refused" { // else the directory changed since the check
			return "", fmt.Errorf("copy %s to the remote cache: %s", local, strings.TrimSpace(string(got)))
		}
	}
	p.a.Notes = append(p.a.Notes, fmt.Sprintf("note: remote cache refused: %s; copied %s to a temporary directory instead", why, name))
	return "", nil
}

// sha256Cmd is a shell command printing the SHA-256 of the file at path
// (absolute) first on its line: OpenSSL's, which uses the CPU's SHA
// instructions, where the host has it (several times less CPU than
// coreutils' on a 15 MB build), else sha256sum's.
func sha256Cmd(path string) string {
	return "{ openssl dgst -sha256 -r " + path + " 2>/dev/null || sha256sum " + path + "; }"
}

// counted is a reader that adds what is read to n.
type counted struct {
	r io.Reader
	n *int64
}

func (c counted) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	atomic.AddInt64(c.n, int64(n))
	return n, err
}

// cacheScript checks the remote cache directory dir and prints one line:
// "refused WHY" unless it, and every directory above it (as the kernel
// resolves it: no symbolic link in between), is owned by root, writable
// by neither group nor others and has no access control list, or when
// this user cannot write it to store a missing file; it is made (0755)
// when missing and the user is root. Then, to check file: "hit PATH" when
// PATH is a regular file that passes the same rule and whose SHA-256 is
// sum, "bad WHY" when it fails, "miss" when there is none. To store it
// (store): the standard input is written beside it, checked by SHA-256
// and renamed over it, "stored PATH". The rule leaves only root able to
// change what is run, and root on the host is trusted anyway.
func cacheScript(dir, file, sum string, store bool) string {
	var b strings.Builder
	v := ""
	if !store {
		v = `"$s "` // the check's verdict names the build it is on
	}
	fmt.Fprintf(&b, `set -f; c=%s; n=%s; s=%s
verdict() { echo %s"$*"; exit 0; }
trusted() {
  w=$1 f=$2
  l=$(LC_ALL=C ls -ldn -- "$f" 2>/dev/null) || verdict $w "$f: cannot list it"
  set -- $l
  case $1 in
  ?????w*|????????w*) verdict $w "$f: writable by group or others ($1)" ;;
  ??????????+*) verdict $w "$f: has an access control list ($1)" ;;
  esac
  [ "$3" = 0 ] || verdict $w "$f: owned by uid $3, not root"
}
[ -e "$c" ] || [ "$(id -u)" != 0 ] || mkdir -m 755 -- "$c" 2>/dev/null
p=$(cd -P -- "$c" 2>/dev/null && pwd -P) || verdict refused "$c: not a directory"
q=$p
while :; do trusted refused "$q"; [ "$q" = / ] && break; q=${q%%/*}; q=${q:-/}; done
`, shellQuote(dir), shellQuote(file), shellQuote(sum), v)
	if store {
		b.WriteString(`[ -w "$p" ] || verdict refused "$p: not writable by this user"
t=$p/.$n.$$
trap 'rm -f -- "$t"' EXIT
cat > "$t" && chmod 755 "$t" || verdict failed "cannot write $t"
set -- $(` + sha256Cmd(`"$t"`) + `)
[ "$1" = "$s" ] || verdict failed "$t: SHA-256 $1 after the copy, want $s"
[ ! -d "$p/$n" ] || rm -rf -- "$p/$n"
mv -f -- "$t" "$p/$n" || verdict failed "cannot rename $t"
verdict stored "$p/$n"
`)
		return b.String()
	}
	b.WriteString(`f=$p/$n
[ -e "$f" ] || [ -h "$f" ] || { [ -w "$p" ] || verdict refused "$p: not writable by this user, and $n is not there"; verdict miss; }
case $(LC_ALL=C ls -ldn -- "$f") in -*) ;; *) verdict bad "$f: not a regular file" ;; esac
trusted bad "$f"
set -- $(` + sha256Cmd(`"$f"`) + `)
[ "$1" = "$s" ] || verdict bad "$f: its SHA-256 is $1, not $s"
verdict hit "$f"
`)
	return b.String()
}
