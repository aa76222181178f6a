package hunt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// conn is one SSH connection to a host that every command of its hunt
// shares: an OpenSSH ControlMaster the collector starts, owns and stops.
// Each command is a channel of that connection (one key exchange and one
// authentication per host), yet still a command of its own on the host,
// so what the host does with commands (ForceCommand, command= in
// authorized_keys, audit logs) sees the same commands as before.
type conn struct {
	s       *SSH
	dir     string // private local directory holding the control socket
	control string
	master  *exec.Cmd
	exited  chan struct{}
	errb    *tail
	notes   []string
}

// Retries of a connection the host's sshd refuses before it authenticates
// (MaxStartups): how many, and the first and longest waits between them.
const (
	refusedRetries = 16
	refusedWait    = 100 * time.Millisecond
	refusedMaxWait = 5 * time.Second
)

// sshError is ssh failing: its exit status and its last line of stderr.
type sshError struct {
	code int
	msg  string
}

func (e *sshError) Error() string { return e.msg }

// refused reports whether err is sshd turning the connection away before
// the key exchange, as it does past MaxStartups unauthenticated
// connections: worth waiting for, unlike a refused port or a failed login.
func refused(err error) bool {
	var se *sshError
	if !errors.As(err, &se) || se.code != 255 {
		return false
	}
	for _, s := range []string{"kex_exchange_identification", "Connection closed by", "Connection reset"} {
		if strings.Contains(se.msg, s) {
			return true
		}
	}
	return false
}

// connect opens the host's connection. A connection sshd refuses before
// the key exchange is tried again, after a wait that doubles with each
// try (with jitter, so that hosts refused together do not come back
// together), up to refusedRetries times; the connection's notes say so.
func (s *SSH) connect(ctx context.Context) (*conn, error) {
	wait := refusedWait
	var waited time.Duration
	for try := 0; ; try++ {
		c, err := s.startMaster(ctx)
		if err == nil {
			if try > 0 {
				c.notes = append(c.notes, fmt.Sprintf("note: sshd refused the connection %d times (MaxStartups?): connected after waiting %s", try, waited.Round(time.Millisecond)))
			}
			return c, nil
		}
		if !refused(err) || try == refusedRetries {
			if try > 0 {
				err = fmt.Errorf("%w (sshd refused the connection %d times, waited %s)", err, try+1, waited.Round(time.Millisecond))
			}
			return nil, err
		}
		d := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("timed out waiting for sshd to accept the connection: %w", err)
		case <-time.After(d):
		}
		waited += d
		wait = min(2*wait, refusedMaxWait)
	}
}

// args are the ssh options every command uses, before the destination.
func (s *SSH) args() []string {
	args := []string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=" + strconv.Itoa(max(1, int(s.Timeout/time.Second)))}
	if s.Config != "" {
		args = append(args, "-F", s.Config)
	}
	for _, o := range s.Options {
		args = append(args, "-o", o)
	}
	if s.Port != "" {
		args = append(args, "-p", s.Port)
	}
	return args
}

// startMaster starts the ControlMaster and waits until it takes commands:
// its control socket appears once it has authenticated.
func (s *SSH) startMaster(ctx context.Context) (*conn, error) {
	base := os.TempDir()
	if len(base) > 64 {
		base = "/tmp" // a control socket's path must fit in sun_path (108 bytes)
	}
	dir, err := os.MkdirTemp(base, "pkgpersist-ssh-")
	if err != nil {
		return nil, err
	}
	c := &conn{s: s, dir: dir, control: filepath.Join(dir, "c"), exited: make(chan struct{}), errb: &tail{max: 4 << 10}}
	args := append(s.args(), "-M", "-N", "-o", "ControlPath="+c.control, "-o", "ControlPersist=no", "--", s.Dest)
	c.master = exec.Command("ssh", args...)
	c.master.Stderr = c.errb
	// the master must not outlive a collector that is killed
	c.master.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := c.master.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() {
		_ = c.master.Wait()
		close(c.exited)
	}()
	poll := time.Millisecond
	for {
		if fi, err := os.Stat(c.control); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return c, nil
		}
		select {
		case <-c.exited:
			c.close()
			return nil, sshFailure(c.errb, c.master.ProcessState.ExitCode(), errors.New("ssh exited"))
		case <-ctx.Done():
			c.close()
			return nil, fmt.Errorf("timed out: %w", ctx.Err())
		case <-time.After(poll):
		}
		poll = min(2*poll, 20*time.Millisecond)
	}
}

// sshFailure is ssh's error: the last line it printed on stderr, else err.
func sshFailure(stderr *tail, code int, err error) error {
	msg := strings.TrimSpace(stderr.String())
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:]
	}
	if msg == "" {
		msg = err.Error()
	}
	return &sshError{code: code, msg: msg}
}

// close stops the master, ending the connection, and removes its socket.
func (c *conn) close() {
	select {
	case <-c.exited:
	default:
		_ = c.master.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(time.Second):
			_ = c.master.Process.Kill()
			<-c.exited
		}
	}
	os.RemoveAll(c.dir)
}

// ssh runs one remote command with stdin, returning its stdout, which
// may be at most smallOutput bytes.
func (c *conn) ssh(ctx context.Context, stdin io.Reader, remote string) ([]byte, error) {
	var out []byte
	err := c.run(ctx, stdin, false, remote, func(r io.Reader) error {
		var err error
		out, err = io.ReadAll(budgetReader{r, newBudget(smallOutput)})
		return err
	})
	return out, err
}

// run runs one remote command over the connection: it sends stdin, then
// hands the command's stdout to read as it arrives, so nothing the host
// prints is held but what read keeps. With keepOpen standard input stays
// open until run returns: a command that watches it (batch --watch-stdin)
// then ends when the collector stops waiting for it (timeout, bad output)
// or dies, since a closed connection closes the remote's standard input.
// When read fails the command is killed and read's error is the answer,
// unless ssh itself failed first (its last line of stderr is). Should the
// master be gone, ssh connects on its own (ControlMaster=no falls back).
func (c *conn) run(ctx context.Context, stdin io.Reader, keepOpen bool, remote string, read func(io.Reader) error) error {
	args := append(c.s.args(), "-o", "ControlPath="+c.control, "-o", "ControlMaster=no", "--", c.s.Dest, remote)
	cctx, kill := context.WithCancel(ctx)
	defer kill()
	cmd := exec.CommandContext(cctx, "ssh", args...)
	errb := &tail{max: 4 << 10}
	cmd.Stderr = errb
	cmd.WaitDelay = time.Second
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		if stdin != nil {
			// a command that fails may not read it all: its answer says why
			_, _ = io.Copy(in, stdin)
		}
		if keepOpen {
			<-cctx.Done()
		}
		in.Close()
	}()
	readErr := read(out)
	if readErr == nil {
		if _, err := io.Copy(io.Discard, budgetReader{out, newBudget(smallOutput)}); err != nil {
			readErr = fmt.Errorf("after its answer: %w", err)
		}
	}
	if readErr != nil {
		kill()
	}
	err = cmd.Wait()
	exited := cmd.ProcessState != nil && cmd.ProcessState.Exited()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("timed out: %w", ctx.Err())
	case err != nil && (exited || readErr == nil):
		return sshFailure(errb, cmd.ProcessState.ExitCode(), err)
	}
	return readErr
}
