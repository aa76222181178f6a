package hunt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/output"
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

// HostSummary is one host's outcome: its state and why, whether its
// results are in the store, and how many rows it returned.
type HostSummary struct {
	store.HostOutcome        // Host: its name in the store
	Target            string // the target's name, as given
	Stored            bool   // the host's outcome (and rows, unless it failed) is in the store
	Rows              int    // rows of all queries
	Findings          int    // rows of detection queries
}

// Summary is a hunt's outcome.
type Summary struct {
	RunID int64
	Hosts []HostSummary
}

// Count returns how many hosts are in each state.
func (s Summary) Count() (ok, incomplete, failed int) {
	for _, h := range s.Hosts {
		switch h.State {
		case store.StateOK:
			ok++
		case store.StateIncomplete:
			incomplete++
		default:
			failed++
		}
	}
	return
}

// Clean reports whether every host is ok: complete and stored.
func (s Summary) Clean() bool {
	ok, _, _ := s.Count()
	return ok == len(s.Hosts)
}

// Validate refuses what would make a run ambiguous before it starts: two
// targets with one name (they would be one host in the store) and a query
// that takes the coverage query's id.
func Validate(targets []Target, qs []*querydef.Query) error {
	if len(targets) == 0 {
		return errors.New("no targets")
	}
	if _, dups := Dedup(targets); len(dups) > 0 {
		return fmt.Errorf("targets given more than once: %s", strings.Join(dups, ", "))
	}
	for _, q := range qs {
		if q.ID == CoverageID {
			return fmt.Errorf("%s: the query id %s is the hunt's own coverage query", q.File, CoverageID)
		}
	}
	return nil
}

// Dedup keeps the first target of each name; dups says which names were
// given more than once, and how often.
func Dedup(targets []Target) (out []Target, dups []string) {
	n := map[string]int{}
	for _, t := range targets {
		if n[t.Name()]++; n[t.Name()] == 1 {
			out = append(out, t)
		}
	}
	for _, t := range out {
		if c := n[t.Name()]; c > 1 {
			dups = append(dups, fmt.Sprintf("%s (given %d times)", t.Name(), c))
		}
	}
	return out, dups
}

// Run hunts every target and saves each host's results as it arrives, in
// its own transaction: a crash loses at most the hosts not yet saved.
// Every host gets a state (see Assess); one host's bad answer or failed
// save is that host's failure, never the run's. The error is for what
// stops the run itself (validation, beginning the run) or leaves it
// unfinished in the store; the summary holds every host even then.
func Run(ctx context.Context, st store.Store, targets []Target, qs []*querydef.Query, o Options) (Summary, error) {
	if err := Validate(targets, qs); err != nil {
		return Summary{}, err
	}
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	sq := []store.Query{Coverage()}
	bq := []BatchQuery{{ID: CoverageID, SQL: CoverageSQL}}
	kind := map[string]string{}
	for _, q := range qs {
		sq = append(sq, store.Query{ID: q.ID, Title: q.Title, Kind: q.Kind, SQL: q.SQL, Attack: q.Attack, Volatile: q.Volatile})
		bq = append(bq, BatchQuery{ID: q.ID, SQL: q.SQL, Event: q.Kind == "event"})
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
	for i, t := range targets {
		// what a host is until it is hunted: an interrupted run shows it
		sum.Hosts[i].HostOutcome = store.HostOutcome{Host: t.Name(), State: store.StateFailed, Reasons: []string{"not hunted: the run was interrupted"}}
		sum.Hosts[i].Target = t.Name()
	}
	prog := newProgress(o, len(targets))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex // the store takes one host at a time
	saved := &saver{st: st, runID: runID, hosts: map[string]store.HostKey{}}
	for w := 0; w < o.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t := targets[i]
				hctx, cancel := context.WithTimeout(ctx, o.Timeout)
				a, err := t.Hunt(hctx, bq)
				cancel()
				h := Assess(t.Name(), bq, a.Results, err)
				h.Reasons = append(h.Reasons, a.Notes...)
				mu.Lock()
				hs := saved.save(ctx, store.HostKey{Alias: t.Name(), Machine: a.Machine}, h, kind)
				hs.Target = t.Name()
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
	if err := st.FinishRun(context.WithoutCancel(ctx), runID); err != nil {
		return sum, fmt.Errorf("store: finish run %d: %w", runID, err)
	}
	return sum, nil
}

// saver stores the hosts of a run, each machine once.
type saver struct {
	st    store.Store
	runID int64
	hosts map[string]store.HostKey // stored host name: how it was reached
}

// save finds the host k reached and stores h as its result. A machine
// another target of the run reached already is not stored again (its
// state stays what it was, saying so). A host the store refuses has
// failed.
func (s *saver) save(ctx context.Context, k store.HostKey, h store.HostResult, kind map[string]string) HostSummary {
	name, err := s.st.ResolveHost(ctx, k)
	if err != nil {
		hs := summarize(h, kind)
		hs.State = store.StateFailed
		hs.Reasons = append(hs.Reasons, "not stored: which host it is: "+oneLine(err))
		return hs
	}
	h.Host = name
	hs := summarize(h, kind)
	if first, ok := s.hosts[name]; ok {
		if first.Machine.Hostname != k.Machine.Hostname {
			// machines cloned with their machine-id: not one machine
			// whatever they claim, and neither may hide the other
			hs.State = store.StateFailed
			hs.Reasons = append(hs.Reasons, fmt.Sprintf("not stored: it claims the identity of %s (%s), but its host name is %s, not %s: a clone that kept its machine-id?",
				first.Alias, k.Machine.ID, k.Machine.Hostname, first.Machine.Hostname))
			return hs
		}
		hs.Reasons = append(hs.Reasons, fmt.Sprintf("not stored: the same machine as %s, stored once", first.Alias))
		return hs
	}
	s.hosts[name] = k
	save(ctx, s.st, s.runID, h, &hs)
	return hs
}

// save stores h; a host the store refuses has failed ("not stored"), and
// the store is asked to keep at least that.
func save(ctx context.Context, st store.Store, runID int64, h store.HostResult, hs *HostSummary) {
	err := st.SaveHost(ctx, runID, h)
	if err == nil {
		hs.Stored = true
		return
	}
	hs.State = store.StateFailed
	hs.Reasons = append(hs.Reasons, "not stored: "+oneLine(err))
	failure := store.HostResult{Host: h.Host, Err: "not stored: " + oneLine(err), State: store.StateFailed, Reasons: hs.Reasons}
	if err := st.SaveHost(context.WithoutCancel(ctx), runID, failure); err != nil {
		hs.Reasons = append(hs.Reasons, "nor is the failure recorded: "+oneLine(err))
	}
}

func summarize(h store.HostResult, kind map[string]string) HostSummary {
	hs := HostSummary{HostOutcome: store.HostOutcome{Host: h.Host, Err: h.Err, State: h.State, Reasons: h.Reasons}}
	for _, q := range h.Queries {
		for _, p := range q.Problems {
			hs.Problems = append(hs.Problems, store.QueryProblem{QueryID: q.QueryID, Problem: p})
		}
		if q.Err != "" {
			continue // its rows are not stored
		}
		hs.Rows += len(q.Rows)
		if kind[q.QueryID] == "detection" {
			hs.Findings += len(q.Rows)
		}
	}
	return hs
}

// Findings are the rows of detection queries that the stored hosts
// returned in the run: "new" when they first appeared on their host in
// it, else "present". added counts the rows of every query that appeared
// in the run.
func Findings(ctx context.Context, st store.Store, sum Summary, qs []*querydef.Query) (findings []store.Change, added int, err error) {
	appeared := map[string]bool{}
	changes, err := st.Diff(ctx, store.Window{Run: sum.RunID})
	if err != nil {
		return nil, 0, err
	}
	for _, ch := range changes {
		if ch.Kind == store.New {
			appeared[ch.Host+"\x00"+ch.QueryID+"\x00"+ch.RowHash] = true
		}
	}
	// one question a query for all hosts, not one a host: a fleet is
	// tens of thousands of them
	current := map[string][]store.Change{} // by host and query
	for _, q := range qs {
		if q.Kind != "detection" {
			continue
		}
		cur, err := st.Current(ctx, "", q.ID)
		if err != nil {
			return nil, 0, err
		}
		for _, f := range cur {
			current[f.Host+"\x00"+q.ID] = append(current[f.Host+"\x00"+q.ID], f)
		}
	}
	for _, h := range sum.Hosts {
		if !h.Stored {
			continue
		}
		for _, q := range qs {
			for _, f := range current[h.Host+"\x00"+q.ID] {
				if f.RunID != sum.RunID {
					continue // the query failed on the host this time
				}
				f.Kind = store.Present
				if appeared[f.Host+"\x00"+f.QueryID+"\x00"+f.RowHash] {
					f.Kind = store.New
				}
				findings = append(findings, f)
			}
		}
	}
	return findings, len(appeared), nil
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// progress reports hosts done and not ok, with an ETA.
type progress struct {
	o        Options
	total    int
	mu       sync.Mutex
	n, notOK int
	start    time.Time
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
	if h.State != store.StateOK {
		p.notOK++
	}
	if !p.o.Bar {
		host := ""
		if h.Host != h.Target {
			host = ", host " + h.Host
		}
		if h.State == store.StateOK && len(h.Reasons) > 0 {
			// the other states' reasons are reported with them
			host += "; " + strings.Join(h.Reasons, "; ")
		}
		fmt.Fprintf(p.o.Progress, "pkgpersist: %s: %s (%d rows%s)\n", output.Safe(h.Target), h.State, h.Rows, output.Safe(host))
		return
	}
	eta := time.Duration(0)
	if p.n > 0 {
		eta = time.Since(p.start) / time.Duration(p.n) * time.Duration(p.total-p.n)
	}
	width := 30
	filled := width * p.n / max(1, p.total)
	fmt.Fprintf(p.o.Progress, "\r[%s%s] %d/%d hosts, %d not ok, ETA %s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, p.total, p.notOK, eta.Round(time.Second))
}

func (p *progress) finish() {
	if p.o.Progress != nil && p.o.Bar {
		fmt.Fprintln(p.o.Progress)
	}
}
