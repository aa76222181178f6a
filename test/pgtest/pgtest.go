// Package pgtest starts a real PostgreSQL server for tests, from Debian's
// packages: initdb on a temporary directory, pg_ctl, a loopback port, no
// Unix socket, torn down when the test (or test binary) ends.
//
// PostgreSQL refuses to run as root, and CI runs tests as root: then the
// server runs as the postgres user Debian's package creates (or nobody).
package pgtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// Server is one running PostgreSQL cluster.
type Server struct {
	bin, dir string
	Port     int
	cred     *syscall.Credential
	dbs      atomic.Int64
}

// Bin finds the directory of PostgreSQL's server programs: Debian keeps
// them in /usr/lib/postgresql/<version>/bin, off PATH. "" when none.
func Bin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real)
		}
	}
	return ""
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start starts a server for one test, stopped by its cleanup. Settings
// are extra postgres -c options ("fsync=off").
func Start(t testing.TB, settings ...string) *Server {
	t.Helper()
	s, err := StartServer(settings...)
	if err != nil {
		if s == nil {
			need.Missing(t, err.Error())
		}
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// errMissing marks a machine without PostgreSQL.
type errMissing string

func (e errMissing) Error() string { return string(e) }

// StartServer starts a server (for a TestMain or a benchmark; Stop it).
// A nil Server with an error: PostgreSQL is not installed.
func StartServer(settings ...string) (*Server, error) {
	bin := Bin()
	if bin == "" {
		return nil, errMissing("PostgreSQL's initdb is not installed (Debian: postgresql)")
	}
	s := &Server{bin: bin}
	var err error
	if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return &Server{}, err
	}
	if os.Geteuid() == 0 {
		if s.cred, err = unprivileged(); err != nil {
			os.RemoveAll(s.dir)
			return &Server{}, err
		}
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			os.RemoveAll(s.dir)
			return &Server{}, err
		}
	}
	data := filepath.Join(s.dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "pkgpersist", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		s.Stop()
		return &Server{}, fmt.Errorf("initdb: %v: %s", err, out)
	}
	// a port picked by the kernel, then handed to postgres: another
	// process may take it in between, so try a few
	for try := 0; ; try++ {
		s.Port, err = freePort()
		if err != nil {
			s.Stop()
			return &Server{}, err
		}
		opts := []string{"-c listen_addresses=127.0.0.1", "-c unix_socket_directories=", "-p " + strconv.Itoa(s.Port)}
		for _, o := range settings {
			opts = append(opts, "-c "+o)
		}
		out, err := s.run("pg_ctl", "-D", data, "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "-o", strings.Join(opts, " "), "start")
		if err == nil {
			return s, nil
		}
		if try == 4 {
			log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
			s.Stop()
			return &Server{}, fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
		}
	}
}

// unprivileged is who the server runs as when the tests run as root.
func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("no postgres or nobody user to run PostgreSQL as (it refuses root)")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	if _, err := os.Stat(path); err != nil {
		path = prog // psql and the client programs may live on PATH only
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// DSN is the URL of a database on the server.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://pkgpersist@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, s.dbs.Add(1))
	if out, err := s.run("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "pkgpersist", name); err != nil {
		t.Fatalf("createdb: %v: %s", err, out)
	}
	return s.DSN(name)
}

// Stop stops the server at once and removes its files.
func (s *Server) Stop() {
	if s.dir == "" {
		return
	}
	if _, err := os.Stat(filepath.Join(s.dir, "data", "postmaster.pid")); err == nil {
		s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	}
	os.RemoveAll(s.dir)
}

// Shared is one server for a whole test binary: started by the first
// test that asks for it, stopped by Stop (from TestMain).
type Shared struct {
	once sync.Once
	s    *Server
	err  error
}

// Server starts the shared server on first use, with the settings tests
// share (no fsync: a test's data need not survive the machine).
func (sh *Shared) Server(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(func() {
		sh.s, sh.err = StartServer("fsync=off", "synchronous_commit=off", "max_connections=400")
	})
	if sh.s == nil {
		need.Missing(t, sh.err.Error())
	}
	if sh.err != nil {
		t.Fatal(sh.err)
	}
	return sh.s
}

// Stop stops the shared server if it started.
func (sh *Shared) Stop() {
	if sh.s != nil {
		sh.s.Stop()
	}
}
