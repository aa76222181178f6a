package hunt

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/querydef"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Options tune a hunt.
type Options struct {
	Parallel  int           // hosts at once
	Timeout   time.Duration // per host
	Progress  io.Writer     // nil for none
	Bar       bool          // a redrawn progress bar (a terminal) instead of lines
	Transport string
}

// HostSummary is one host's outcome.
type HostSummary struct {
	Host     string
	Err      string
	Rows     int               // rows of all queries
	Findings int               // rows of detection queries
	Failed   map[string]string // query id -> error
}

// Summary is a hunt's outcome.
type Summary struct {
	RunID int64
	Hosts []HostSummary
}

// Failed counts hosts that could not be hunted at all.
func (s Summary) Failed() int {
	n := 0
	for _, h := range s.Hosts {
		if h.Err != "" {
			n++
		}
	}
	return n
}

// Run hunts every target and saves each host's results as it arrives, in
// its own transaction: a crash loses at most the hosts not yet saved.
func Run(ctx context.Context, st store.Store, targets []Target, qs []*querydef.Query, o Options) (Summary, error) {
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	var sq []store.Query
	var bq []BatchQuery
	kind := map[string]string{}
	for _, q := range qs {
		sq = append(sq, store.Query{ID: q.ID, Title: q.Title, Kind: q.Kind, SQL: q.SQL, Attack: q.Attack})
		bq = append(bq, BatchQuery{ID: q.ID, SQL: q.SQL})
		kind[q.ID] = q.Kind
	}
	who := ""
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		who += "@" + h
	}
	runID, err := st.BeginRun(ctx, store.Run{Started: time.Now(), Transport: o.Transport, Who: who}, sq)
	if err != nil {
		return Summary{}, fmt.Errorf("store: %w", err)
	}
	sum := Summary{RunID: runID, Hosts: make([]HostSummary, len(targets))}
	prog := newProgress(o, len(targets))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex // the store takes one host at a time
	var saveErr error
	for w := 0; w < o.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t := targets[i]
				hctx, cancel := context.WithTimeout(ctx, o.Timeout)
				res, err := t.Hunt(hctx, bq)
				cancel()
				h := toHost(t.Name(), res)
				if err != nil {
					h = store.HostResult{Host: t.Name(), Err: oneLine(err)}
				}
				hs := HostSummary{Host: t.Name(), Err: h.Err, Failed: map[string]string{}}
				for _, q := range h.Queries {
					hs.Rows += len(q.Rows)
					if kind[q.QueryID] == "detection" {
						hs.Findings += len(q.Rows)
					}
					if q.Err != "" {
						hs.Failed[q.QueryID] = q.Err
					}
				}
				mu.Lock()
				if err := st.SaveHost(ctx, runID, h); err != nil && saveErr == nil {
					saveErr = fmt.Errorf("store %s: %w", t.Name(), err)
					hs.Err = "not stored: " + err.Error()
				}
				sum.Hosts[i] = hs
				mu.Unlock()
				prog.done(hs)
			}
		}()
	}
	for i := range targets {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	prog.finish()
	if err := st.FinishRun(ctx, runID); err != nil && saveErr == nil {
		saveErr = err
	}
	return sum, saveErr
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// progress reports hosts done and failed, with an ETA.
type progress struct {
	o       Options
	total   int
	mu      sync.Mutex
	n, fail int
	start   time.Time
}

func newProgress(o Options, total int) *progress {
	return &progress{o: o, total: total, start: time.Now()}
}

func (p *progress) done(h HostSummary) {
	if p.o.Progress == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if h.Err != "" {
		p.fail++
	}
	if !p.o.Bar {
		status := "ok"
		if h.Err != "" {
			status = "failed: " + h.Err
		}
		fmt.Fprintf(p.o.Progress, "pkgpersist: %s: %s (%d rows)\n", h.Host, status, h.Rows)
		return
	}
	eta := time.Duration(0)
	if p.n > 0 {
		eta = time.Since(p.start) / time.Duration(p.n) * time.Duration(p.total-p.n)
	}
	width := 30
	filled := width * p.n / max(1, p.total)
	fmt.Fprintf(p.o.Progress, "\r[%s%s] %d/%d hosts, %d failed, ETA %s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, p.total, p.fail, eta.Round(time.Second))
}

func (p *progress) finish() {
	if p.o.Progress != nil && p.o.Bar {
		fmt.Fprintln(p.o.Progress)
	}
}
