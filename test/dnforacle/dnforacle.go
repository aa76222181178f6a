// Package dnforacle asks Debian's libdnf and dnf what they make of a file or
// a plugin directory, for tests that compare pkgpersist with the real
// program.
package dnforacle

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// Python is Debian's interpreter, which has the python3-libdnf bindings
// (a python3 earlier on PATH, e.g. pyenv's, does not).
const Python = "/usr/bin/python3"

// iniServer reads file paths, one a line, and answers each with a JSON
// line: the sections and keys libdnf's ConfigParser read, or its error.
const iniServer = `
import sys, json, libdnf.conf as c
for path in sys.stdin:
    path = path.rstrip("\n")
    p = c.ConfigParser()
    try:
        p.read(path)
        out = [[s, [[k, p.getValue(s, k)] for k in p.getData()[s] if not k.startswith("#")]] for s in p.getData()]
        print(json.dumps({"sections": out}), flush=True)
    except Exception as e:
        print(json.dumps({"error": str(e)}), flush=True)
`

// INI is a running libdnf ConfigParser.
type INI struct {
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Reader
	dir string
}

// Section as libdnf reports it.
type Section struct {
	Name string
	Keys [][2]string
}

// StartINI starts the libdnf parser, or skips (fails in CI) without it.
func StartINI(t testing.TB) *INI {
	t.Helper()
	if _, err := os.Stat(Python); err != nil {
		need.Missing(t, "Debian's python3 is not installed")
	}
	if err := exec.Command(Python, "-c", "import libdnf.conf").Run(); err != nil {
		need.Missing(t, "python3-libdnf is not installed (apt-get install dnf)")
	}
	cmd := exec.Command(Python, "-c", iniServer)
	in, _ := cmd.StdinPipe()
	outp, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "dnforacle")
	if err != nil {
		t.Fatal(err)
	}
	return &INI{in: in, out: bufio.NewReader(outp), dir: dir}
}

// Parse returns what libdnf reads from data: its sections, or its error.
func (p *INI) Parse(data []byte) ([]Section, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	path := p.dir + "/f.conf"
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintln(p.in, path); err != nil {
		return nil, err
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("libdnf oracle died: %w", err)
	}
	var r struct {
		Sections [][]json.RawMessage
		Error    string
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, err
	}
	if r.Error != "" {
		return nil, &ParseError{r.Error}
	}
	var out []Section
	for _, s := range r.Sections {
		var sec Section
		if err := json.Unmarshal(s[0], &sec.Name); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(s[1], &sec.Keys); err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	return out, nil
}

// ParseError is libdnf's refusal.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }
