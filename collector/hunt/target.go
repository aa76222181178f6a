package hunt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
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
// ~/.ssh/config, agent, jump hosts and known_hosts apply; one connection
// per host carries every command of its hunt (see conn). The remote side
// runs a static pkgpersist build for its CPU (uname -m), checked by
// SHA-256: from a private temporary directory removed afterwards, or from
// the remote cache.
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
	// Digests hashes the programs copied; one shared by every target
	// hashes each once for the whole hunt (nil: once per target).
	Digests *distbin.Digests
	// Cache is a directory on the host keeping the programs by SHA-256
	// ("" for none), used only while it passes the checks of
	// cacheScript, before every use.
	Cache string
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

// smallOutput bounds the output of the commands around the batch (uname,
// sha256sum, the cache's checks): a few lines.
const smallOutput = 64 << 10

// Hunt opens one connection to the host, learns its CPU and identity,
// puts pkgpersist there (and, for the osqueryi engine, the extension):
// from the verified remote cache, or copied into a private temporary
// directory that is removed afterwards, runs `pkgpersist batch`, and
// closes the connection.
func (s *SSH) Hunt(ctx context.Context, qs []BatchQuery) (Answer, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return Answer{}, err
	}
	defer c.close()
	a := Answer{}
	p := &placer{s: s, c: c, a: &a, checked: map[string]string{}}
	defer p.cleanup()
	err = s.hunt(ctx, p, qs)
	a.Notes = append(c.notes, a.Notes...)
	return a, err
}

func (s *SSH) hunt(ctx context.Context, p *placer, qs []BatchQuery) error {
	a := p.a
	out, err := p.c.ssh(ctx, nil, `m=$(uname -m) && echo "$m" && echo "$(command -v osqueryi)" && `+p.precheck()+identifyScript(s.Root))
	if err != nil {
		return err
	}
	lines := strings.Split(string(out), "\n")
	if s.Cache != "" && len(lines) > 2 {
		if sum, verdict, ok := strings.Cut(lines[2], " "); ok {
			p.checked[sum] = verdict
		}
		lines = append(lines[:2], lines[3:]...)
	}
	machine, osqueryi := strings.TrimSpace(lines[0]), ""
	if len(lines) > 1 {
		osqueryi = strings.TrimSpace(lines[1])
	}
	if len(lines) > 2 {
		a.Machine = machineOf(readFacts(lines[2:]))
	}
	useOsq := s.Engine == "osqueryi" || (s.Engine == "auto" && osqueryi != "")
	if s.Engine == "osqueryi" && osqueryi == "" {
		return errors.New("remote engine osqueryi requested, but the host has no osqueryi")
	}
	if machine == "" {
		return errors.New("the host did not say its CPU (uname -m printed nothing)")
	}
	build, err := s.Builds.Find(machine)
	if err != nil {
		return err
	}
	ext := build.Extension
	if useOsq {
		if ext, err = s.extension(build); err != nil {
			return err
		}
	}
	bin, err := p.place(ctx, build.Collector, distbin.Collector)
	if err != nil {
		return err
	}
	remote := shellQuote(bin) + " batch --root " + shellQuote(s.Root)
	if useOsq {
		extBin, err := p.place(ctx, ext, distbin.Extension)
		if err != nil {
			return err
		}
		remote += " --osqueryi " + shellQuote(osqueryi) + " --extension " + shellQuote(extBin)
	}
	remote += " --watch-stdin"
	in, _ := json.Marshal(qs)
	maxOut := s.MaxOutput
	if maxOut <= 0 {
		maxOut = DefaultMaxOutput
	}
	err = p.c.run(ctx, bytes.NewReader(in), true, remote, func(r io.Reader) error {
		var err error
		a.Results, err = ReadBatch(r, maxOut)
		return err
	})
	if err != nil {
		a.Results = nil
		return fmt.Errorf("remote engine: %w", err)
	}
	return nil
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
