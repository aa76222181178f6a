package table

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// counting streams n rows, or until emit refuses one; ended is closed
// when it returns, with what emit said.
func counting(n int, ended chan error) *Table {
	return &Table{Name: "counting", Stream: func(ctx context.Context, _ QueryContext, emit func(Row) error) error {
		for i := 0; i < n; i++ {
			if err := emit(Row{"i": strconv.Itoa(i)}); err != nil {
				ended <- err
				return err
			}
		}
		ended <- nil
		return nil
	}}
}

// TestPullInOrder: every row, in order, then the end.
func TestPullInOrder(t *testing.T) {
	ended := make(chan error, 1)
	next, stop := counting(1000, ended).Pull(context.Background(), QueryContext{})
	defer stop()
	for i := 0; i < 1000; i++ {
		r, ok, err := next()
		if !ok || err != nil || r["i"] != strconv.Itoa(i) {
			t.Fatalf("row %d: %v %v %v", i, r, ok, err)
		}
	}
	if _, ok, err := next(); ok || err != nil {
		t.Fatalf("after the last row: %v %v", ok, err)
	}
}

// TestPullStop: a reader that stops early stops the stream, which is not
// left blocked (a LIMIT over a large listing).
func TestPullStop(t *testing.T) {
	ended := make(chan error, 1)
	next, stop := counting(1_000_000, ended).Pull(context.Background(), QueryContext{})
	if _, ok, _ := next(); !ok {
		t.Fatal("no first row")
	}
	stop()
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("the stream ran to its end after stop")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream is still running after stop")
	}
}

// TestPullErrors: a stream's error and panic reach the reader, named
// after the table, after the rows before them.
func TestPullErrors(t *testing.T) {
	for want, fail := range map[string]func(){
		"counting: disk on fire":         nil,
		"counting: internal error: boom": func() { panic("boom") },
	} {
		tb := &Table{Name: "counting", Stream: func(ctx context.Context, _ QueryContext, emit func(Row) error) error {
			if err := emit(Row{"i": "0"}); err != nil {
				return err
			}
			if fail != nil {
				fail()
			}
			return errors.New("disk on fire")
		}}
		next, stop := tb.Pull(context.Background(), QueryContext{})
		if r, ok, err := next(); !ok || err != nil || r["i"] != "0" {
			t.Fatalf("%s: first row %v %v %v", want, r, ok, err)
		}
		if _, ok, err := next(); ok || err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
		stop()
	}
}
