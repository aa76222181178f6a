package store

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests here run their writers as separate processes (this test
// binary again, in a role): pkgpersist serve, hunt and ingest are separate
// programs on one database file, and SQLite's locks between processes are
// not those between goroutines of one.

var (
	helperRole = flag.String("store.role", "", "run as a helper process in this role")
	helperDB   = flag.String("store.db", "", "the helper's database")
	helperArg  = flag.String("store.arg", "", "the helper's parameter")
)

// child starts this test binary in a role on db.
func child(t *testing.T, role, db, arg string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-store.role="+role, "-store.db="+db, "-store.arg="+arg)
	cmd.Stdout, cmd.Stderr = &lockedBuffer{}, &lockedBuffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// waitAll waits for the children and fails the test for each that failed,
// with what it printed.
func waitAll(t *testing.T, cmds []*exec.Cmd) string {
	t.Helper()
	var all strings.Builder
	for _, c := range cmds {
		err := c.Wait()
		out := c.Stderr.(*lockedBuffer).String() + c.Stdout.(*lockedBuffer).String()
		all.WriteString(out)
		if err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(c.Args[2:], " "), err, out)
		}
	}
	return all.String()
}

// lockedBuffer is a child's output, read while the child writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHelperProcess is a writer in another process; it does nothing in a
// normal test run.
func TestHelperProcess(t *testing.T) {
	if *helperRole == "" {
		t.Skip("a helper process for the other tests")
	}
	s, err := Open(*helperDB)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	switch *helperRole {
	case "open":
		// only the migrations, racing the other openers
	case "checkins":
		// hosts checking in as serve stores them: a distributed read
		// (which writes), an answer to what was queued, a log batch
		checkins(t, s, *helperArg)
	case "localhunt":
		localHunt(t, s, *helperArg)
	case "flood":
		for i := 0; i < 40; i++ {
			if _, err := s.SaveLogs(ctx, 1, logged("flood", i, 1024), nil); err != nil {
				t.Fatalf("log batch %d: %v", i, err)
			}
		}
	case "ingest":
		ids := map[string]int64{}
		for b := 0; b < 10; b++ {
			byHost := map[string][]Logged{}
			for h := 0; h < 100; h++ {
				byHost[fmt.Sprintf("ingested-%d", h)] = logged("ingest", b, 200)
			}
			if _, err := s.SaveLogsByHost(ctx, byHost, ids); err != nil {
				t.Fatalf("ingest batch %d: %v", b, err)
			}
		}
	case "hold":
		// hold the write lock for a while, as a long transaction does
		d, _ := time.ParseDuration(*helperArg)
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO hosts (name) VALUES ('holder')`); err != nil {
			t.Fatal(err)
		}
		fmt.Println("holding")
		time.Sleep(d)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown role %q", *helperRole)
	}
}

// logged is n rows of a log batch, distinct per name and batch.
func logged(name string, batch, n int) []Logged {
	out := make([]Logged, n)
	for i := range out {
		out[i] = Logged{Name: "pack_pkgpersist_" + name, Action: "added", UnixTime: 1795377600 + int64(batch), Counter: int64(batch),
			Row: Row{"path": fmt.Sprintf("/etc/apt/apt.conf.d/%s-%d-%d", name, batch, i)}}
	}
	return out
}

// checkins plays serve for the enrolled hosts first..first+n-1 ("first,n")
// until the file stop exists: each host reads its queue, answers it and
// logs a batch, again and again.
func checkins(t *testing.T, s *DB, arg string) {
	parts := strings.Split(arg, ",")
	first, _ := strconv.Atoi(parts[0])
	n, _ := strconv.Atoi(parts[1])
	stop := parts[2]
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for h := first; h < first+n; h++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := KeyHash(fmt.Sprint("key-", h))
			for i := 0; ; i++ {
				if _, err := os.Stat(stop); err == nil {
					return
				}
				node, err := s.Authenticate(ctx, key, time.Now())
				if err != nil {
					errs <- fmt.Errorf("host %d: node: %w", h, err)
					return
				}
				qs, err := s.TakeQueued(ctx, node.HostID, time.Now())
				if err != nil {
					errs <- fmt.Errorf("host %d: read: %w", h, err)
					return
				}
				for id := range qs {
					batch, q, _ := ParseDistributedID(id)
					if err := s.Answer(ctx, node.HostID, batch, q, rows("x", node.Host), 0, "", time.Now()); err != nil {
						errs <- fmt.Errorf("host %d: write: %w", h, err)
						return
					}
				}
				if _, err := s.SaveLogs(ctx, node.HostID, logged("checkin", i, 20), nil); err != nil {
					errs <- fmt.Errorf("host %d: log: %w", h, err)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// localHunt stores one local hunt as hunt.Run does: the run, the host's
// results of many queries, the end of the run, then the report's reads.
func localHunt(t *testing.T, s *DB, name string) {
	ctx := context.Background()
	var qs []Query
	h := HostResult{Host: name, State: StateOK}
	for i := 0; i < 60; i++ {
		q := Query{ID: fmt.Sprintf("q%02d", i), SQL: "SELECT 1"}
		qs = append(qs, q)
		h.Queries = append(h.Queries, QueryResult{QueryID: q.ID, Rows: rows("a", "b", "c", name)})
	}
	id, err := s.BeginRun(ctx, Run{Started: time.Now(), Transport: "local"}, qs)
	if err != nil {
		t.Fatalf("begin run: %v", err)
	}
	if err := s.SaveHost(ctx, id, h); err != nil {
		t.Fatalf("save host: %v", err)
	}
	if err := s.FinishRun(ctx, id); err != nil {
		t.Fatalf("finish run: %v", err)
	}
	if _, err := s.Diff(ctx, Window{Run: id}); err != nil {
		t.Fatalf("diff: %v", err)
	}
	if _, err := s.Current(ctx, name, ""); err != nil {
		t.Fatalf("current: %v", err)
	}
}

// TestConcurrentFirstOpen: processes opening a new database at once
// (a hunt started beside serve on a fresh --db) all get the schema.
func TestConcurrentFirstOpen(t *testing.T) {
	for round := 0; round < 3; round++ {
		db := filepath.Join(t.TempDir(), "p.db")
		var cmds []*exec.Cmd
		for i := 0; i < 8; i++ {
			cmds = append(cmds, child(t, "open", db, ""))
		}
		if out := waitAll(t, cmds); strings.Contains(out, "locked") {
			t.Errorf("round %d: %s", round, out)
		}
		s, err := Open(db)
		if err != nil {
			t.Fatal(err)
		}
		var v int
		if err := s.db.QueryRow(`SELECT count(*) FROM schema_version`).Scan(&v); err != nil || v != len(migrations) {
			t.Errorf("round %d: %d migrations recorded, want %d (%v)", round, v, len(migrations), err)
		}
		s.Close()
	}
}

// enroll enrolls n hosts with the keys checkins uses.
func enroll(t *testing.T, s *DB, n int) []Node {
	t.Helper()
	for h := 0; h < n; h++ {
		if _, err := s.EnrollNode(context.Background(), Enrollment{Identifier: fmt.Sprintf("node-%04d", h), OsqueryVersion: "5.12.1", KeyHash: KeyHash(fmt.Sprint("key-", h)), At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return must(s.Nodes(context.Background()))
}

// TestHuntWhileHostsCheckIn: a hunt of enrolled hosts (queue, poll the
// answers, save each host, report) in one process while another stores
// the check-ins of 300 hosts, three hunts in a row: every host is stored
// and no write fails.
func TestHuntWhileHostsCheckIn(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	db, stop := filepath.Join(dir, "p.db"), filepath.Join(dir, "stop")
	s, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const hosts = 300
	nodes := enroll(t, s, hosts)
	// two serve-like processes, as a restart or a second collector would
	cmds := []*exec.Cmd{child(t, "checkins", db, fmt.Sprintf("0,%d,%s", hosts/2, stop)), child(t, "checkins", db, fmt.Sprintf("%d,%d,%s", hosts/2, hosts/2, stop))}
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		id, err := s.BeginRun(ctx, Run{Started: time.Now(), Transport: "osquery-tls"}, []Query{q1})
		if err != nil {
			t.Fatalf("round %d: begin: %v", round, err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, hosts)
		for _, n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- huntEnrolled(ctx, s, id, n)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
		if err := s.FinishRun(ctx, id); err != nil {
			t.Fatalf("round %d: finish: %v", round, err)
		}
		if got := must(s.HostOutcomes(ctx, id)); len(got) != hosts {
			t.Errorf("round %d: %d of %d hosts stored", round, len(got), hosts)
		}
	}
	os.WriteFile(stop, nil, 0o600)
	waitAll(t, cmds)
}

// huntEnrolled is what a hunt does for one enrolled host.
func huntEnrolled(ctx context.Context, s *DB, runID int64, n Node) error {
	batch := fmt.Sprint("b", runID, "-", n.HostID)
	if err := s.Queue(ctx, batch, n.HostID, []Query{q1}); err != nil {
		return fmt.Errorf("%s: queue: %w", n.Host, err)
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		got, pending, err := s.Answers(ctx, batch, n.HostID)
		if err != nil {
			return fmt.Errorf("%s: answers: %w", n.Host, err)
		}
		if pending == 0 {
			if err := s.SaveHost(ctx, runID, HostResult{Host: n.Host, State: StateOK, Queries: got}); err != nil {
				return fmt.Errorf("%s: save: %w", n.Host, err)
			}
			return nil
		}
	}
	return fmt.Errorf("%s: not answered", n.Host)
}

// TestLocalHuntsFloodIngest: 20 local hunts at once, a log flood and an
// ingest, each its own process, on one database: none fails.
func TestLocalHuntsFloodIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	db := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	enroll(t, s, 1)
	cmds := []*exec.Cmd{child(t, "flood", db, ""), child(t, "ingest", db, "")}
	for i := 0; i < 20; i++ {
		cmds = append(cmds, child(t, "localhunt", db, fmt.Sprintf("local-%02d", i)))
	}
	waitAll(t, cmds)
	if n := count(t, s, "host_runs"); n != 20 {
		t.Errorf("%d of 20 local hunts stored", n)
	}
	if n := count(t, s, "scheduled_results"); n != 40*1024+10*100*200 {
		t.Errorf("%d logged rows stored, want %d", n, 40*1024+10*100*200)
	}
}

// heldWrite opens db with a 100 ms busy timeout and wait as the bound,
// has another process hold the write lock for hold, and runs a write
// meanwhile.
func heldWrite(t *testing.T, wait time.Duration, hold string) (*DB, error) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "p.db")
	s, err := OpenWith(db, Options{BusyTimeout: 100 * time.Millisecond, WriteWait: wait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	holder := child(t, "hold", db, hold)
	defer waitAll(t, []*exec.Cmd{holder})
	waitHolding(t, holder)
	_, err = s.BeginRun(context.Background(), Run{Started: time.Now()}, []Query{q1})
	return s, err
}

// TestWriteWaitsOutALongWriter: a write that finds another process
// holding the database longer than SQLite's busy timeout waits (and
// counts the wait) instead of failing with "database is locked".
func TestWriteWaitsOutALongWriter(t *testing.T) {
	s, err := heldWrite(t, 30*time.Second, "2s")
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Contention(); c.Retries == 0 || c.GaveUp != 0 {
		t.Errorf("contention %+v: want retries counted, none given up", c)
	}
}

// TestWriteGivesUpVisibly: past the bound the write fails with ErrBusy,
// not a bare "database is locked", and says how long it waited.
func TestWriteGivesUpVisibly(t *testing.T) {
	s, err := heldWrite(t, 500*time.Millisecond, "3s")
	if !errors.Is(err, ErrBusy) || Reason(err) != "store_busy" || !strings.Contains(err.Error(), "attempts") || strings.Contains(err.Error(), "locked") {
		t.Fatalf("got %v (reason %s), want ErrBusy", err, Reason(err))
	}
	if c := s.Contention(); c.GaveUp != 1 {
		t.Errorf("contention %+v: want one given up", c)
	}
}

// waitHolding waits until the holder says it holds the write lock.
func waitHolding(t *testing.T, c *exec.Cmd) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(c.Stdout.(*lockedBuffer).String(), "holding") {
			return
		}
	}
	t.Fatal("the holder never took the lock")
}
