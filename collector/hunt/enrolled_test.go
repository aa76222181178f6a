package hunt_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// queue is an osqueryd that answers only some queries.
type queue struct{ answered []store.QueryResult }

func (q *queue) Queue(context.Context, string, int64, []store.Query) error { return nil }
func (q *queue) Cancel(context.Context, string, int64) error               { return nil }
func (q *queue) Waiting(context.Context, string) (map[int64]bool, error) {
	return map[int64]bool{0: true}, nil
}
func (q *queue) Answers(context.Context, string, int64) ([]store.QueryResult, int, error) {
	return q.answered, 1, nil
}

// TestEnrolledPartialAnswers: when the time is up, the answers that came
// are kept and each query still waiting is that query's failure; with no
// answer at all the host failed.
func TestEnrolledPartialAnswers(t *testing.T) {
	qs := []hunt.BatchQuery{{ID: hunt.CoverageID}, {ID: "hooks"}}
	q := &queue{answered: []store.QueryResult{{QueryID: "hooks", Rows: []store.Row{{"command": "curl x|sh"}}}}}
	e := &hunt.Enrolled{Queue: q, Host: "web1", Poll: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	a, err := e.Hunt(ctx, qs)
	res := a.Results
	must(t, err)
	if got := fmt.Sprint(res); got != "[{hooks [] [map[command:curl x|sh]]  [] } {pkgpersist-coverage [] [] osqueryd did not answer before the time limit [] }]" {
		t.Fatalf("answers: %s", got)
	}
	if h := hunt.Assess("web1", qs, res, nil); h.State != store.StateIncomplete {
		t.Errorf("state %s %q", h.State, h.Reasons)
	}
	q.answered = nil
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := e.Hunt(ctx, qs); err == nil || !strings.Contains(err.Error(), "answered none of 2 queries") {
		t.Errorf("no answers: %v", err)
	}
}

// fleet is a distributed queue where each host answers its queries at a
// time of its own; it counts the store questions asked.
type fleet struct {
	mu       sync.Mutex
	pending  map[int64]int
	waiting  int // Waiting calls
	answers  int // Answers calls
	inflight chan struct{}
}

func (f *fleet) Queue(_ context.Context, _ string, host int64, qs []store.Query) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending[host] == 0 { // a host may answer before it is seen queued
		f.pending[host] = len(qs)
	}
	return nil
}
func (f *fleet) Cancel(context.Context, string, int64) error { return nil }
func (f *fleet) Waiting(context.Context, string) (map[int64]bool, error) {
	f.mu.Lock()
	f.waiting++
	out := map[int64]bool{}
	for h, n := range f.pending {
		if n > 0 {
			out[h] = true
		}
	}
	inflight := f.inflight
	f.inflight = nil // the first question only
	f.mu.Unlock()
	if inflight != nil {
		// the question is under way: hosts queue meanwhile
		inflight <- struct{}{}
		<-inflight
	}
	return out, nil
}
func (f *fleet) Answers(_ context.Context, _ string, host int64) ([]store.QueryResult, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers++
	if n := f.pending[host]; n > 0 {
		return nil, n, nil
	}
	return []store.QueryResult{{QueryID: "q", Rows: []store.Row{{"host": fmt.Sprint(host)}}}}, 0, nil
}
func (f *fleet) answer(host int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending[host] = -1
}

// TestBatchOneQuestionPerPoll: the hosts of a hunt share one batch, and
// each poll is one question to the store for all of them, not one per
// host; each host's answers are read once, when it has answered all.
func TestBatchOneQuestionPerPoll(t *testing.T) {
	const hosts = 500
	f := &fleet{pending: map[int64]int{}}
	b, err := hunt.NewBatch(f, 20*time.Millisecond)
	must(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, hosts)
	for h := int64(1); h <= hosts; h++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := &hunt.Enrolled{Queue: f, Batch: b, Host: fmt.Sprint("h", h), HostID: h}
			a, err := e.Hunt(context.Background(), []hunt.BatchQuery{{ID: "q"}})
			res := a.Results
			if err == nil && (len(res) != 1 || res[0].Rows[0]["host"] != fmt.Sprint(h)) {
				err = fmt.Errorf("host %d: %v", h, res)
			}
			errs <- err
		}()
	}
	// the hosts answer over ten polls
	for h := int64(1); h <= hosts; h++ {
		f.answer(h)
		if h%(hosts/10) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// at 20 ms a poll the hunt takes some 10 polls; a question per host
	// and poll would be thousands
	if f.waiting > 200 || f.answers != hosts {
		t.Errorf("%d Waiting questions and %d Answers reads for %d hosts; want a few dozen and %d", f.waiting, f.answers, hosts, hosts)
	}
}

// TestBatchLateHostNotReleasedEarly: a host that queues while a question
// is under way is not released by that question's answer, which was
// taken before its queries were there.
func TestBatchLateHostNotReleasedEarly(t *testing.T) {
	inflight := make(chan struct{})
	f := &fleet{pending: map[int64]int{}, inflight: inflight}
	b, err := hunt.NewBatch(f, time.Millisecond)
	must(t, err)
	early := make(chan error, 1)
	go func() {
		_, err := (&hunt.Enrolled{Queue: f, Batch: b, Host: "early", HostID: 1}).Hunt(context.Background(), []hunt.BatchQuery{{ID: "q"}})
		early <- err
	}()
	<-inflight // the first question is under way
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	late := make(chan error, 1)
	go func() {
		_, err := (&hunt.Enrolled{Queue: f, Batch: b, Host: "late", HostID: 2}).Hunt(ctx, []hunt.BatchQuery{{ID: "q"}})
		late <- err
	}()
	// let the late host queue and wait, then finish the question
	for {
		f.mu.Lock()
		queued := f.pending[2] > 0
		f.mu.Unlock()
		if queued {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	inflight <- struct{}{}
	// polls go on meanwhile; nobody has answered yet
	time.Sleep(50 * time.Millisecond)
	f.answer(1)
	f.answer(2)
	must(t, <-early)
	if err := <-late; err != nil || f.answers != 2 {
		t.Errorf("late host: %v, %d Answers reads for 2 hosts (released by a question asked before it queued)", err, f.answers)
	}
}
