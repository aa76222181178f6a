package osqserver

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// serveProc is `pkgpersist serve` in a process of its own (this test
// binary as the command line, TestCLIHelper).
type serveProc struct {
	cmd *exec.Cmd
	url string
	mu  sync.Mutex
	log strings.Builder
}

// startServe starts serve with args and waits for the address it prints.
func startServe(t testing.TB, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCLIHelper$")
	env, _ := json.Marshal(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...))
	cmd.Env = append(os.Environ(), "PKGPERSIST_CLI_ARGS="+string(env))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stderr)
	addr := regexp.MustCompile(`url=(https?://[^ ]+)/api/osquery/`)
	for p.url == "" && lines.Scan() {
		p.keep(lines.Text())
		if m := addr.FindStringSubmatch(lines.Text()); m != nil {
			p.url = m[1]
		}
	}
	if p.url == "" {
		t.Fatalf("serve printed no address:\n%s", p.logs())
	}
	go func() {
		for lines.Scan() {
			p.keep(lines.Text())
		}
	}()
	return p
}

// keep keeps what serve printed that is not routine, up to 1 MiB.
func (p *serveProc) keep(line string) {
	if strings.Contains(line, `msg=enrolled`) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log.Len() < 1<<20 {
		p.log.WriteString(line + "\n")
	}
}

func (p *serveProc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// kill ends serve with SIGKILL: no shutdown, no flush, as a crash.
func (p *serveProc) kill() { p.cmd.Process.Signal(syscall.SIGKILL) }

// killed waits for serve to end and tells whether SIGKILL ended it.
func (p *serveProc) killed() bool {
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// metrics reads a serve process's counters (unlabelled ones) through its
// API address.
func metrics(t testing.TB, c *http.Client, url string) map[string]string {
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer metrics-token")
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("metrics: %v", err)
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]string{}
	for _, l := range strings.Split(string(body), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok && !strings.HasPrefix(l, "#") {
			out[k] = v
		}
	}
	return out
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
