package osqserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cert is the server's certificate and the file hosts pin with
// --tls_server_certs. Added lists the names a self-signed certificate was
// made again for: the one kept beside the database lacked them.
type Cert struct {
	TLS   tls.Certificate
	Path  string
	Added []string
}

// Certificate loads certFile and keyFile, or, when both are empty, the
// self-signed ECDSA certificate kept at base+".crt"/".key": created on
// first use for the given host names and addresses, and made again when
// it does not cover them all (a host checks the name it dials against
// the certificate, so a name missing there is a host that cannot
// connect).
func Certificate(certFile, keyFile, base string, names []string) (Cert, error) {
	if (certFile == "") != (keyFile == "") {
		return Cert{}, errors.New("--tls-cert and --tls-key go together")
	}
	var added []string
	if certFile == "" {
		certFile, keyFile = base+".crt", base+".key"
		var err error
		if added, err = missingNames(certFile, names); err != nil {
			return Cert{}, err
		}
		if added != nil {
			if err := selfSigned(certFile, keyFile, names); err != nil {
				return Cert{}, fmt.Errorf("creating a self-signed certificate: %w", err)
			}
		}
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return Cert{}, fmt.Errorf("TLS certificate: %w", err)
	}
	return Cert{TLS: c, Path: certFile, Added: added}, nil
}

// missingNames lists the names the certificate at path does not cover;
// all of them (never nil) when there is none yet.
func missingNames(path string, names []string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return append([]string{}, names...), nil
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	x, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var missing []string
	for _, n := range names {
		if n != "" && x.VerifyHostname(n) != nil {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

// Fingerprint is the SHA-256 of the certificate, as openssl x509
// -fingerprint -sha256 prints it.
func Fingerprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

func selfSigned(certFile, keyFile string, names []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "pkgpersist collector"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// it is its own CA, so osqueryd can pin it as --tls_server_certs
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if n != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// HTTPServer is the API's http.Server: TLS 1.2 or later when cert is
// given, timeouts that cut slow clients off, and net/http's own errors
// (TLS handshake failures, plain HTTP on the TLS port) logged and counted.
func (s *Server) HTTPServer(cert *tls.Certificate) *http.Server {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.opt.HeaderTimeout,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       s.opt.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(errorCounter{s}, "", 0),
		ConnState:         trackIdle,
	}
	if cert != nil {
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}}
	}
	return hs
}

// Serve serves on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener, cert *tls.Certificate) error {
	hs := s.HTTPServer(cert)
	done := make(chan error, 1)
	wl := watchListener{Listener: ln, s: s, tls: cert != nil, slots: make(chan struct{}, max(s.opt.MaxConns, 1))}
	go func() {
		if cert != nil {
			done <- hs.ServeTLS(wl, "", "")
		} else {
			done <- hs.Serve(wl)
		}
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	}
}

// errorCounter receives net/http's error log lines.
type errorCounter struct{ s *Server }

func (e errorCounter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	reason := "connection_error"
	switch {
	case strings.Contains(msg, "TLS handshake error"):
		reason = "tls_handshake"
	}
	e.s.Metrics.Add("pkgpersist_rejected_total", `reason="`+reason+`"`, 1)
	e.s.log.Warn("connection refused", "reason", reason, "error", msg)
	return len(p), nil
}

// watchListener wraps each connection to see what net/http does not
// report: a plain HTTP request on the TLS port (answered with a 400 and
// not logged), and a client cut off by the header timeout (slow loris).
// It also bounds the connections open at once (MaxConns): past them,
// the next waits in the kernel's backlog.
type watchListener struct {
	net.Listener
	s     *Server
	tls   bool
	slots chan struct{}
}

func (l watchListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return c, err
	}
	return &watchedConn{Conn: c, s: l.s, checked: !l.tls, accepted: time.Now(), release: func() { <-l.slots }}, nil
}

type watchedConn struct {
	net.Conn
	s       *Server
	checked bool
	// idle is set while net/http waits for a kept-alive connection's next
	// request: a timeout then is the idle timeout, not a slow client
	idle atomic.Bool
	// net/http ends its background read of a connection whose handler
	// returned by setting a read deadline long past (time.Unix(1, 0)):
	// the timeout that follows is its own doing, not the client's
	accepted time.Time
	aborted  atomic.Bool
	release  func()
	closed   sync.Once
}

func (c *watchedConn) Close() error {
	c.closed.Do(c.release)
	return c.Conn.Close()
}

func (c *watchedConn) SetReadDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Before(c.accepted))
	return c.Conn.SetReadDeadline(t)
}

func (c *watchedConn) SetDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Before(c.accepted))
	return c.Conn.SetDeadline(t)
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.checked && n > 0 {
		c.checked = true
		if p[0] != 0x16 { // TLS handshake record type
			c.s.refuseConn("plain_http", c.RemoteAddr())
		}
	}
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() && !c.idle.Load() && !c.aborted.Load() {
		c.s.refuseConn("slow_client", c.RemoteAddr())
	}
	return n, err
}

// trackIdle is the http.Server's ConnState hook.
func trackIdle(c net.Conn, state http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if w, ok := c.(*watchedConn); ok {
		w.idle.Store(state == http.StateIdle)
	}
}

func (s *Server) refuseConn(reason string, addr net.Addr) {
	s.Metrics.Add("pkgpersist_rejected_total", `reason="`+reason+`"`, 1)
	s.log.Warn("connection refused", "reason", reason, "remote", addr.String())
}

// Handshake runs a TLS handshake over loopback against c as a host
// pinning c.Path would (osqueryd's --tls_server_certs), dialing name:
// it fails where such a host fails its name check.
func Handshake(c Cert, name string) error {
	pemData, err := os.ReadFile(c.Path)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return fmt.Errorf("%s: no certificate", c.Path)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c.TLS}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		if conn, err := ln.Accept(); err == nil {
			conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name, MinVersion: tls.VersionTLS12})
	if err != nil {
		return fmt.Errorf("TLS handshake as %s: %w", name, err)
	}
	return conn.Close()
}
