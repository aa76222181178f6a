package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
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
	"github.com/pkgpersist/pkgpersist/collector/webreport"
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
Prometheus counters of requests and refusals, on --metrics-listen, or on
the API's address with the bearer token of --metrics-token-file.

Nothing a host sends is held whole before its node key (or enroll secret)
checked out, and peak memory is bounded by the limits given here, not by
what is sent (the bound is printed at start; README: "Serving under
attack").

TLS 1.2 or later always: without --tls-cert/--tls-key a self-signed ECDSA
certificate is created beside --db (FILE.crt, FILE.key) for the names in
--tls-name and the listen address, and its path and SHA-256 fingerprint are
printed; give that file to osqueryd as --tls_server_certs. When the names
change it is made again, and says so: hosts must then pin the new file. --insecure-http serves plain HTTP, for tests only.

With --ui-password-file, /ui/ shows the web report (as pkgpersist report
html writes it), read from --db at most every 5 seconds, to HTTP Basic auth
with --ui-user and that password only: the enroll secret, node keys and the
metrics token never open it, and a password equal to either is refused at
start. Every client address may ask /ui/ twice a second (burst 20);
refusals are counted in /metrics (pkgpersist_rejected_total{reason="ui_auth"}).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8443", Usage: "`ADDR` to listen on"},
			dbFlag(),
			&cli.StringFlag{Name: "enroll-secret-file", Required: true, Usage: "`FILE` holding the enroll secret hosts present"},
			&cli.StringFlag{Name: "tls-enroll-override", Value: osqserver.DefaultOptions.SecretField, Usage: "the enroll request's `KEY` holding the secret: the value of osqueryd's --tls_enroll_override"},
			&cli.StringFlag{Name: "tls-cert", Usage: "certificate `FILE` (PEM)"},
			&cli.StringFlag{Name: "tls-key", Usage: "private key `FILE` (PEM)"},
			&cli.StringFlag{Name: "tls-name", Usage: "comma-separated host `NAMES` and addresses hosts dial (their --tls_hostname), added to the self-signed certificate's names: the listen address (or this host's addresses), this host's name, localhost"},
			&cli.BoolFlag{Name: "insecure-http", Usage: "serve plain HTTP (tests only: node keys travel in clear)"},
			&cli.IntFlag{Name: "distributed-interval", Value: 10, Usage: "`SECONDS` between a host's distributed reads (sent in the config)"},
			&cli.StringFlag{Name: "queries", Usage: "a `DIR` of .sql query files instead of the built-in ones"},
			&cli.Float64Flag{Name: "rate", Value: osqserver.DefaultOptions.Rate, Usage: "`N` requests a second allowed per node"},
			&cli.Float64Flag{Name: "new-host-rate", Value: osqserver.DefaultOptions.NewHostRate, Usage: "`N` enrollments of new host identifiers a second, fleet-wide (0: no limit)"},
			&cli.IntFlag{Name: "new-host-burst", Value: osqserver.DefaultOptions.NewHostBurst, Usage: "`N` new host identifiers enrolled at once before --new-host-rate applies"},
			&cli.IntFlag{Name: "max-concurrent", Value: osqserver.DefaultOptions.MaxConcurrent, Usage: "`N` requests read and handled at once; others wait, then get 503"},
			&cli.IntFlag{Name: "max-conns", Value: osqserver.DefaultOptions.MaxConns, Usage: "`N` connections open at once"},
			&cli.Int64Flag{Name: "memory-budget", Value: osqserver.DefaultOptions.MemoryBudget, Usage: "`BYTES` of request bodies held in memory together; past it they go to temporary files"},
			&cli.Int64Flag{Name: "max-line", Value: osqserver.DefaultOptions.MaxLine, Usage: "`BYTES` of one log line (osqueryd's --logger_tls_max_linesize); a longer line is skipped and counted"},
			&cli.Int64Flag{Name: "max-answer", Value: osqserver.DefaultOptions.MaxAnswer, Usage: "`BYTES` of one distributed query's answer"},
			&cli.DurationFlag{Name: "key-cache", Value: osqserver.DefaultOptions.KeyCache, Usage: "how long (`DURATION`) a node key that checked out is trusted without asking the database; a key revoked or replaced by any process on the database is refused within min(DURATION, 1s)"},
			&cli.StringFlag{Name: "spool-dir", Usage: "`DIR` for request bodies past their memory share (default: the system's temporary directory)"},
			&cli.StringFlag{Name: "metrics-listen", Usage: "`ADDR` serving GET /metrics on its own (plain HTTP: keep it on a private address)"},
			&cli.StringFlag{Name: "retention", Usage: "prune what is older than this `AGE` (90d, 2w) at start and every hour, as pkgpersist prune --no-vacuum does"},
			&cli.StringFlag{Name: "metrics-token-file", Usage: "`FILE` holding a bearer token that GET /metrics on the API's address needs (without it or --metrics-listen, /metrics is not served)"},
			&cli.StringFlag{Name: "ui-password-file", Usage: "`FILE` holding the password of the web report at /ui/ (HTTP Basic auth as --ui-user; without it /ui/ is not served)"},
			&cli.StringFlag{Name: "ui-user", Value: "pkgpersist", Usage: "the user `NAME` the web report at /ui/ asks for"},
		},
		Action: runServe,
	}
}

func runServe(c *cli.Context) error {
	if c.NArg() > 0 {
		return &exitError{2, fmt.Errorf("serve takes no arguments (got %q)", c.Args().First())}
	}
	opt := osqserver.DefaultOptions
	var err error
	if opt.Secret, err = secretFile("enroll secret", c.String("enroll-secret-file")); err != nil {
		return err
	}
	opt.SecretField = c.String("tls-enroll-override")
	opt.Version = Version
	opt.Rate = c.Float64("rate")
	opt.NewHostRate, opt.NewHostBurst = c.Float64("new-host-rate"), c.Int("new-host-burst")
	opt.MaxConcurrent, opt.MaxConns = c.Int("max-concurrent"), c.Int("max-conns")
	opt.MemoryBudget, opt.MaxLine, opt.MaxAnswer = c.Int64("memory-budget"), c.Int64("max-line"), c.Int64("max-answer")
	opt.SpoolDir, opt.KeyCache = c.String("spool-dir"), c.Duration("key-cache")
	if f := c.String("metrics-token-file"); f != "" {
		if opt.MetricsToken, err = secretFile("metrics token", f); err != nil {
			return err
		}
	}
	if f := c.String("ui-password-file"); f != "" {
		if opt.UIPassword, err = secretFile("ui password", f); err != nil {
			return err
		}
		if opt.UIPassword == opt.Secret || opt.UIPassword == opt.MetricsToken {
			return &exitError{2, fmt.Errorf("ui password file %s holds the enroll secret or the metrics token: give the web report a password of its own", f)}
		}
		if opt.UIUser = c.String("ui-user"); opt.UIUser == "" {
			return &exitError{2, errors.New("--ui-user is empty")}
		}
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
		if store.IsPostgres(c.String("db")) && !c.IsSet("tls-cert") {
			// a self-signed certificate kept beside a SQLite file has no
			// such place here, and replicas must all present one
			// certificate, the one hosts pin
			return &exitError{2, errors.New("--db is a PostgreSQL URL: give --tls-cert and --tls-key, the certificate every replica presents")}
		}
		dbAbs, _ := filepath.Abs(c.String("db"))
		crt, err := osqserver.Certificate(c.String("tls-cert"), c.String("tls-key"), dbAbs, certNames(c.String("listen"), c.String("tls-name")))
		if err != nil {
			return &exitError{2, err}
		}
		if len(crt.Added) > 0 && !c.IsSet("tls-cert") {
			fmt.Fprintf(c.App.ErrWriter, "pkgpersist: new self-signed certificate %s for %s: hosts must pin this file again (--tls_server_certs)\n",
				crt.Path, strings.Join(crt.Added, ", "))
		}
		cert = &crt.TLS
		fmt.Fprintf(c.App.ErrWriter, "pkgpersist: TLS certificate %s (SHA-256 %s); hosts use --tls_server_certs=%s\n", crt.Path, osqserver.Fingerprint(crt.TLS), crt.Path)
	} else if c.IsSet("tls-cert") || c.IsSet("tls-key") {
		return &exitError{2, errors.New("--insecure-http and --tls-cert/--tls-key exclude each other")}
	}
	// the garbage collector works harder near the bound instead of
	// letting garbage take the process past it
	debug.SetMemoryLimit(opt.MemoryBound())
	fmt.Fprintf(c.App.ErrWriter, "pkgpersist: memory bound %d MiB (%d requests at once, %d connections, %d MiB of bodies in memory)\n",
		opt.MemoryBound()>>20, opt.MaxConcurrent, opt.MaxConns, opt.MemoryBudget>>20)
	st, err := openStore(c)
	if err != nil {
		return &exitError{1, err}
	}
	defer st.Close()
	var keep time.Duration
	if r := c.String("retention"); r != "" {
		if keep, err = parseAge(r); err != nil {
			return usageError("pkgpersist serve", "--retention: "+err.Error())
		}
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return &exitError{1, err}
	}
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, nil))
	if opt.UIPassword != "" {
		opt.UI = webreport.Handler(st, pageOptions(c.String("db"), qs), 5*time.Second)
	}
	srv := osqserver.New(st, opt, log)
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	scheme := "https"
	if cert == nil {
		scheme = "http"
	}
	if addr := c.String("metrics-listen"); addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			return &exitError{1, err}
		}
		ms := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go ms.Serve(mln)
		defer ms.Close()
		log.Info("metrics", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	if keep > 0 {
		go retain(ctx, st, keep, time.Hour, log)
	}
	log.Info("serving", "url", scheme+"://"+ln.Addr().String()+osqserver.Prefixes[0], "db", store.Describe(c.String("db")))
	if opt.UI != nil {
		log.Info("web report", "url", scheme+"://"+ln.Addr().String()+osqserver.UIPrefix, "user", opt.UIUser)
	}
	if err := srv.Serve(ctx, ln, cert); err != nil && !errors.Is(err, net.ErrClosed) {
		return &exitError{1, err}
	}
	return nil
}

// secretFile is the secret held in file (surrounding space trimmed), or
// a usage error that says whether the file is empty or cannot be read.
func secretFile(what, file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return "", &exitError{2, fmt.Errorf("%s file %s cannot be read: %w", what, file, err)}
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", &exitError{2, fmt.Errorf("%s file %s is empty", what, file)}
	}
	return secret, nil
}

// certNames are the names the self-signed certificate covers: the
// listen address (every address of this host when it listens on all),
// this host's name, localhost, and the --tls-name ones hosts dial.
func certNames(listen, extra string) []string {
	host, _, _ := net.SplitHostPort(listen)
	var names []string
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				names = append(names, ipn.IP.String())
			}
		}
	} else {
		names = append(names, host)
	}
	h, _ := os.Hostname()
	names = append(names, h, "localhost", "127.0.0.1")
	for _, n := range strings.Split(extra, ",") {
		names = append(names, strings.TrimSpace(n))
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func hostsCommand() *cli.Command {
	return &cli.Command{
		Name:  "hosts",
		Usage: "list the osqueryd hosts enrolled into pkgpersist serve",
		Description: `STATE is active; revoked (its key and its enrollments refused until --unrevoke);
unrevoked (its old key refused, its next enrollment accepted); or reenroll-allowed
(its next enrollment accepted whatever it claims). NOTE tells of enrollments
refused since the host enrolled (ALERT when one claimed other hardware or came
while its key was still good: someone else may hold the enroll secret) and of a
recent enrollment again, after which answers that would make rows disappear are
held for 30 minutes.`,
		Flags: []cli.Flag{
			dbFlag(),
			&cli.StringFlag{Name: "revoke", Usage: "revoke `HOST`'s node key; its enrollments are refused until --unrevoke"},
			&cli.StringFlag{Name: "unrevoke", Usage: "end `HOST`'s revocation: its old key stays refused, its next enrollment is accepted"},
			&cli.StringFlag{Name: "allow-reenroll", Usage: "accept `HOST`'s next enrollment whatever it claims (a reinstalled host, new hardware)"},
		},
		Action: func(c *cli.Context) error {
			st, err := openExisting(c, "serve")
			if err != nil {
				return err
			}
			defer st.Close()
			for _, op := range []struct {
				flag, done string
				do         func(context.Context, string) error
			}{{"revoke", "revoked", st.Revoke}, {"unrevoke", "unrevoked", st.Unrevoke}, {"allow-reenroll", "next enrollment allowed for", st.AllowReenroll}} {
				if h := c.String(op.flag); h != "" {
					if err := op.do(c.Context, h); err != nil {
						return &exitError{1, err}
					}
					fmt.Fprintf(c.App.Writer, "%s %s\n", op.done, output.Safe(h))
					return nil
				}
			}
			nodes, err := st.Nodes(c.Context)
			if err != nil {
				return &exitError{1, err}
			}
			w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "HOST\tOSQUERY\tEXTENSION\tENROLLED\tLAST CHECK-IN\tSTATE\tNOTE")
			for _, n := range nodes {
				ext := n.Extension
				if ext == "" {
					ext = "unknown"
				}
				state, note := nodeState(n, time.Now())
				// what a host says about itself is shown, never obeyed
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s ago\t%s\t%s\n", output.Safe(n.Host), output.Safe(n.OsqueryVersion), output.Safe(ext),
					n.Enrolled.UTC().Format(time.RFC3339), time.Since(n.LastSeen).Round(time.Second), state, output.Safe(note))
			}
			return w.Flush()
		},
	}
}

// nodeState is what hosts shows of an enrolled host's identity: its
// state (active, revoked, unrevoked: waiting for its next enrollment,
// reenroll-allowed) and a note of what an operator should know: refused
// enrollments since it enrolled (an ALERT when they claimed another
// machine or came unasked) and a recent enrollment again, whose
// disappearances are held.
func nodeState(n store.Node, now time.Time) (state, note string) {
	switch {
	case n.Revoked:
		state = "revoked"
	case n.Retired:
		state = "unrevoked"
	case n.AllowReenroll:
		state = "reenroll-allowed"
	default:
		state = "active"
	}
	var notes []string
	if n.Refusals > 0 {
		r := n.LastRefusal
		alert := ""
		if r.Reason == "hardware_changed" || r.Reason == "reenroll_unsolicited" {
			alert = "ALERT: "
		}
		notes = append(notes, fmt.Sprintf("%s%d enrollment(s) refused, last %s: %s (%s)", alert, n.Refusals, r.At.UTC().Format(time.RFC3339), r.Reason, r.Detail))
	}
	if !n.Reenrolled.IsZero() && now.Sub(n.Reenrolled) < reenrollHold {
		notes = append(notes, fmt.Sprintf("enrolled again %s: answers that make rows disappear are held until %s",
			n.Reenrolled.UTC().Format(time.RFC3339), n.Reenrolled.Add(reenrollHold).UTC().Format(time.RFC3339)))
	}
	return state, strings.Join(notes, "; ")
}

// reenrollHold is how long after a host enrolled again the rows its
// answers would make disappear are held instead of applied.
const reenrollHold = 30 * time.Minute

// enrolledTargets are the enrolled, unrevoked hosts (only those named when
// names is not empty).
func enrolledTargets(c *cli.Context, st *store.DB, names []string) ([]hunt.Target, error) {
	nodes, err := st.Nodes(c.Context)
	if err != nil {
		return nil, err
	}
	// missing is what is still to be found: a separate set, so finding
	// the last named host does not turn the selection into "all"
	want, missing := map[string]bool{}, map[string]bool{}
	for _, n := range names {
		want[n], missing[n] = true, true
	}
	// one batch for the whole hunt: one question to the store a poll
	// tells which hosts have answered
	batch, err := hunt.NewBatch(st, 0)
	if err != nil {
		return nil, err
	}
	var ts []hunt.Target
	for _, n := range nodes {
		if n.Revoked || (len(want) > 0 && !want[n.Host]) {
			continue
		}
		delete(missing, n.Host)
		ts = append(ts, &hunt.Enrolled{Queue: st, Batch: batch, Host: store.EnrolledHost(n.Host), HostID: n.HostID, Identity: st, Hold: reenrollHold})
	}
	for n := range missing {
		return nil, fmt.Errorf("no enrolled host %q (see pkgpersist hosts)", n)
	}
	if len(ts) == 0 {
		return nil, errors.New("no enrolled hosts (start pkgpersist serve and point osqueryd at it)")
	}
	return ts, nil
}
