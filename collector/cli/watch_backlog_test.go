package cli

import (
	"bufio"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// failingSink refuses every write until ok, then stores all it is given.
type failingSink struct {
	ok     bool
	writes int
}

func (s *failingSink) write(_ context.Context, rows []store.Logged) (int, error) {
	s.writes++
	if !s.ok {
		return 0, errors.New("database or disk is full")
	}
	return len(rows), nil
}

// errWriter fails every write, as a full disk under standard output does.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func logged(n int) []store.Logged {
	out := make([]store.Logged, n)
	for i := range out {
		out[i] = store.Logged{Name: "pack_pkgpersist_pm-installs", Action: "added", Row: store.Row{"eid": "1"}}
	}
	return out
}

// TestWatchBacklogCapped: rows a failing sink refuses are kept for the
// next write, up to the cap; past it the watch gives up with one line
// saying how many rows were not stored, never dropping them silently.
func TestWatchBacklogCapped(t *testing.T) {
	ctx := context.Background()
	sink := &failingSink{}
	b := &backlog{sink: sink, max: 5}
	for _, want := range []string{"2 rows not stored yet: database or disk is full", "4 rows not stored yet"} {
		err := b.add(ctx, logged(2))
		var full *backlogFull
		if err == nil || !strings.Contains(err.Error(), want) || errors.As(err, &full) {
			t.Fatalf("under the cap: %v, want %q", err, want)
		}
	}
	err := b.add(ctx, logged(2))
	var full *backlogFull
	if !errors.As(err, &full) || err.Error() != "giving up: 6 rows were not stored (more than 5 pending while writes failed): database or disk is full" {
		t.Fatalf("past the cap: %v", err)
	}
	// a sink that recovers under the cap takes every pending row
	b = &backlog{sink: sink, max: 5}
	mustNil(t, ignoreNotStored(b.add(ctx, logged(3))))
	sink.ok = true
	mustNil(t, b.add(ctx, logged(1)))
	if b.stored != 4 || len(b.rows) != 0 {
		t.Fatalf("stored %d, pending %d after recovery", b.stored, len(b.rows))
	}
}

// TestWatchBacklogNDJSON: in ndjson mode a failed write to standard
// output fails every later one (bufio.Writer keeps its error), so the
// watch gives up once the cap is passed.
func TestWatchBacklogNDJSON(t *testing.T) {
	b := &backlog{sink: &lineSink{out: bufio.NewWriterSize(errWriter{}, 16), host: "h"}, max: 3}
	ctx := context.Background()
	if err := b.add(ctx, logged(2)); err == nil || !strings.Contains(err.Error(), "2 rows not stored yet: no space left on device") {
		t.Fatalf("first write: %v", err)
	}
	err := b.add(ctx, logged(2))
	if !errors.As(err, new(*backlogFull)) || !strings.Contains(err.Error(), "4 rows were not stored") {
		t.Fatalf("second write: %v", err)
	}
}

func ignoreNotStored(err error) error {
	if err != nil && strings.Contains(err.Error(), "not stored yet") {
		return nil
	}
	return err
}
