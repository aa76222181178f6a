package actions

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func parse(f Format, data string) ([]Action, error) {
	return Parse(f, bytes.NewReader([]byte(data)), nil)
}

func TestParsers(t *testing.T) {
	d4, _ := parse(DNF4, "# c\n  # indented comment\nvim:in:/usr/bin/x ${name}\nbad\nbash:install:/bin/true\n*:any:a:b:c\n")
	if len(d4) != 4 || d4[0].Filter != "vim" || d4[0].Trigger != "in" || d4[0].Skipped != "" ||
		d4[1].Skipped == "" || d4[2].Skipped == "" || d4[3].Command != "a:b:c" {
		t.Fatalf("dnf4: %+v", d4)
	}
	y, _ := parse(YUM, "zsh:install:x\n/usr/sbin/sshd:update:y\nusr/bin/z:any:w\nz:in:q\n")
	if len(y) != 4 || y[0].Skipped != "" || y[1].Skipped != "" || y[2].Skipped == "" || y[3].Skipped == "" {
		t.Fatalf("yum: %+v", y)
	}
	d5, err := parse(DNF5, "# c\npost_transaction:*:in::/usr/bin/logger x\npre_base_setup::::/bin/true\n")
	if err != nil || len(d5) != 2 || d5[0].Trigger != "post_transaction:in" {
		t.Fatalf("dnf5: %+v %v", d5, err)
	}
	for _, bad := range []string{"post_transaction:/usr/bin/true\n", "nohook::::x\n", "pre_base_setup:pkg:::x\n", "post_transaction::sideways::x\n", "post_transaction:::enabled=0:x\n", "post_transaction::::\n"} {
		var perr *Error
		if _, err := parse(DNF5, bad); !errors.As(err, &perr) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	matches, _ := filepath.Glob("../../test/roots/*/etc/*/*/*.action*")
	m2, _ := filepath.Glob("../../test/roots/*/etc/*/*/*/*.action*")
	for _, m := range append(matches, m2...) {
		if data, err := os.ReadFile(m); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, f := range []Format{DNF4, YUM} {
			as, _ := Parse(f, bytes.NewReader(data), nil)
			for _, a := range as {
				if a.Line <= 0 {
					t.Fatalf("action without a line: %+v", a)
				}
			}
		}
		as, err := Parse(DNF5, bytes.NewReader(data), nil)
		var perr *Error
		if errors.As(err, &perr) && perr.Line <= 0 {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Command == "" {
				t.Fatalf("dnf5 action without a command: %+v", a)
			}
		}
	})
}
