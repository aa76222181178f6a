package hunt

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// idFiles are where a Linux machine keeps its identity, in the order they
// are believed: systemd's machine-id (machine-id(5)), D-Bus's older one
// (the same id where systemd links them), then the firmware's SMBIOS
// system UUID, which only root can read. A root (an image, a container's
// filesystem) has only the first two: the firmware is the machine's.
var idFiles = []struct {
	path, kind string
	rootToo    bool
}{
	{"/etc/machine-id", "machine-id", true},
	{"/var/lib/dbus/machine-id", "machine-id", true},
	{"/sys/class/dmi/id/product_uuid", "product-uuid", false},
}

const hostnameFile = "/etc/hostname"

// factsPrefix marks what a file says on the machine (m:) and under the
// root hunted (r:).
const machinePrefix, rootPrefix = "m:", "r:"

// facts are what a target read of its identity: the first line of each
// file of idFiles and hostnameFile by prefixed path, the root made
// absolute with its links resolved, and uname -n.
type facts struct {
	files map[string]string
	root  string
	uname string
}

// The checks below are plain byte loops rather than regular expressions:
// compiling hostname's bounded repetition at package init cost every run
// of the binary (even --version) about a millisecond. Each says which
// expression it is exactly equal to; TestIDChecksMatchRegexps and
// FuzzIDChecks compare them.

// isMachineID is ^[0-9a-f]{32}$.
func isMachineID(v string) bool {
	return len(v) == 32 && allBytes(v, isLowerHex)
}

// isUUID is ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$.
func isUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch i {
		case 8, 13, 18, 23:
			if v[i] != '-' {
				return false
			}
		default:
			if !isLowerHex(v[i]) {
				return false
			}
		}
	}
	return true
}

// isHostname is ^[A-Za-z0-9_]([A-Za-z0-9._-]{0,252})$. Every byte must be
// ASCII, so the expression's count of characters is the count of bytes.
func isHostname(v string) bool {
	return len(v) >= 1 && len(v) <= 253 && isWordByte(v[0]) &&
		allBytes(v[1:], func(c byte) bool { return isWordByte(c) || c == '.' || c == '-' })
}

func allBytes(v string, ok func(byte) bool) bool {
	for i := 0; i < len(v); i++ {
		if !ok(v[i]) {
			return false
		}
	}
	return true
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

func isWordByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

// placeholderUUIDs are SMBIOS UUIDs firmware ships on many machines at
// once: no identity.
var placeholderUUIDs = map[string]bool{
	"00000000-0000-0000-0000-000000000000": true,
	"ffffffff-ffff-ffff-ffff-ffffffffffff": true,
	"03000200-0400-0500-0006-000700080009": true,
}

// identity is the first valid id of idFiles under prefix (rootOnly: the
// ones a root has), as kind:id; "" for none. What a host sends is not
// trusted: anything but a well-formed id is no id.
func identity(f facts, prefix string, rootOnly bool) string {
	for _, id := range idFiles {
		if rootOnly && !id.rootToo {
			continue
		}
		v := strings.ToLower(strings.TrimSpace(f.files[prefix+id.path]))
		switch {
		case id.kind == "machine-id" && isMachineID(v) && v != strings.Repeat("0", 32):
		case id.kind == "product-uuid" && isUUID(v) && !placeholderUUIDs[v]:
		default:
			continue
		}
		return id.kind + ":" + v
	}
	return ""
}

func hostname(v string) string {
	v = strings.TrimSpace(v)
	if !isHostname(v) {
		return ""
	}
	return v
}

// machineOf is the machine the facts describe. A root with an identity of
// its own (an image of another machine) is that machine; one without, or
// with the hunting machine's own (a bind mount, a snapshot of it), is the
// machine's identity with the root, so that it never mixes with the
// machine's own results. Its host name is the root's /etc/hostname, else
// the machine's.
func machineOf(f facts) store.Machine {
	own := identity(f, machinePrefix, false)
	m := store.Machine{Root: f.root, Hostname: hostname(f.files[machinePrefix+hostnameFile])}
	if m.Hostname == "" {
		m.Hostname = hostname(f.uname)
	}
	if f.root == "/" {
		m.ID = own
		return m
	}
	if h := hostname(f.files[rootPrefix+hostnameFile]); h != "" {
		m.Hostname = h
	}
	switch rootID := identity(f, rootPrefix, true); {
	case rootID != "" && rootID != own:
		m.ID = rootID
	case own != "" && f.root != "":
		m.ID = own + " root " + f.root
	}
	return m
}

// idPaths are the files to read: on the machine, and under the root
// unless it is the machine's own.
func idPaths(rooted bool) (prefixed []string) {
	for _, id := range idFiles {
		prefixed = append(prefixed, machinePrefix+id.path)
	}
	prefixed = append(prefixed, machinePrefix+hostnameFile)
	if rooted {
		for _, id := range idFiles {
			if id.rootToo {
				prefixed = append(prefixed, rootPrefix+id.path)
			}
		}
		prefixed = append(prefixed, rootPrefix+hostnameFile)
	}
	return prefixed
}

// localMachine reads the identity of this machine and of root on it.
func localMachine(root string) store.Machine {
	f := facts{files: map[string]string{}}
	if abs, err := filepath.Abs(root); err == nil {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			f.root = real
		}
	}
	f.uname, _ = os.Hostname()
	for _, p := range idPaths(f.root != "/") {
		file := p[len(machinePrefix):]
		if strings.HasPrefix(p, rootPrefix) {
			if f.root == "" {
				continue
			}
			file = filepath.Join(f.root, file)
		}
		f.files[p] = firstLine(file)
	}
	return machineOf(f)
}

// firstLine is the first line of a small file ("" when unreadable).
func firstLine(path string) string {
	fh, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer fh.Close()
	b, _ := io.ReadAll(io.LimitReader(fh, 256))
	line, _, _ := strings.Cut(string(b), "\n")
	return line
}

// identifyScript is the shell that prints a remote host's facts after
// the lines before it: "root=DIR", "uname=NAME", then "PATH=LINE" for each
// of idPaths, root being the shell variable $r.
func identifyScript(root string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `r=%s; echo "root=$(cd -- "$r" 2>/dev/null && pwd -P)"; echo "uname=$(uname -n)"`, shellQuote(root))
	for _, p := range idPaths(root != "/") {
		file := shellQuote(p[len(machinePrefix):])
		if strings.HasPrefix(p, rootPrefix) {
			file = `"$r"` + file
		}
		fmt.Fprintf(&b, `; echo %s"=$(head -c 256 %s 2>/dev/null | head -n 1)"`, shellQuote(p), file)
	}
	return b.String()
}

// readFacts reads what identifyScript printed.
func readFacts(lines []string) facts {
	f := facts{files: map[string]string{}}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, "=")
		switch {
		case !ok:
		case k == "root":
			f.root = v
		case k == "uname":
			f.uname = v
		default:
			f.files[k] = v
		}
	}
	return f
}

// Answer is what a target returned: each query's answer and the machine
// it found.
type Answer struct {
	Results []BatchResult
	Machine store.Machine
	// Notes are what the host's reasons also say, whatever its state: how
	// it was reached when that was not plain (retries, the remote cache).
	Notes []string
	// Uploaded is how many bytes of programs were copied to the host.
	Uploaded int64
}
