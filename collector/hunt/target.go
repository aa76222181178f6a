package hunt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Target is a host to hunt on.
type Target interface {
	// Name identifies the host in the store and in reports.
	Name() string
	// Hunt runs the queries there.
	Hunt(ctx context.Context, qs []BatchQuery) ([]BatchResult, error)
}

// Local is this host, or a filesystem root mounted on it.
type Local struct {
	Host string // the name to store results under
	Root string
}

func (l Local) Name() string { return l.Host }

func (l Local) Hunt(ctx context.Context, qs []BatchQuery) ([]BatchResult, error) {
	return RunBatch(ctx, l.Root, qs)
}

// SSH is a host reached with the system OpenSSH client, so the user's
// ~/.ssh/config, agent, jump hosts and known_hosts apply. The remote side
// runs a copy of this pkgpersist binary from a private temporary
// directory, checked by SHA-256 and removed afterwards.
type SSH struct {
	URL     string // ssh://[user@]host[:port][?root=DIR]
	Dest    string // [user@]host
	Port    string
	Root    string
	Config  string // -F file, "" for the user's
	Options []string
	Timeout time.Duration
	Binary  string // the pkgpersist binary to copy
}

// ParseSSH reads an ssh:// target.
func ParseSSH(raw string) (*SSH, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "ssh" || u.Hostname() == "" {
		return nil, fmt.Errorf("target %q: want ssh://[user@]host[:port][?root=DIR]", raw)
	}
	t := &SSH{URL: raw, Dest: u.Hostname(), Port: u.Port(), Root: u.Query().Get("root")}
	if u.User != nil {
		t.Dest = u.User.Username() + "@" + t.Dest
	}
	if t.Root == "" {
		t.Root = "/"
	}
	if t.Port != "" {
		if _, err := strconv.Atoi(t.Port); err != nil {
			return nil, fmt.Errorf("target %q: bad port", raw)
		}
	}
	return t, nil
}

func (s *SSH) Name() string {
	n := strings.TrimPrefix(s.URL, "ssh://")
	return n
}

// ssh runs one remote command with stdin, returning stdout.
func (s *SSH) ssh(ctx context.Context, stdin []byte, remote string) ([]byte, error) {
	args := []string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=" + strconv.Itoa(max(1, int(s.Timeout/time.Second)))}
	if s.Config != "" {
		args = append(args, "-F", s.Config)
	}
	for _, o := range s.Options {
		args = append(args, "-o", o)
	}
	if s.Port != "" {
		args = append(args, "-p", s.Port)
	}
	args = append(args, "--", s.Dest, remote)
	cmd := exec.CommandContext(ctx, "ssh", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("timed out: %w", ctx.Err())
	}
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	return out.Bytes(), nil
}

// Hunt copies the binary, runs `pkgpersist batch`, and cleans up.
func (s *SSH) Hunt(ctx context.Context, qs []BatchQuery) ([]BatchResult, error) {
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.Binary, err)
	}
	sum := sha256.Sum256(bin)
	want := hex.EncodeToString(sum[:])
	// upload into a private directory and check what arrived
	out, err := s.ssh(ctx, bin, `d=$(mktemp -d) && chmod 700 "$d" && cat > "$d/pkgpersist" && chmod 700 "$d/pkgpersist" && echo "$d" && sha256sum "$d/pkgpersist"`)
	if err != nil {
		return nil, fmt.Errorf("copy pkgpersist: %w", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "/") {
		return nil, fmt.Errorf("copy pkgpersist: unexpected answer %q", strings.TrimSpace(string(out)))
	}
	dir := lines[0]
	cleanup := func() {
		cctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
		defer cancel()
		_, _ = s.ssh(cctx, nil, "rm -rf "+shellQuote(dir))
	}
	defer cleanup()
	if lines[1] != want {
		return nil, fmt.Errorf("copy pkgpersist: checksum mismatch on the remote (%s, want %s)", lines[1], want)
	}
	in, _ := json.Marshal(qs)
	out, err = s.ssh(ctx, in, shellQuote(dir+"/pkgpersist")+" batch --root "+shellQuote(s.Root))
	if err != nil {
		return nil, fmt.Errorf("remote engine: %w", err)
	}
	var res []BatchResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("malformed output from the remote engine: %w", err)
	}
	return res, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
