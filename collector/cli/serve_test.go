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
	// hostsLine is host a's line of the hosts listing
	hostsLine := func() string {
		t.Helper()
		code, out, errs := runCLI("hosts", "--db", db)
		if code != 0 {
			t.Fatalf("hosts: %s", errs)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "a ") {
				return l
			}
		}
		t.Fatalf("host a not listed:\n%s", out)
		return ""
	}
	shows := func(step string, want ...string) {
		t.Helper()
		l := hostsLine()
		for _, w := range want {
			if !strings.Contains(l, w) {
				t.Errorf("%s: hosts shows %q, want %q in it", step, l, w)
			}
		}
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
	shows("enrolled", " active ")
	if r := refused(enroll("U1")); r != "reenroll_unsolicited" {
		t.Errorf("enrollment while the key is good: %q", r)
	}
	shows("unsolicited enrollment", " active ", "ALERT: 1 enrollment(s) refused", "reenroll_unsolicited")
	st.Close()
	if code, _, errs := runCLI("hosts", "--db", db, "--revoke", "a"); code != 0 {
		t.Fatalf("--revoke: %s", errs)
	}
	st, _ = store.Open(db)
	defer st.Close()
	if r := refused(enroll("U1")); r != "revoked" {
		t.Errorf("enrollment of a revoked host: %q", r)
	}
	shows("revoked", " revoked ", "2 enrollment(s) refused", ": revoked (")
	if code, _, errs := runCLI("hosts", "--db", db, "--unrevoke", "a"); code != 0 {
		t.Fatalf("--unrevoke: %s", errs)
	}
	if r := refused(enroll("U2")); r != "hardware_changed" {
		t.Errorf("new hardware after unrevoke: %q", r)
	}
	shows("unrevoked, new hardware refused", " unrevoked ", "ALERT: 3 enrollment(s) refused", "hardware_changed")
	if err := enroll("U1"); err != nil {
		t.Errorf("enrollment after unrevoke: %v", err)
	}
	shows("enrolled again", " active ", "enrolled again ")
	if l := hostsLine(); strings.Contains(l, "refused") {
		t.Errorf("refusals before the last enrollment still shown: %s", l)
	}
	if code, _, errs := runCLI("hosts", "--db", db, "--allow-reenroll", "a"); code != 0 {
		t.Fatalf("--allow-reenroll: %s", errs)
	}
	shows("allowed", " reenroll-allowed ")
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
