package osqserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// hostileOptions are the limits the hostile mix runs the server with
// (as serve flags): small, so that the bound is tight.
var hostileOptions = func() Options {
	o := DefaultOptions
	o.MaxConcurrent, o.MaxConns, o.MemoryBudget, o.MaxAnswer = 4, 128, 8<<20, 1<<20
	return o
}()

func hostileFlags(o Options) []string {
	return []string{"--max-concurrent", strconv.Itoa(o.MaxConcurrent), "--max-conns", strconv.Itoa(o.MaxConns),
		"--memory-budget", strconv.FormatInt(o.MemoryBudget, 10), "--max-answer", strconv.FormatInt(o.MaxAnswer, 10),
		"--max-line", strconv.FormatInt(o.MaxLine, 10)}
}

// hostileRun is one run of the hostile mix against the built binary.
type hostileRun struct {
	peakRSS, bound   int64 // bytes
	attacks, refused int64
	good, goodFailed int64
	goodRows         int
	goodErr          string
}

// buildCollector builds the collector binary into dir.
func buildCollector(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "pkgpersist")
	cmd := exec.Command("go", "build", "-tags", "sqlite_vtable", "-o", bin, "github.com/pkgpersist/pkgpersist/collector")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runHostile starts `pkgpersist serve` with opt and, for d, sends gzip
// bombs (node key first and last), forged distributed writes (gzipped and
// plain) and big enrollments (wrong secret; right secret, huge
// host_details) from attackers workers, while a good host fetches its
// config and ships a log line every 100 ms, retrying as osqueryd does
// (3 attempts). It returns the server's peak RSS (VmHWM) and what the
// good host got.
func runHostile(t testing.TB, d time.Duration, attackers int) hostileRun {
	dir := t.TempDir()
	bin := buildCollector(t, dir)
	os.WriteFile(filepath.Join(dir, "secret"), []byte(secret), 0o600)
	db := filepath.Join(dir, "p.db")
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--db", db, "--enroll-secret-file", filepath.Join(dir, "secret"),
		"--spool-dir", dir, "--new-host-burst", "20"}, hostileFlags(hostileOptions)...)
	cmd := exec.Command(bin, args...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// the address and the bound come from what serve prints
	var url string
	var bound int64
	lines := bufio.NewScanner(stderr)
	addr := regexp.MustCompile(`url=(https://[^ ]+)/api/osquery/`)
	boundRE := regexp.MustCompile(`memory bound (\d+) MiB`)
	for url == "" && lines.Scan() {
		if m := boundRE.FindStringSubmatch(lines.Text()); m != nil {
			mib, _ := strconv.ParseInt(m[1], 10, 64)
			bound = mib << 20
		}
		if m := addr.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" || bound == 0 {
		t.Fatal("serve printed no address or memory bound")
	}
	if want := hostileOptions.MemoryBound() >> 20 << 20; bound != want {
		t.Errorf("serve's bound %d MiB, the options' %d MiB", bound>>20, want>>20)
	}
	var logMu sync.Mutex
	var serverLog strings.Builder
	go func() {
		for lines.Scan() {
			logMu.Lock()
			if serverLog.Len() < 1<<20 {
				serverLog.WriteString(lines.Text() + "\n")
			}
			logMu.Unlock()
		}
	}()

	pemData, err := os.ReadFile(db + ".crt")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	client := func() *http.Client {
		return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 2}}
	}
	ts := &testServer{url: url, certs: db + ".crt"}

	pad := strings.Repeat("1,", 32<<20)
	rows := strings.Repeat(`{"a":"1"},`, 6<<20)
	junk := func(n int) string { return strings.Repeat("x", n) }
	attacks := []struct {
		path string
		body []byte
		gz   bool
	}{
		{"log", gz([]byte(`{"node_key":"forged","log_type":"result","data":[` + pad + `1]}`)), true},
		{"log", gz([]byte(`{"log_type":"result","data":[` + pad + `1],"node_key":"forged"}`)), true},
		{"distributed/write", gz([]byte(`{"queries":{"pkgpersist:b:q":[` + rows + `{}]},"node_key":"forged"}`)), true},
		{"distributed/write", []byte(`{"queries":{"pkgpersist:b:q":[` + rows[:8<<20] + `{}]},"node_key":"forged"}`), false},
		{"enroll", gz([]byte(`{"host_identifier":"x","host_details":{"system_info":{"uuid":"` + junk(3<<20) + `"}},"enroll_secret":"wrong"}`)), true},
		{"enroll", gz([]byte(`{"enroll_secret":"` + secret + `","host_identifier":"big-%d","host_details":{"junk":{"x":"` + junk(3<<20) + `"},"system_info":{"uuid":"` + junk(40<<10) + `"}}}`)), true},
	}
	var run hostileRun
	run.bound = bound
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < attackers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := client()
			for i := w; ctx.Err() == nil; i++ {
				a := attacks[i%len(attacks)]
				req, _ := http.NewRequestWithContext(ctx, "POST", url+"/api/osquery/"+a.path, bytes.NewReader(a.body))
				if a.gz {
					req.Header.Set("Content-Encoding", "gzip")
				}
				resp, err := c.Do(req)
				atomic.AddInt64(&run.attacks, 1)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 400 {
					atomic.AddInt64(&run.refused, 1)
				}
			}
		}(w)
	}
	good := &osqueryd{t: t, http: client(), base: url, host: "good", prefix: "/api/osquery/"}
	_ = ts
	if r := good.enroll(secret); good.nodeKey == "" {
		t.Fatalf("good host: enroll: %v", r)
	}
	for i := 0; ctx.Err() == nil; i++ {
		line := map[string]any{"name": "pack_pkgpersist_unowned-hooks", "unixTime": 1795377600 + i, "epoch": 0, "counter": i, "action": "added",
			"columns": map[string]string{"path": fmt.Sprintf("/etc/apt/apt.conf.d/%d", i)}}
		for _, rt := range []struct {
			path string
			body map[string]any
		}{{"config", map[string]any{}}, {"log", map[string]any{"log_type": "result", "data": []any{line}}}} {
			var err error
			for attempt := 1; attempt <= 3; attempt++ {
				rt.body["node_key"] = good.nodeKey
				var code int
				var reply map[string]any
				data, _ := json.Marshal(rt.body)
				req, _ := http.NewRequest("POST", url+"/api/osquery/"+rt.path, bytes.NewReader(data))
				if code, reply, err = good.send(req); err == nil && code != 200 {
					err = fmt.Errorf("%s: %d %v", rt.path, code, reply)
				}
				if err == nil {
					break
				}
				time.Sleep(time.Duration(attempt*attempt) * 100 * time.Millisecond)
			}
			if err != nil {
				run.goodFailed++
				if run.goodErr == "" {
					run.goodErr = err.Error()
				}
				continue
			}
			if rt.path == "log" {
				run.good++
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	run.peakRSS = vmHWM(t, cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run.goodRows, _ = st.CountLogged(context.Background(), "enrolled:good")
	if t.Failed() || run.goodFailed > 0 {
		logMu.Lock()
		t.Logf("server log (start):\n%.4000s", serverLog.String())
		logMu.Unlock()
	}
	return run
}

// vmHWM is a process's peak resident set size.
func vmHWM(t testing.TB, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// hostileDuration is how long the hostile mix runs: 60 s under make
// test-load (PKGPERSIST_HOSTILE_SECONDS=60, which CI runs), 5 s otherwise.
func hostileDuration() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("PKGPERSIST_HOSTILE_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 5 * time.Second
}

// TestHostileMix: under gzip bombs, forged writes and big enrollments at
// once, the server's peak RSS stays under the documented bound of its
// limits (Options.MemoryBound, as serve prints it) while a good host
// keeps its config and log round-trips, every log line stored.
func TestHostileMix(t *testing.T) {
	run := runHostile(t, hostileDuration(), 6)
	t.Logf("%d attack requests (%d refused); good host: %d log round-trips, %d rows stored, %d failed; peak RSS %d MiB, bound %d MiB",
		run.attacks, run.refused, run.good, run.goodRows, run.goodFailed, run.peakRSS>>20, run.bound>>20)
	if run.peakRSS > run.bound {
		t.Errorf("peak RSS %d MiB over the bound %d MiB", run.peakRSS>>20, run.bound>>20)
	}
	if run.attacks == 0 || run.refused < run.attacks/2 {
		t.Errorf("attacks: %d sent, %d refused", run.attacks, run.refused)
	}
	if run.goodFailed > 0 || run.good == 0 || run.goodRows != int(run.good) {
		t.Errorf("good host: %d round-trips, %d failed (%s), %d rows stored", run.good, run.goodFailed, run.goodErr, run.goodRows)
	}
}
