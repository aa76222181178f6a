package dpkgcfg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		opt     string
		val     string
		wantErr string
	}{
		{"pre-invoke=touch /x", "pre-invoke", "touch /x", ""},
		{"pre-invoke touch /x", "pre-invoke", "touch /x", ""},
		{"pre-invoke\ttouch /x", "pre-invoke", "touch /x", ""},
		{"pre-invoke = touch /x", "pre-invoke", "touch /x", ""},
		{"pre-invoke==touch /x", "pre-invoke", "touch /x", ""},
		{"post-invoke:touch /x", "post-invoke", "touch /x", ""},
		{"post-invoke  =x", "post-invoke", "=x", ""},
		{`post-invoke="touch /x"`, "post-invoke", "touch /x", ""},
		{`post-invoke='touch /x'`, "post-invoke", "touch /x", ""},
		{`post-invoke="`, "post-invoke", "", ""},
		{"post-invoke=touch /x # not a comment", "post-invoke", "touch /x # not a comment", ""},
		{"post-invoke=touch /x  \r", "post-invoke", "touch /x", ""},
		{"force-confold", "force", "confold", ""},
		{"no-debsig", "no-debsig", "", ""},
		{"--post-invoke=x", "", "", "unknown option '--post-invoke'"},
		{" post-invoke=x", "", "", "unknown option ''"},
		{"Post-Invoke=x", "", "", "unknown option 'Post-Invoke'"},
		{"post-invoke", "", "", "needs a value"},
		{`post-invoke="x`, "", "", "unbalanced quotes"},
		{"no-debsig=1", "", "", "does not take a value"},
		{"# post-invoke=x", "", "", ""},
	}
	for _, c := range cases {
		lines, err := Parse([]byte(c.in + "\n"))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Msg, c.wantErr) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if c.opt == "" {
			if len(lines) != 0 {
				t.Errorf("%q: %v", c.in, lines)
			}
			continue
		}
		if len(lines) != 1 || lines[0].Option != c.opt || lines[0].Value != c.val {
			t.Errorf("%q: got %+v, want %s=%q", c.in, lines, c.opt, c.val)
		}
	}
}

// A line over 1023 bytes is read by dpkg as two: the second half of a
// commented line can be a live option.
func TestLongLine(t *testing.T) {
	long := "#" + strings.Repeat("x", MaxLine-2) + "post-invoke=touch /hidden\n"
	lines, err := Parse([]byte(long))
	if err != nil || len(lines) != 1 || lines[0].Value != "touch /hidden" || lines[0].Line != 2 {
		t.Fatalf("%+v %v", lines, err)
	}
}

func TestValidName(t *testing.T) {
	for n, want := range map[string]bool{"needrestart": true, "30_Underscore_Name": true, "a-b": true, "x.conf": false, ".hidden": false, "a~": false, "": false, "a b": false} {
		if ValidName(n) != want {
			t.Errorf("ValidName(%q) != %v", n, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	matches, _ := filepath.Glob("../../test/roots/dpkg*/etc/dpkg/dpkg.cfg.d/*")
	for _, m := range matches {
		if data, err := os.ReadFile(m); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("post-invoke=\"x\"\npre-invoke x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := Parse(data)
		prev := 0
		for _, l := range lines {
			if _, ok := Options[l.Option]; !ok || l.Line <= prev {
				t.Fatalf("bad line %+v after %d", l, prev)
			}
			prev = l.Line
		}
		if err != nil && err.Line <= 0 {
			t.Fatalf("error without a line: %v", err)
		}
	})
}
