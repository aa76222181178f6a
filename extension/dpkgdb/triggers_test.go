package dpkgdb

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// triggerCases are triggers files and what dpkg says of them: "" when it
// accepts the file, else the text of its error.
var triggerCases = []struct {
	name, file, refusal string
	want                string // DirectiveLines of what is read
}{
	{"all kinds", "interest a\ninterest-await /usr/share/b\ninterest-noawait c\nactivate d\nactivate-await e\nactivate-noawait f\n", "",
		"interest a\ninterest-await /usr/share/b\ninterest-noawait c\nactivate d\nactivate-await e\nactivate-noawait f"},
	{"comments and blanks", "   # c\n\n \t\n  interest   x  \n#interest y\n", "", "interest x"},
	{"missing newline", "interest a", "too-long line or missing newline", ""},
	{"long line", "interest " + strings.Repeat("x", 246) + "\n", "too-long line or missing newline", ""},
	{"longest line", "interest " + strings.Repeat("x", 245) + "\n", "", "interest " + strings.Repeat("x", 245)},
	{"space in name", "interest a b\n", "trigger name contains invalid character", ""},
	{"unknown directive", "interest a\nbogus a\n", "unknown directive 'bogus'", "interest a"},
	{"no name", "interest\n", "unknown directive syntax", ""},
	{"control char", "interest a\x01\n", "trigger name contains invalid character", ""},
	{"high byte", "interest caf\xc3\xa9\n", "trigger name contains invalid character", ""},
	{"crlf", "interest a\r\n", "trigger name contains invalid character", ""},
	{"tabs", "\tinterest\ta\t\n", "", "interest a"},
	{"cr before", "\rinterest a\n", "unknown directive", ""},
	{"cr between", "interest\ra\n", "unknown directive syntax", ""},
	{"vertical tab comment", "\v#x\n", "unknown directive syntax", ""},
	{"form feed", "interest \f a\n", "trigger name contains invalid character", ""},
	{"blank cr line", " \r\n", "unknown directive syntax", ""},
}

func TestParseTriggers(t *testing.T) {
	for _, c := range triggerCases {
		ds, perr, err := ParseTriggers(strings.NewReader(c.file))
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if perr != nil {
			got = perr.Msg
		}
		if !strings.Contains(got, c.refusal) || (c.refusal == "") != (perr == nil) {
			t.Errorf("%s: error %q, want %q", c.name, got, c.refusal)
		}
		if DirectiveLines(ds) != c.want {
			t.Errorf("%s: read %q, want %q", c.name, DirectiveLines(ds), c.want)
		}
	}
}

// TestTriggersOracle asks dpkg itself: each file is the triggers control
// file of a package unpacked into a throwaway root; dpkg accepts it
// exactly when ParseTriggers does, with the same message.
func TestTriggersOracle(t *testing.T) {
	need.Program(t, "dpkg-deb")
	dpkg := need.Program(t, "dpkg")
	for _, c := range triggerCases {
		dir := t.TempDir()
		src := filepath.Join(dir, "src")
		root := filepath.Join(dir, "root")
		for _, d := range []string{src + "/DEBIAN", root + "/var/lib/dpkg/info", root + "/var/lib/dpkg/updates"} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		write(t, src+"/DEBIAN/control", "Package: t\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: t\n")
		write(t, src+"/DEBIAN/triggers", c.file)
		write(t, root+"/var/lib/dpkg/status", "")
		if out, err := exec.Command("dpkg-deb", "--build", src, dir+"/t.deb").CombinedOutput(); err != nil {
			t.Fatalf("%s: dpkg-deb: %v\n%s", c.name, err, out)
		}
		out, err := exec.Command(dpkg, "--root="+root, "--admindir="+root+"/var/lib/dpkg", "--force-not-root",
			"--force-script-chrootless", "--unpack", dir+"/t.deb").CombinedOutput()
		_, perr, _ := ParseTriggers(strings.NewReader(c.file))
		if (err == nil) != (perr == nil) {
			t.Errorf("%s: dpkg: %v %s; ParseTriggers: %v", c.name, err, out, perr)
			continue
		}
		if perr != nil && !strings.Contains(string(out), perr.Msg) {
			t.Errorf("%s: dpkg says %s; ParseTriggers %q", c.name, out, perr.Msg)
		}
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
