package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/unitcheck"
)

const (
	watchUnit = "../../dist/systemd/pkgpersist-watch.service"
	serveUnit = "../../dist/systemd/pkgpersist-serve.service"
	serveEnv  = "../../dist/etc/serve.env"
)

// TestUnitsVerify: systemd-analyze verify finds nothing to say of either
// unit, with ExecStart's program the built pkgpersist and the man pages
// their Documentation= names written by that program.
func TestUnitsVerify(t *testing.T) {
	bin := buildCLI(t)
	man := t.TempDir()
	if code, _, errs := runCLI("man", "--out", filepath.Join(man, "man1")); code != 0 {
		t.Fatalf("man: exit %d: %s", code, errs)
	}
	for _, u := range []string{watchUnit, serveUnit} {
		unitcheck.Verify(t, u, bin, man)
	}
}

// TestUnitsRestart: a unit restarts after a failure but not after a
// usage error (exit 2), which would only fail again every RestartSec,
// forever; and its Documentation= names sections the README has.
func TestUnitsRestart(t *testing.T) {
	readme := readFile(t, "../../README.md")
	for _, u := range []string{watchUnit, serveUnit} {
		s := unitcheck.Settings(readFile(t, u))
		if !slices.Equal(s["Restart"], []string{"on-failure"}) || !slices.Equal(s["RestartPreventExitStatus"], []string{"2"}) {
			t.Errorf("%s: Restart=%q RestartPreventExitStatus=%q", u, s["Restart"], s["RestartPreventExitStatus"])
		}
		for _, d := range strings.Fields(strings.Join(s["Documentation"], " ")) {
			if _, anchor, ok := strings.Cut(d, "#"); ok && !slices.Contains(readmeAnchors(readme), anchor) {
				t.Errorf("%s: Documentation=%s: the README has no section #%s", u, d, anchor)
			}
		}
	}
}

// readmeAnchors are the anchors GitHub gives the README's headings:
// lower case, spaces as hyphens, other punctuation dropped.
func readmeAnchors(readme string) []string {
	var out []string
	for _, h := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(readme, -1) {
		a := strings.Map(func(r rune) rune {
			switch {
			case r == ' ':
				return '-'
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				return r
			}
			return -1
		}, strings.ToLower(h[1]))
		out = append(out, a)
	}
	return out
}

// TestWatchUnitFlags: the unit's command line is one pkgpersist watch
// accepts: with a bad --interval added last, it fails on that, not on
// its own flags.
func TestWatchUnitFlags(t *testing.T) {
	args := unitcheck.ExecStart(t, readFile(t, watchUnit))[1:]
	code, _, errs := runCLI(append(args, "--interval", "0")...)
	if code != 2 || !strings.Contains(errs, "--interval must be positive") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// TestServeUnitFlags: the serve unit's command line, with the credential
// directory a real one and $PKGPERSIST_SERVE_ARGS each setting serve.env
// shows (the one it sets and those commented out), the credentials they
// name present, is one pkgpersist
// serve accepts: with a --queries directory that does not exist added
// last, it fails on that (before it listens or writes anything), not on
// a flag.
func TestServeUnitFlags(t *testing.T) {
	args := unitcheck.ExecStart(t, readFile(t, serveUnit))[1:]
	creds := t.TempDir()
	// each secret its own: serve refuses a web report password that opens
	// anything else
	for _, c := range []string{"enroll-secret", "ui-password", "metrics-token"} {
		mustNil(t, os.WriteFile(filepath.Join(creds, c), []byte(c+"-s3cret\n"), 0o600))
	}
	variants := regexp.MustCompile(`(?m)^#?PKGPERSIST_SERVE_ARGS="([^"]*)"$`).FindAllStringSubmatch(readFile(t, serveEnv), -1)
	if len(variants) < 3 {
		t.Fatalf("serve.env shows %d settings of PKGPERSIST_SERVE_ARGS", len(variants))
	}
	known := serveFlagNames()
	for _, v := range variants {
		var line []string
		for _, a := range args {
			switch {
			case a == "$PKGPERSIST_SERVE_ARGS":
				// serve.env names credentials by their path for system
				// services, where systemd does not substitute
				line = append(line, strings.Fields(strings.ReplaceAll(v[1], "/run/credentials/pkgpersist-serve.service", creds))...)
			default:
				line = append(line, strings.ReplaceAll(a, "${CREDENTIALS_DIRECTORY}", creds))
			}
		}
		if f := unknownFlag(line, known); f != "" {
			t.Errorf("%q: serve has no %s", v[1], f)
			continue
		}
		code, _, errs := runCLI(append(line, "--queries", filepath.Join(creds, "none"))...)
		if code != 2 || !strings.Contains(errs, filepath.Join(creds, "none")) {
			t.Errorf("%q: exit %d: %s", v[1], code, errs)
		}
	}
}

// TestServeUnitHardening: the serve unit runs as a user of its own with
// no capability and the sandbox settings, and reads its secret as a
// credential, failing the start when it is missing.
func TestServeUnitHardening(t *testing.T) {
	s := unitcheck.Settings(readFile(t, serveUnit))
	want := map[string]string{
		"DynamicUser": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "", "NoNewPrivileges": "yes",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
		"ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
		"ProtectControlGroups": "yes", "RestrictNamespaces": "yes", "RestrictSUIDSGID": "yes",
		"LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native",
		"StateDirectory": "pkgpersist", "UMask": "0077",
		"EnvironmentFile":    "/etc/pkgpersist/serve.env",
		"LoadCredential":     "enroll-secret:/etc/pkgpersist/enroll-secret",
		"AssertFileNotEmpty": "/etc/pkgpersist/enroll-secret",
	}
	for k, v := range want {
		if !slices.Contains(s[k], v) {
			t.Errorf("%s=%s: the unit has %q", k, v, s[k])
		}
	}
	if got := s["SystemCallFilter"]; !slices.Contains(got, "@system-service") {
		t.Errorf("SystemCallFilter: %q", got)
	}
	if got := strings.Fields(strings.Join(s["RestrictAddressFamilies"], " ")); !slices.Equal(got, []string{"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"}) {
		t.Errorf("RestrictAddressFamilies: %q", got)
	}
	if _, ok := s["User"]; ok {
		t.Errorf("User= beside DynamicUser=: %q", s["User"])
	}
}

func serveFlagNames() map[string]bool {
	known := map[string]bool{}
	for _, f := range serveCommand().Flags {
		for _, n := range f.Names() {
			known["--"+n] = true
		}
	}
	return known
}

// unknownFlag is the first --flag in args that known lacks.
func unknownFlag(args []string, known map[string]bool) string {
	for _, a := range args {
		if strings.HasPrefix(a, "--") && !known[a] {
			return a
		}
	}
	return ""
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	mustNil(t, err)
	return string(b)
}
