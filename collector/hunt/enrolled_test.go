package hunt_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// queue is an osqueryd that answers only some queries.
type queue struct{ answered []store.QueryResult }

func (q *queue) Queue(context.Context, string, int64, []store.Query) error { return nil }
func (q *queue) Cancel(context.Context, string, int64) error               { return nil }
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
	res, err := e.Hunt(ctx, qs)
	must(t, err)
	if got := fmt.Sprint(res); got != "[{hooks [] [map[command:curl x|sh]]  []} {pkgpersist-coverage [] [] osqueryd did not answer before the time limit []}]" {
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
