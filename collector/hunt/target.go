package hunt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/distbin"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Target is a host to hunt on.
type Target interface {
	// Name identifies the host in the store and in reports.
	Name() string
	// Hunt runs the queries there, and says which machine it reached
	// (what it learned of it even when it fails).
	Hunt(ctx context.Context, qs []BatchQuery) (Answer, error)
}

// Local is this host, or a filesystem root mounted on it.
type Local struct {
	Host string // the name to store results under
	Root string
}

func (l Local) Name() string { return l.Host }

// LocalName is the name a local hunt gives this host (root "/") or a
// root mounted on it: the host name, with ":ROOT" for a root.
func LocalName(root string) string {
	name, _ := os.Hostname()
	if root != "/" {
		name += ":" + root
	}
	return name
}

// LocalKey is how a local hunt stores root's results: its name as the
// alias and the machine it is.
func LocalKey(root string) store.HostKey {
	return store.HostKey{Alias: LocalName(root), Machine: localMachine(root)}
}

func (l Local) Hunt(ctx context.Context, qs []BatchQuery) (Answer, error) {
	res, err := RunBatch(ctx, l.Root, qs)
	return Answer{Results: res, Machine: localMachine(l.Root)}, err
}

// SSH is a host reached with the system OpenSSH client, so the user's
// ~/.ssh/config, agent, jump hosts and known_hosts apply. The remote side
// runs a static pkgpersist build for its CPU (uname -m) from a private
// temporary directory, checked by SHA-256 and removed afterwards.
type SSH struct {
	URL     string // ssh://[user@]host[:port][?root=DIR]
	Dest    string // [user@]host
	Port    string
	Root    string
	Config  string // -F file, "" for the user's
	Options []string
	Timeout time.Duration
	// Builds finds the pkgpersist build to copy for the host's CPU.
	Builds distbin.Finder
	// Engine is auto, osqueryi or pkgpersist: auto uses osqueryi (with
	// the pkgpersist extension, copied too) when the host has it.
	Engine string
	// Extension is the pkgpersist.ext to copy for the osqueryi engine
	// (--extension); "" for the one beside the build.
	Extension string
	// MaxOutput bounds what the host's answer may cost the collector
	// (DefaultMaxOutput when 0): a host that prints more fails.
	MaxOutput int64
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

// smallOutput bounds the output of the commands around the batch (mktemp,
// uname, sha256sum): a few lines.
const smallOutput = 64 << 10

// ssh runs one remote command with stdin, returning its stdout, which
// may be at most smallOutput bytes.
func (s *SSH) ssh(ctx context.Context, stdin []byte, remote string) ([]byte, error) {
	var out []byte
	err := s.run(ctx, stdin, false, remote, func(r io.Reader) error {
		var err error
		out, err = io.ReadAll(budgetReader{r, newBudget(smallOutput)})
		return err
	})
	return out, err
}

// run runs one remote command: it sends stdin, then hands the command's
// stdout to read as it arrives, so nothing the host prints is held but
// what read keeps. With keepOpen standard input stays open until run
// returns: a command that watches it (batch --watch-stdin) then ends when
// the collector stops waiting for it (timeout, bad output) or dies, since
// a closed connection closes the remote's standard input. When read fails
// the command is killed and read's error is the answer, unless ssh itself
// failed first (its last line of stderr is).
func (s *SSH) run(ctx context.Context, stdin []byte, keepOpen bool, remote string, read func(io.Reader) error) error {
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
	cctx, kill := context.WithCancel(ctx)
	defer kill()
	cmd := exec.CommandContext(cctx, "ssh", args...)
	errb := &tail{max: 4 << 10}
	cmd.Stderr = errb
	cmd.WaitDelay = time.Second
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		// a command that fails may not read it all: its answer says why
		_, _ = in.Write(stdin)
		if keepOpen {
			<-cctx.Done()
		}
		in.Close()
	}()
	readErr := read(out)
	if readErr == nil {
		if _, err := io.Copy(io.Discard, budgetReader{out, newBudget(smallOutput)}); err != nil {
			readErr = fmt.Errorf("after its answer: %w", err)
		}
	}
	if readErr != nil {
		kill()
	}
	err = cmd.Wait()
	exited := cmd.ProcessState != nil && cmd.ProcessState.Exited()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("timed out: %w", ctx.Err())
	case err != nil && (exited || readErr == nil):
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg == "" {
			msg = err.Error()
		}
		return errors.New(msg)
	}
	return readErr
}

// upload copies a file into dir on the host and checks its SHA-256.
func (s *SSH) upload(ctx context.Context, local, remote string) error {
	data, err := os.ReadFile(local)
	if err != nil {
		return fmt.Errorf("read %s: %w", local, err)
	}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	q := shellQuote(remote)
	out, err := s.ssh(ctx, data, "cat > "+q+" && chmod 700 "+q+" && sha256sum "+q)
	if err != nil {
		return fmt.Errorf("copy %s: %w", local, err)
	}
	if f := strings.Fields(string(out)); len(f) == 0 || f[0] != want {
		return fmt.Errorf("copy %s: checksum mismatch on the remote (%q, want %s)", local, strings.TrimSpace(string(out)), want)
	}
	return nil
}

// Hunt copies pkgpersist (and, for the osqueryi engine, the extension)
// into a private temporary directory, runs `pkgpersist batch`, and removes
// the directory.
func (s *SSH) Hunt(ctx context.Context, qs []BatchQuery) (Answer, error) {
	out, err := s.ssh(ctx, nil, `d=$(mktemp -d) && chmod 700 "$d" && echo "$d" && uname -m && echo "$(command -v osqueryi)" && `+identifyScript(s.Root))
	if err != nil {
		return Answer{}, err
	}
	lines := strings.Split(string(out), "\n")
	if !strings.HasPrefix(lines[0], "/") {
		return Answer{}, fmt.Errorf("no private temporary directory on the host (mktemp said %q)", strings.TrimSpace(string(out)))
	}
	dir, machine, osqueryi := lines[0], "", ""
	if len(lines) > 1 {
		machine = strings.TrimSpace(lines[1])
	}
	if len(lines) > 2 {
		osqueryi = strings.TrimSpace(lines[2])
	}
	a := Answer{}
	if len(lines) > 3 {
		a.Machine = machineOf(readFacts(lines[3:]))
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
		defer cancel()
		_, _ = s.ssh(cctx, nil, "rm -rf "+shellQuote(dir))
	}()
	useOsq := s.Engine == "osqueryi" || (s.Engine == "auto" && osqueryi != "")
	if s.Engine == "osqueryi" && osqueryi == "" {
		return a, errors.New("remote engine osqueryi requested, but the host has no osqueryi")
	}
	if machine == "" {
		return a, errors.New("the host did not say its CPU (uname -m printed nothing)")
	}
	build, err := s.Builds.Find(machine)
	if err != nil {
		return a, err
	}
	ext := build.Extension
	if useOsq {
		if ext, err = s.extension(build); err != nil {
			return a, err
		}
	}
	if err := s.upload(ctx, build.Collector, dir+"/pkgpersist"); err != nil {
		return a, err
	}
	remote := shellQuote(dir+"/pkgpersist") + " batch --root " + shellQuote(s.Root)
	if useOsq {
		if err := s.upload(ctx, ext, dir+"/pkgpersist.ext"); err != nil {
			return a, err
		}
		remote += " --osqueryi " + shellQuote(osqueryi) + " --extension " + shellQuote(dir+"/pkgpersist.ext")
	}
	remote += " --watch-stdin"
	in, _ := json.Marshal(qs)
	maxOut := s.MaxOutput
	if maxOut <= 0 {
		maxOut = DefaultMaxOutput
	}
	var res []BatchResult
	err = s.run(ctx, in, true, remote, func(r io.Reader) error {
		var err error
		res, err = ReadBatch(r, maxOut)
		return err
	})
	if err != nil {
		return a, fmt.Errorf("remote engine: %w", err)
	}
	a.Results = res
	return a, nil
}

// extension is the pkgpersist.ext to copy with build for osqueryi: the
// one --extension names, if it can run on the host, else build's own.
func (s *SSH) extension(b distbin.Build) (string, error) {
	if s.Extension != "" {
		if err := distbin.Check(s.Extension, b.Arch); err != nil {
			return "", fmt.Errorf("--extension cannot run on the %s host: %w", b.Arch, err)
		}
		return s.Extension, nil
	}
	if b.Extension == "" {
		return "", fmt.Errorf("no pkgpersist.ext for the %s host's osqueryi: %w (make dist builds it, or pass --extension FILE, or --remote-engine pkgpersist)", b.Arch, b.NoExtension)
	}
	return b.Extension, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
