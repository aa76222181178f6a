package hunt_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/hunt"
)

// TestServeBatchStopsWhenInputCloses: with watch, a batch whose query
// never ends returns soon after its standard input closes.
func TestServeBatchStopsWhenInputCloses(t *testing.T) {
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- hunt.ServeBatch(context.Background(), t.TempDir(), nil, r, io.Discard, true)
	}()
	_, err := w.Write([]byte(`[{"id":"spin","sql":"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"}]`))
	must(t, err)
	time.Sleep(300 * time.Millisecond)
	w.Close()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "the collector is gone") {
			t.Fatalf("returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("batch still running 5 s after its input closed")
	}
}

// endless is a well-formed start of an answer followed by rows without
// end.
type endless struct{ started bool }

func (e *endless) Read(p []byte) (int, error) {
	if !e.started {
		e.started = true
		return copy(p, `[{"id":"hooks","rows":[`), nil
	}
	const row = `{"a":"b"},`
	n := 0
	for n+len(row) <= len(p) {
		n += copy(p[n:], row)
	}
	return n, nil
}

// TestReadBatchBudget: rows without end stop at the budget, counting
// RowCost a row, with an OutputLimitError; an answer within it is read.
func TestReadBatchBudget(t *testing.T) {
	const max = 1 << 20
	_, err := hunt.ReadBatch(&endless{}, max)
	var lim *hunt.OutputLimitError
	if !errors.As(err, &lim) || lim.Max != max {
		t.Fatalf("endless rows: %v", err)
	}
	ok := `[{"id":"hooks","rows":[` + strings.Repeat(`{"a":"b"},`, 100) + `{"a":"c"}]}]` + "\n"
	res, err := hunt.ReadBatch(strings.NewReader(ok), int64(len(ok)+101*hunt.RowCost))
	if err != nil || len(res) != 1 || len(res[0].Rows) != 101 {
		t.Fatalf("within the budget: %v %v", res, err)
	}
	if _, err := hunt.ReadBatch(strings.NewReader(ok), int64(len(ok)+100*hunt.RowCost)); !errors.As(err, &lim) {
		t.Fatalf("one row over the budget: %v", err)
	}
}
