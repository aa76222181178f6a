package hunt

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// DefaultMaxOutput is what one SSH host's answer may cost the collector
// (SSH.MaxOutput): its bytes plus RowCost for each row. A host's answer is
// decoded as it streams, so the collector holds about twice this per host
// hunted at once, whatever the host prints.
const DefaultMaxOutput = 64 << 20

// RowCost is what a row is charged against MaxOutput beyond its bytes: a
// decoded row's maps and strings, so that a flood of tiny rows is bounded
// as tightly as a flood of text.
const RowCost = 256

// OutputLimitError is a host whose answer went over its budget.
type OutputLimitError struct{ Max int64 }

func (e *OutputLimitError) Error() string {
	return fmt.Sprintf("the host's output went over %d MiB (--max-output): stopped reading it", e.Max>>20)
}

// budget is what is left of a host's output allowance.
type budget struct {
	left, max int64
}

func newBudget(max int64) *budget { return &budget{left: max, max: max} }

// take charges n; past the allowance it fails, and keeps failing.
func (b *budget) take(n int64) error {
	if b == nil {
		return nil
	}
	if b.left -= n; b.left < 0 {
		return &OutputLimitError{b.max}
	}
	return nil
}

// budgetReader charges every byte read.
type budgetReader struct {
	r io.Reader
	b *budget
}

func (r budgetReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if berr := r.b.take(int64(n)); berr != nil {
		return 0, berr
	}
	return n, err
}

// tail keeps the last max bytes written: a host's stderr, for the reason
// line, however much it prints.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf[max(0, len(t.buf)-t.max):])
}

func isBudget(err error) bool {
	var e *OutputLimitError
	return errors.As(err, &e)
}
