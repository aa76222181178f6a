package osqserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/store"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// smallDisk mounts a tmpfs of size bytes for the test: a real file system
// that fills up, as a collector's disk does.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		need.Missing(t, "mounting a small tmpfs needs root: "+err.Error())
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes a file in dir until the file system has no room left, then
// gives back leave bytes, and returns a function that frees the rest.
func fill(t *testing.T, dir string, leave int64) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(max(fi.Size()-leave, 0)); err != nil {
		t.Fatal(err)
	}
	return func() { os.Remove(path) }
}

// TestStoreFullIsNotAcknowledged: on a full disk, log batches, answers to
// a hunt and enrollments that were not stored get no 200 (osqueryd keeps
// them and sends them again); the refusal says why (store_full, not
// unknown_query); everything acknowledged is in the store once there is
// room again, and what was refused is stored when sent again.
func TestStoreFullIsNotAcknowledged(t *testing.T) {
	dir := smallDisk(t, 4<<20)
	s := startIn(t, dir, DefaultOptions)
	o := newOsqueryd(t, s, "web1")
	o.enroll(secret)
	ctx := context.Background()
	nodes, err := s.st.Nodes(ctx)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes %v, %v", nodes, err)
	}
	if err := s.st.Queue(ctx, "b1", nodes[0].HostID, []store.Query{{ID: "q1", SQL: "SELECT 1"}}); err != nil {
		t.Fatal(err)
	}
	qs := o.request("distributed/read", map[string]any{}, false)["queries"].(map[string]any)
	id := store.DistributedID("b1", "q1")
	if qs[id] == nil {
		t.Fatalf("queued query not handed out: %v", qs)
	}
	free := fill(t, dir, 256<<10)

	// log batches until the store refuses three in a row
	acked, refused := 0, 0
	batch := func(b int) map[string]any {
		var data []any
		for r := 0; r < 100; r++ {
			data = append(data, map[string]any{"name": "pack_pkgpersist_unowned-hooks", "hostIdentifier": o.host,
				"unixTime": 1795377600 + b, "epoch": 0, "counter": b, "action": "added",
				"columns": map[string]any{"path": fmt.Sprintf("/etc/apt/apt.conf.d/%d-%d", b, r), "pad": strings.Repeat("x", 400)}})
		}
		return map[string]any{"node_key": o.nodeKey, "log_type": "result", "data": data}
	}
	for b := 0; refused < 3 && b < 10000; b++ {
		code, r, err := o.try("log", batch(b))
		if err != nil {
			t.Fatal(err)
		}
		if code == 200 {
			if refused > 0 {
				t.Fatalf("batch %d: 200 after a refusal on a full disk: %v", b, r)
			}
			acked++
			continue
		}
		if code != 503 || r["error"] == nil {
			t.Fatalf("batch %d: %d %v, want 503 with an error", b, code, r)
		}
		refused++
	}
	if refused < 3 || acked == 0 {
		t.Fatalf("%d batches acknowledged, %d refused: the test needs both", acked, refused)
	}

	answer := map[string]any{"node_key": o.nodeKey, "statuses": map[string]any{id: 0},
		"queries": map[string]any{id: []map[string]string{{"x": strings.Repeat("y", 64<<10)}, {"x": strings.Repeat("z", 64<<10)}}}}
	if code, r, _ := o.try("distributed/write", answer); code == 200 {
		t.Errorf("distributed/write on a full disk: 200 %v", r)
	}
	if n := s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="unknown_query"`); n != 0 {
		t.Errorf("%d refusals counted as unknown_query", n)
	}
	if n := s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="store_full"`); n < 4 {
		t.Errorf("%d refusals counted as store_full, want the %d batches and the answer", n, refused)
	}

	// room again: what was acknowledged is there, what was refused is
	// stored when sent again
	free()
	if n, err := s.st.CountLogged(ctx, ""); err != nil || n != acked*100 {
		t.Errorf("%d logged rows stored, %d acknowledged (%v)", n, acked*100, err)
	}
	if code, r, _ := o.try("distributed/write", answer); code != 200 || r["error"] != nil {
		t.Fatalf("distributed/write resent: %d %v", code, r)
	}
	got, pending, err := s.st.Answers(ctx, "b1", nodes[0].HostID)
	if err != nil || pending != 0 || len(got) != 1 || len(got[0].Rows) != 2 {
		t.Errorf("answers after the resend: %v, %d pending, %v", got, pending, err)
	}
	if code, _, _ := o.try("log", batch(acked)); code != 200 {
		t.Errorf("a refused batch sent again: %d", code)
	}
	if n, _ := s.st.CountLogged(ctx, ""); n != (acked+1)*100 {
		t.Errorf("%d logged rows, want %d", n, (acked+1)*100)
	}
}

// TestStoreFullEnroll: an enrollment the store could not keep hands out
// no node key.
func TestStoreFullEnroll(t *testing.T) {
	dir := smallDisk(t, 4<<20)
	s := startIn(t, dir, DefaultOptions)
	fill(t, dir, 0)
	for i := 0; i < 50; i++ {
		o := newOsqueryd(t, s, fmt.Sprintf("host-%d-%s", i, strings.Repeat("h", 200)))
		code, r, err := o.try("enroll", map[string]any{"enroll_secret": secret, "host_identifier": o.host,
			"host_details": map[string]any{"system_info": map[string]string{"pad": strings.Repeat("p", 32<<10)}}})
		if err != nil {
			t.Fatal(err)
		}
		if code == 200 {
			if nodes, _ := s.st.Nodes(context.Background()); len(nodes) != i+1 {
				t.Fatalf("enroll %d acknowledged, %d nodes stored", i, len(nodes))
			}
			continue
		}
		if code != 503 || r["node_key"] != nil || r["error"] == nil {
			t.Fatalf("enroll %d: %d %v", i, code, r)
		}
		if n := s.srv.Metrics.Get("pkgpersist_rejected_total", `reason="store_full"`); n != 1 {
			t.Errorf("store_full counted %d times", n)
		}
		return
	}
	t.Fatal("every enrollment acknowledged on a full disk")
}
