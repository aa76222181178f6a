package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func enrolled(t *testing.T, s *DB, n int) []int64 {
	t.Helper()
	var ids []int64
	for h := 0; h < n; h++ {
		id := fmt.Sprintf("group-%03d", h)
		if _, err := s.EnrollNode(context.Background(), Enrollment{Identifier: id, KeyHash: KeyHash(id), At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		node, err := s.Authenticate(context.Background(), KeyHash(id), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, node.HostID)
	}
	return ids
}

// Concurrent callers share commits, yet each is told exactly how many of
// its own rows were new, and every row is stored once.
func TestSaveLogsConcurrentCallers(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		hosts := enrolled(t, s, 8)
		const callers, perCaller = 64, 50
		var wg sync.WaitGroup
		added := make([]int, callers)
		errs := make([]error, callers)
		for c := 0; c < callers; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rows := logged(fmt.Sprint("c", c), c, perCaller)
				// the same batch twice: osqueryd resends what it was not sure of
				a, err := s.SaveLogs(context.Background(), hosts[c%len(hosts)], rows, []StatusLine{{UnixTime: int64(c), Message: "m"}})
				if err == nil {
					var again int
					again, err = s.SaveLogs(context.Background(), hosts[c%len(hosts)], rows, nil)
					a += 1000 * again
				}
				added[c], errs[c] = a, err
			}()
		}
		wg.Wait()
		for c := range added {
			if errs[c] != nil || added[c] != perCaller {
				t.Errorf("caller %d: added %d, %v; want %d new rows, none on resending", c, added[c], errs[c], perCaller)
			}
		}
		if n := count(t, s, "scheduled_results"); n != callers*perCaller {
			t.Errorf("%d rows stored, want %d", n, callers*perCaller)
		}
		if n := count(t, s, "status_logs"); n != callers {
			t.Errorf("%d status lines stored, want %d", n, callers)
		}
	})
}

// A batch that cannot be stored fails alone: the others written in the
// same transaction are stored and acknowledged.
func TestSaveLogsGroupFaultStaysWithItsBatch(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		hosts := enrolled(t, s, 2)
		added := make([]int, 3)
		batch := func(i int, host int64, name string) *groupedWrite {
			rows := encodeLogged(logged(name, 1, 3))
			return &groupedWrite{op: "save logs", rows: 3, fn: func(tx *sql.Tx) error {
				var err error
				added[i], err = saveLogs(context.Background(), tx, host, rows, nil)
				return err
			}}
		}
		// host 999999 does not exist: its rows break the foreign key
		group := []*groupedWrite{batch(0, hosts[0], "a"), batch(1, 999999, "orphan"), batch(2, hosts[1], "b")}
		s.writeGroup(context.Background(), group)
		for i, want := range []bool{true, false, true} {
			if ok := group[i].err == nil && added[i] == 3; ok != want {
				t.Errorf("batch %d: added %d, %v; want stored %v", i, added[i], group[i].err, want)
			}
		}
		if n := count(t, s, "scheduled_results"); n != 6 {
			t.Errorf("%d rows stored, want 6", n)
		}
	})
}

// Answers share commits with each other and with log batches; an answer
// to a query not pending fails alone, with ErrNotPending.
func TestAnswersGrouped(t *testing.T) {
	each(t, func(t *testing.T, open opener) {
		s := open(t)
		hosts := enrolled(t, s, 40)
		ctx := context.Background()
		for _, h := range hosts {
			if err := s.Queue(ctx, "b1", h, []Query{{ID: "q1", SQL: "SELECT 1"}, {ID: "q2", SQL: "SELECT 2"}}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 3*len(hosts))
		for i, h := range hosts {
			for _, q := range []string{"q1", "q2", "nope"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.Answer(ctx, h, "b1", q, []Row{{"q": q}}, 0, "", time.Now())
					if q == "nope" {
						if !errors.Is(err, ErrNotPending) {
							errs <- fmt.Errorf("host %d: answer to a query not queued: %v", i, err)
						}
						return
					}
					if err != nil {
						errs <- err
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.SaveLogs(ctx, h, logged(fmt.Sprint("h", i), i, 3), nil); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		waiting, err := s.Waiting(ctx, "b1")
		if err != nil || len(waiting) != 0 {
			t.Errorf("hosts still waiting: %v %v", waiting, err)
		}
		for _, h := range hosts[:3] {
			got, pending, err := s.Answers(ctx, "b1", h)
			if err != nil || pending != 0 || len(got) != 2 {
				t.Errorf("host %d: %d answers, %d pending, %v", h, len(got), pending, err)
			}
		}
	})
}
