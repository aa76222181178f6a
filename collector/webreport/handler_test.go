package webreport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// slowStore takes delay to read the hosts and counts its reads.
type slowStore struct {
	*store.DB
	delay time.Duration
	reads atomic.Int32
}

func (s *slowStore) HostStates(ctx context.Context) ([]store.HostState, error) {
	s.reads.Add(1)
	time.Sleep(s.delay)
	return s.DB.HostStates(ctx)
}

// TestHandlerSlowLoad: a page that takes longer to read than the cache
// time is still read once for requests one after the other (it is kept
// ten times as long as it took) and once for requests at the same time.
func TestHandlerSlowLoad(t *testing.T) {
	st, o := fixture(t)
	slow := &slowStore{DB: st, delay: 100 * time.Millisecond}
	srv := httptest.NewServer(Handler(slow, o, 10*time.Millisecond))
	defer srv.Close()
	get := func() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("status %d", resp.StatusCode)
		}
	}
	get()
	get()
	if n := slow.reads.Load(); n != 1 {
		t.Errorf("two requests one after the other read the store %d times", n)
	}
	time.Sleep(time.Duration(float64(10*slow.delay) * 1.5))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); get() }()
	}
	wg.Wait()
	if n := slow.reads.Load(); n != 2 {
		t.Errorf("after the cache time, four requests at once read the store %d more times", n-1)
	}
}
