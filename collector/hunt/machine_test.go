package hunt

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

const (
	idA = "0123456789abcdef0123456789abcdef"
	idB = "fedcba9876543210fedcba9876543210"
)

func TestMachineOf(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		root  string
		want  store.Machine
	}{
		{"systemd", map[string]string{"m:/etc/machine-id": idA, "m:/var/lib/dbus/machine-id": idB, "m:/etc/hostname": "vm"}, "/",
			store.Machine{ID: "machine-id:" + idA, Hostname: "vm", Root: "/"}},
		{"upper case and blanks", map[string]string{"m:/etc/machine-id": " " + strings.ToUpper(idA) + " "}, "/",
			store.Machine{ID: "machine-id:" + idA, Hostname: "uname", Root: "/"}},
		{"uninitialized: D-Bus's", map[string]string{"m:/etc/machine-id": "uninitialized", "m:/var/lib/dbus/machine-id": idB}, "/",
			store.Machine{ID: "machine-id:" + idB, Hostname: "uname", Root: "/"}},
		{"zeros, then firmware", map[string]string{"m:/etc/machine-id": strings.Repeat("0", 32), "m:/sys/class/dmi/id/product_uuid": "4C4C4544-0042-3510-8051-B4C04F4A4E32"}, "/",
			store.Machine{ID: "product-uuid:4c4c4544-0042-3510-8051-b4c04f4a4e32", Hostname: "uname", Root: "/"}},
		{"firmware placeholder", map[string]string{"m:/sys/class/dmi/id/product_uuid": "03000200-0400-0500-0006-000700080009"}, "/",
			store.Machine{Hostname: "uname", Root: "/"}},
		{"bad host name", map[string]string{"m:/etc/machine-id": idA, "m:/etc/hostname": "a b;c"}, "/",
			store.Machine{ID: "machine-id:" + idA, Hostname: "uname", Root: "/"}},
		{"image of another machine", map[string]string{"m:/etc/machine-id": idA, "r:/etc/machine-id": idB, "r:/etc/hostname": "db"}, "/mnt/db",
			store.Machine{ID: "machine-id:" + idB, Hostname: "db", Root: "/mnt/db"}},
		{"root without identity", map[string]string{"m:/etc/machine-id": idA, "m:/etc/hostname": "vm"}, "/srv/img",
			store.Machine{ID: "machine-id:" + idA + " root /srv/img", Hostname: "vm", Root: "/srv/img"}},
		{"root with the machine's own identity", map[string]string{"m:/etc/machine-id": idA, "r:/var/lib/dbus/machine-id": idA}, "/snap",
			store.Machine{ID: "machine-id:" + idA + " root /snap", Hostname: "uname", Root: "/snap"}},
		{"a root has no firmware", map[string]string{"m:/sys/class/dmi/id/product_uuid": "4c4c4544-0042-3510-8051-b4c04f4a4e32"}, "/img",
			store.Machine{ID: "product-uuid:4c4c4544-0042-3510-8051-b4c04f4a4e32 root /img", Hostname: "uname", Root: "/img"}},
		{"nothing known", map[string]string{}, "/img", store.Machine{Hostname: "uname", Root: "/img"}},
	}
	for _, c := range cases {
		if got := machineOf(facts{files: c.files, root: c.root, uname: "uname"}); got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

// TestIdentifyScriptAgrees: what a remote host's shell prints of its
// identity is what the collector reads of its own, for the machine and
// for roots with and without an identity, reached by a link.
func TestIdentifyScriptAgrees(t *testing.T) {
	own, bare := t.TempDir(), t.TempDir()
	for _, f := range []struct{ path, text string }{
		{"etc/machine-id", idB + "\n"},
		{"etc/hostname", "db\nignored\n"},
	} {
		p := filepath.Join(own, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(bare, link); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{"/", own, bare, link} {
		out, err := exec.Command("sh", "-c", identifyScript(root)).Output()
		if err != nil {
			t.Fatalf("%s: %v", root, err)
		}
		remote := machineOf(readFacts(strings.Split(string(out), "\n")))
		if local := localMachine(root); remote != local {
			t.Errorf("%s:\nremote %+v\n local %+v", root, remote, local)
		}
	}
	if m := localMachine(own); m.ID != "machine-id:"+idB || m.Hostname != "db" {
		t.Errorf("root with its own identity: %+v", m)
	}
	if m := localMachine(link); m.Root != bare {
		t.Errorf("a root reached by a link: %+v", m)
	}
}

// FuzzMachineFacts: whatever a host prints of its identity, the machine
// read from it has an identity that is none, or a well-formed id of a
// known kind (with the root when the root is not the machine), and a host
// name that is none or a plain one.
func FuzzMachineFacts(f *testing.F) {
	for _, s := range []string{
		"root=/\nuname=vm\nm:/etc/machine-id=" + idA + "\nm:/etc/hostname=vm\n",
		"root=/srv/img\nuname=vm\nm:/etc/machine-id=" + idA + "\nr:/etc/machine-id=" + idB + "\nr:/etc/hostname=db\n",
		"root=/img\nm:/sys/class/dmi/id/product_uuid=4C4C4544-0042-3510-8051-B4C04F4A4E32\n",
		"root=\nuname=a b\nm:/etc/machine-id=uninitialized\n=\nroot=/x\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, out string) {
		fs := readFacts(strings.Split(out, "\n"))
		m := machineOf(fs)
		if m.Hostname != "" && !hostnameRe.MatchString(m.Hostname) {
			t.Fatalf("host name %q", m.Hostname)
		}
		if m.ID == "" {
			return
		}
		id, root, rooted := strings.Cut(m.ID, " root ")
		kind, v, _ := strings.Cut(id, ":")
		switch {
		case kind == "machine-id" && machineIDRe.MatchString(v):
		case kind == "product-uuid" && uuidRe.MatchString(v):
		default:
			t.Fatalf("identity %q", m.ID)
		}
		if rooted && (root != fs.root || root == "/" || root == "") {
			t.Fatalf("identity %q for root %q", m.ID, fs.root)
		}
	})
}
