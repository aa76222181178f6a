package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/osqserver"
	"github.com/pkgpersist/pkgpersist/collector/output"
	"github.com/pkgpersist/pkgpersist/collector/packs"
	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/extension/registry"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve the osquery TLS remote API so osqueryd hosts enroll and report here",
		Description: `Answers osqueryd at Fleet's paths (/api/osquery/enroll, config, log,
distributed/read, distributed/write; /api/v1/osquery/ too). Enrolled hosts
get the packs as their configuration, ship their scheduled results into --db,
and answer the hunts of "pkgpersist hunt --enrolled". GET /metrics gives
Prometheus counters of requests and refusals.

TLS 1.2 or later always: without --tls-cert/--tls-key a self-signed ECDSA
certificate is created beside --db (FILE.crt, FILE.key) and its path and
SHA-256 fingerprint are printed; give that file to osqueryd as
--tls_server_certs. --insecure-http serves plain HTTP, for tests only.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8443", Usage: "`ADDR` to listen on"},
			&cli.StringFlag{Name: "db", Value: "pkgpersist.db", Usage: "the SQLite `FILE` results are stored in"},
			&cli.StringFlag{Name: "enroll-secret-file", Required: true, Usage: "`FILE` holding the enroll secret hosts present"},
			&cli.StringFlag{Name: "tls-cert", Usage: "certificate `FILE` (PEM)"},
			&cli.StringFlag{Name: "tls-key", Usage: "private key `FILE` (PEM)"},
			&cli.StringFlag{Name: "tls-name", Usage: "comma-separated host `NAMES` and addresses for the self-signed certificate (default: the listen address and this host's name)"},
			&cli.BoolFlag{Name: "insecure-http", Usage: "serve plain HTTP (tests only: node keys travel in clear)"},
			&cli.IntFlag{Name: "distributed-interval", Value: 10, Usage: "`SECONDS` between a host's distributed reads (sent in the config)"},
			&cli.StringFlag{Name: "queries", Usage: "a `DIR` of .sql query files instead of the built-in ones"},
			&cli.Float64Flag{Name: "rate", Value: osqserver.DefaultOptions.Rate, Usage: "requests a second allowed per node"},
		},
		Action: runServe,
	}
}

func runServe(c *cli.Context) error {
	if c.NArg() > 0 {
		return &exitError{2, fmt.Errorf("serve takes no arguments (got %q)", c.Args().First())}
	}
	secret, err := os.ReadFile(c.String("enroll-secret-file"))
	if err != nil {
		return &exitError{2, fmt.Errorf("enroll secret: %w", err)}
	}
	opt := osqserver.DefaultOptions
	opt.Secret = strings.TrimSpace(string(secret))
	opt.Rate = c.Float64("rate")
	if opt.Secret == "" {
		return &exitError{2, fmt.Errorf("enroll secret file %s is empty", c.String("enroll-secret-file"))}
	}
	qs, err := loadQueries(c)
	if err != nil {
		return &exitError{2, err}
	}
	if opt.Config, err = packs.ServerConfig(qs, registry.Tables(), c.Int("distributed-interval")); err != nil {
		return &exitError{2, err}
	}
	var cert *tls.Certificate
	if !c.Bool("insecure-http") {
		names := []string{}
		if n := c.String("tls-name"); n != "" {
			names = strings.Split(n, ",")
		} else {
			host, _, _ := net.SplitHostPort(c.String("listen"))
			h, _ := os.Hostname()
			names = append(names, host, h, "localhost", "127.0.0.1")
		}
		dbAbs, _ := filepath.Abs(c.String("db"))
		crt, path, err := osqserver.Certificate(c.String("tls-cert"), c.String("tls-key"), dbAbs, names)
		if err != nil {
			return &exitError{2, err}
		}
		cert = &crt
		fmt.Fprintf(c.App.ErrWriter, "pkgpersist: TLS certificate %s (SHA-256 %s); hosts use --tls_server_certs=%s\n", path, osqserver.Fingerprint(crt), path)
	} else if c.IsSet("tls-cert") || c.IsSet("tls-key") {
		return &exitError{2, errors.New("--insecure-http and --tls-cert/--tls-key exclude each other")}
	}
	st, err := openStore(c)
	if err != nil {
		return &exitError{1, err}
	}
	defer st.Close()
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return &exitError{1, err}
	}
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, nil))
	srv := osqserver.New(st, opt, log)
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	scheme := "https"
	if cert == nil {
		scheme = "http"
	}
	log.Info("serving", "url", scheme+"://"+ln.Addr().String()+osqserver.Prefixes[0], "db", c.String("db"))
	if err := srv.Serve(ctx, ln, cert); err != nil && !errors.Is(err, net.ErrClosed) {
		return &exitError{1, err}
	}
	return nil
}

func hostsCommand() *cli.Command {
	return &cli.Command{
		Name:  "hosts",
		Usage: "list the osqueryd hosts enrolled into pkgpersist serve",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "db", Value: "pkgpersist.db", Usage: "the SQLite `FILE` of pkgpersist serve"},
			&cli.StringFlag{Name: "revoke", Usage: "revoke `HOST`'s node key: it must enroll again"},
		},
		Action: func(c *cli.Context) error {
			st, err := openExisting(c, "serve")
			if err != nil {
				return err
			}
			defer st.Close()
			if h := c.String("revoke"); h != "" {
				if err := st.Revoke(c.Context, h); err != nil {
					return &exitError{1, err}
				}
				fmt.Fprintf(c.App.Writer, "revoked %s\n", h)
				return nil
			}
			nodes, err := st.Nodes(c.Context)
			if err != nil {
				return &exitError{1, err}
			}
			w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "HOST\tOSQUERY\tEXTENSION\tENROLLED\tLAST CHECK-IN\tSTATE")
			for _, n := range nodes {
				state := "active"
				if n.Revoked {
					state = "revoked"
				}
				ext := n.Extension
				if ext == "" {
					ext = "unknown"
				}
				// what a host says about itself is shown, never obeyed
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s ago\t%s\n", output.Safe(n.Host), output.Safe(n.OsqueryVersion), output.Safe(ext),
					n.Enrolled.UTC().Format(time.RFC3339), time.Since(n.LastSeen).Round(time.Second), state)
			}
			return w.Flush()
		},
	}
}

// enrolledTargets are the enrolled, unrevoked hosts (only those named when
// names is not empty).
func enrolledTargets(c *cli.Context, st *store.SQLite, names []string) ([]hunt.Target, error) {
	nodes, err := st.Nodes(c.Context)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var ts []hunt.Target
	for _, n := range nodes {
		if n.Revoked || (len(want) > 0 && !want[n.Host]) {
			continue
		}
		delete(want, n.Host)
		ts = append(ts, &hunt.Enrolled{Queue: st, Host: n.Host, HostID: n.HostID})
	}
	for n := range want {
		return nil, fmt.Errorf("no enrolled host %q (see pkgpersist hosts)", n)
	}
	if len(ts) == 0 {
		return nil, errors.New("no enrolled hosts (start pkgpersist serve and point osqueryd at it)")
	}
	return ts, nil
}
