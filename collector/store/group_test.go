package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func enrolled(t *testing.T, s *SQLite, n int) []int64 {
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
}

// A batch that cannot be stored fails alone: the others written in the
// same transaction are stored and acknowledged.
func TestSaveLogsGroupFaultStaysWithItsBatch(t *testing.T) {
	s := open(t)
	hosts := enrolled(t, s, 2)
	batch := func(host int64, name string) *logBatch {
		return &logBatch{hostID: host, results: encodeLogged(logged(name, 1, 3)), wake: make(chan bool, 1)}
	}
	// host 999999 does not exist: its rows break the foreign key
	group := []*logBatch{batch(hosts[0], "a"), batch(999999, "orphan"), batch(hosts[1], "b")}
	s.writeLogs(context.Background(), group)
	for i, want := range []bool{true, false, true} {
		if ok := group[i].err == nil && group[i].added == 3; ok != want {
			t.Errorf("batch %d: added %d, %v; want stored %v", i, group[i].added, group[i].err, want)
		}
	}
	if n := count(t, s, "scheduled_results"); n != 6 {
		t.Errorf("%d rows stored, want 6", n)
	}
}
