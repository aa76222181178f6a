package hunt

import (
	"regexp"
	"strings"
	"testing"
)

// The expressions the byte checks of machine.go replace: the reference
// they are compared with, and what FuzzMachineFacts checks results by.
var (
	machineIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)
	uuidRe      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	hostnameRe  = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9._-]{0,252})$`)
)

// idCheckInputs are the edges of each expression: lengths one off, each
// class's bounds and their neighbours, upper case hex, a trailing newline
// (which $ does not accept), non-ASCII and invalid UTF-8.
func idCheckInputs() []string {
	hex32 := "0123456789abcdef0123456789abcdef"
	uuid := "4c4c4544-0042-3510-8051-b4c04f4a4e32"
	in := []string{
		"", hex32, hex32[:31], hex32 + "0", strings.ToUpper(hex32), hex32[:31] + "g", hex32[:31] + "/",
		hex32[:31] + ":", hex32[:31] + "`", hex32 + "\n", "\n" + hex32[1:],
		uuid, strings.ToUpper(uuid), uuid[:35], uuid + "0", strings.ReplaceAll(uuid, "-", "0"),
		uuid[:8] + "0" + uuid[9:], uuid[:9] + "-" + uuid[10:], uuid + "\n", hex32 + "0000",
		"a", "_", ".", "-", "vm", "_vm", ".vm", "-vm", "vm.example-1_2", "vm ", " vm", "v m",
		"vm\n", "vm\x00", "é", "vé", "v\xff", "\xffv", "Z", "z", "9", "@", "[", "{", "/", "~",
		strings.Repeat("a", 253), strings.Repeat("a", 254), "_" + strings.Repeat(".", 252),
		"_" + strings.Repeat("-", 253), strings.Repeat("é", 100),
	}
	return in
}

func TestIDChecksMatchRegexps(t *testing.T) {
	for _, v := range idCheckInputs() {
		compareIDChecks(t, v)
	}
}

func FuzzIDChecks(f *testing.F) {
	for _, v := range idCheckInputs() {
		f.Add(v)
	}
	f.Fuzz(compareIDChecks)
}

func compareIDChecks(t *testing.T, v string) {
	for _, c := range []struct {
		name string
		re   *regexp.Regexp
		fn   func(string) bool
	}{
		{"machine-id", machineIDRe, isMachineID},
		{"uuid", uuidRe, isUUID},
		{"hostname", hostnameRe, isHostname},
	} {
		if want, got := c.re.MatchString(v), c.fn(v); got != want {
			t.Errorf("%s(%q) = %v, the expression %v", c.name, v, got, want)
		}
	}
}
