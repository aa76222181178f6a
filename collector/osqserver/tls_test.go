package osqserver

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCertificate: the self-signed certificate is created once and reused,
// is an ECDSA CA for the given names (so osqueryd can pin it), and a given
// certificate/key pair is loaded instead; half a pair is refused.
func TestCertificate(t *testing.T) {
	base := filepath.Join(t.TempDir(), "p.db")
	first, err := Certificate("", "", base, []string{"127.0.0.1", "collector.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	c1, path := first.TLS, first.Path
	second, err := Certificate("", "", base, []string{"collector.example.org"})
	if err != nil || Fingerprint(c1) != Fingerprint(second.TLS) || second.Added != nil {
		t.Fatalf("second start made a new certificate: %v %v", err, second.Added)
	}
	data, _ := os.ReadFile(path)
	block, _ := pem.Decode(data)
	x, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if x.PublicKeyAlgorithm != x509.ECDSA || !x.IsCA || x.VerifyHostname("collector.example.org") != nil || x.VerifyHostname("127.0.0.1") != nil {
		t.Errorf("certificate: alg %v CA %v names %v %v", x.PublicKeyAlgorithm, x.IsCA, x.DNSNames, x.IPAddresses)
	}
	sum := sha256.Sum256(block.Bytes)
	if got := strings.ReplaceAll(Fingerprint(c1), ":", ""); got != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Errorf("fingerprint %s", Fingerprint(c1))
	}
	if info, _ := os.Stat(base + ".key"); info.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", info.Mode().Perm())
	}
	given, err := Certificate(path, base+".key", "/nonexistent/ignored", nil)
	if err != nil || given.Path != path || Fingerprint(given.TLS) != Fingerprint(c1) {
		t.Errorf("given pair: %v %s", err, given.Path)
	}
	if _, err := Certificate(path, "", base, nil); err == nil {
		t.Error("half a pair accepted")
	}
}

// TestCertificateNamesChange: a name the kept certificate lacks makes it
// anew, covering it, and says which; a real handshake then verifies the
// name.
func TestCertificateNamesChange(t *testing.T) {
	base := filepath.Join(t.TempDir(), "p.db")
	old, err := Certificate("", "", base, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := Certificate("", "", base, []string{"127.0.0.1", "collector.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(old.TLS) == Fingerprint(renewed.TLS) || strings.Join(renewed.Added, ",") != "collector.example.org" {
		t.Fatalf("names changed, certificate kept (added %v)", renewed.Added)
	}
	if err := Handshake(renewed, "collector.example.org"); err != nil {
		t.Error(err)
	}
	if err := Handshake(renewed, "elsewhere.example.org"); err == nil {
		t.Error("a name the certificate lacks verified")
	}
}
