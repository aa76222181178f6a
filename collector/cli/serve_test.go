package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/osqserver"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// TestHostsRevokeIsSticky: a revoked host cannot enroll again until
// hosts --unrevoke; --allow-reenroll lets new hardware in once.
func TestHostsRevokeIsSticky(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "p.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	enroll := func(uuid string) error {
		_, err := st.EnrollNode(ctx, store.Enrollment{Identifier: "a", Hardware: store.Hardware{UUID: uuid}, KeyHash: store.KeyHash(uuid + time.Now().String()), At: time.Now()})
		return err
	}
	refused := func(err error) string {
		var r *store.EnrollRefused
		if errors.As(err, &r) {
			return r.Reason
		}
		return ""
	}
	if err := enroll("U1"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if code, _, errs := runCLI("hosts", "--db", db, "--revoke", "a"); code != 0 {
		t.Fatalf("--revoke: %s", errs)
	}
	st, _ = store.Open(db)
	defer st.Close()
	if r := refused(enroll("U1")); r != "revoked" {
		t.Errorf("enrollment of a revoked host: %q", r)
	}
	if code, _, errs := runCLI("hosts", "--db", db, "--unrevoke", "a"); code != 0 {
		t.Fatalf("--unrevoke: %s", errs)
	}
	if r := refused(enroll("U2")); r != "hardware_changed" {
		t.Errorf("new hardware after unrevoke: %q", r)
	}
	if err := enroll("U1"); err != nil {
		t.Errorf("enrollment after unrevoke: %v", err)
	}
	if code, _, errs := runCLI("hosts", "--db", db, "--allow-reenroll", "a"); code != 0 {
		t.Fatalf("--allow-reenroll: %s", errs)
	}
	if err := enroll("U2"); err != nil {
		t.Errorf("allowed enrollment: %v", err)
	}
	if code, _, _ := runCLI("hosts", "--db", db, "--unrevoke", "nobody"); code == 0 {
		t.Error("--unrevoke of an unknown host succeeded")
	}
}

// TestREADMEServeExample: the certificate the README's serve command
// makes passes the host-name check of an osqueryd using the README's
// flagfile (--tls_hostname), in a real TLS handshake.
func TestREADMEServeExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var serve []string
	var hostname string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "pkgpersist serve ") {
			serve = strings.Fields(line)
		}
		if h, ok := strings.CutPrefix(line, "--tls_hostname="); ok {
			hostname, _, _ = strings.Cut(h, ":")
		}
	}
	if serve == nil || hostname == "" {
		t.Fatal("README has no serve example or no --tls_hostname")
	}
	flag := func(name string) string {
		for i, f := range serve {
			if f == name && i+1 < len(serve) {
				return serve[i+1]
			}
		}
		return ""
	}
	crt, err := osqserver.Certificate("", "", filepath.Join(t.TempDir(), "p.db"), certNames(flag("--listen"), flag("--tls-name")))
	if err != nil {
		t.Fatal(err)
	}
	if err := osqserver.Handshake(crt, hostname); err != nil {
		t.Errorf("README's serve example and flagfile: %v", err)
	}
}
