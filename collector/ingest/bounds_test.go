package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/peakrss"
)

// eventLine is one event result line of query q on host web1.
func eventLine(q string, n int) string {
	return fmt.Sprintf(`{"name":"pack_pkgpersist_%s","hostIdentifier":"web1","unixTime":%d,"epoch":0,"counter":%d,"columns":{"n":"%d"},"action":"added"}`, q, 1795377600+n, n, n)
}

// snapshotLine is a snapshot line of q whose rows are the JSON rows.
func snapshotLine(q, rows string) string {
	return `{"snapshot":[` + rows + `],"action":"snapshot","name":"pack_pkgpersist_` + q + `","hostIdentifier":"web1","unixTime":1795378200,"epoch":0,"counter":0}`
}

// TestOverCapLinesSkipped: a line longer than the byte cap and one with
// more rows than the row cap are each skipped and reported by file:line;
// the lines around them are stored and the result says partial.
func TestOverCapLinesSkipped(t *testing.T) {
	st := openStore(t)
	lim := Limits{LineBytes: 4096, LineRows: 3}
	body := strings.Join([]string{
		eventLine("a", 1),
		snapshotLine("b", `{"x":"`+strings.Repeat("y", 5000)+`"}`), // over the byte cap
		"",
		eventLine("a", 2),
		snapshotLine("b", `{},{},{},{}`), // over the row cap
		snapshotLine("b", `{"x":"1"},{"x":"2"},{"x":"3"}`),
		eventLine("a", 3),
	}, "\n")
	s, err := ReadLimited(context.Background(), st, strings.NewReader(body), "big.log", lim)
	if err != nil {
		t.Fatal(err)
	}
	if s.Lines != 6 || s.Rows != 6 || s.New != 6 || s.Bad != 0 || s.Skipped != 2 || !s.Partial() {
		t.Errorf("stats: %+v", s)
	}
	want := []string{"big.log:2: line longer than 4096 bytes: skipped", "big.log:5: more than 3 rows in one line: skipped"}
	if len(s.SkippedLines) != 2 || !strings.HasPrefix(s.SkippedLines[0], want[0]) || !strings.HasPrefix(s.SkippedLines[1], want[1]) {
		t.Errorf("skip reports %q, want prefixes %q", s.SkippedLines, want)
	}
	if n, _ := st.CountLogged(context.Background(), "web1"); n != 6 {
		t.Errorf("%d rows stored, want 6", n)
	}
}

// TestTruncatedGzip: a .gz cut short keeps every complete line read before
// the cut and reports the truncation; it does not discard the file.
func TestTruncatedGzip(t *testing.T) {
	var lines []string
	for i := range 2000 {
		lines = append(lines, eventLine("a", i))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
	zw.Close()
	cut := gz.Bytes()[:gz.Len()*2/3]
	st := openStore(t)
	s, err := Read(context.Background(), st, bytes.NewReader(cut), "r.log.gz")
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows < 500 || s.Rows >= 2000 || s.New != s.Rows || !s.Partial() || !strings.HasPrefix(s.Truncated, fmt.Sprintf("r.log.gz:%d: ", s.Lines+1)) || !strings.Contains(s.Truncated, "unexpected EOF") {
		t.Fatalf("stats: %+v", s)
	}
	if n, _ := st.CountLogged(context.Background(), "web1"); n != s.Rows {
		t.Errorf("%d rows stored, %d read", n, s.Rows)
	}
}

// The child half of TestHugeLineMemory: ingest the file the environment
// names and print the stats.
func TestIngestChild(t *testing.T) {
	path := os.Getenv("PKGPERSIST_INGEST_CHILD")
	if path == "" {
		t.Skip("run by TestHugeLineMemory")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Read(context.Background(), openStore(t), f, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	json.NewEncoder(os.Stdout).Encode(s)
	peak, err := peakrss.Self()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("peak %d\n", peak)
}

// memoryCeiling is what ingesting one maximal line may take: the line's
// text as decoded strings, the per-row overhead of at most DefaultLineRows
// rows, the store's batch and the Go runtime. Today's reader took 5 GB
// for a 30 MB line of empty rows.
const memoryCeiling = 400 << 20

// TestHugeLineMemory: a 30 MB line of empty snapshot rows (ten million of
// them) is skipped with bounded memory, and a 30 MB line of real rows
// under the row cap is stored with bounded memory; the lines around them
// are stored. Each runs in a child process whose peak RSS is measured.
func TestHugeLineMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 60 MB and ingests it")
	}
	var big strings.Builder
	for i := range 60000 {
		fmt.Fprintf(&big, `{"path":"/usr/lib/python3/dist-packages/dnf-plugins/%s%06d.py","n":"%d"},`, strings.Repeat("p", 440), i, i)
	}
	for name, c := range map[string]struct {
		line          string
		rows, skipped int
	}{
		"empty rows": {snapshotLine("b", strings.Repeat(`{},`, 10_000_000)+`{}`), 2, 1},
		"real rows":  {snapshotLine("b", strings.TrimSuffix(big.String(), ",")), 60002, 0},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.log")
			if err := os.WriteFile(path, []byte(eventLine("a", 1)+"\n"+c.line+"\n"+eventLine("a", 2)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Logf("line of %.1f MB", float64(len(c.line))/1e6)
			cmd := exec.Command(os.Args[0], "-test.run=^TestIngestChild$", "-test.v")
			cmd.Env = append(os.Environ(), "PKGPERSIST_INGEST_CHILD="+path)
			r, err := peakrss.Run(cmd, memoryCeiling)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(r.Stdout, "\n") {
				var self int64
				if _, err := fmt.Sscanf(l, "peak %d", &self); err == nil {
					r.Peak = max(r.Peak, self)
				}
			}
			t.Logf("peak RSS %d MB", r.Peak>>20)
			if r.Killed || r.Peak > memoryCeiling || r.Err != nil {
				t.Fatalf("child: killed %v (peak %d MB, ceiling %d MB): %v\n%s%s", r.Killed, r.Peak>>20, memoryCeiling>>20, r.Err, r.Stdout, r.Stderr)
			}
			var s Stats
			for _, l := range strings.Split(r.Stdout, "\n") {
				if strings.HasPrefix(l, "{") {
					_ = json.Unmarshal([]byte(l), &s)
				}
			}
			if s.Rows != c.rows || s.Skipped != c.skipped || s.New != c.rows {
				t.Errorf("stats %+v, want %d rows, %d skipped", s, c.rows, c.skipped)
			}
		})
	}
}

// FuzzLineReader: the line reader splits input exactly as bytes.Split on
// newlines does, for lines within the limit, and marks longer ones over.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\n\nbc\r\n  \nlong line here\nend"), uint8(4))
	f.Add([]byte("\n\n\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		want := bytes.Split(data, []byte("\n"))
		if len(data) == 0 || data[len(data)-1] == '\n' {
			want = want[:len(want)-1]
		}
		for i := 0; ; i++ {
			if _, err := br.Peek(1); err != nil {
				if i != len(want) {
					t.Fatalf("%d lines, want %d", i, len(want))
				}
				return
			}
			lr := &lineReader{br: br, max: int64(max)}
			got, err := io.ReadAll(lr)
			if derr := lr.drain(); derr != nil {
				t.Fatal(derr)
			}
			if over := len(want[i]) > int(max); over != lr.over || (!over && (err != nil || !bytes.Equal(got, want[i]))) {
				t.Fatalf("line %d: %q over %v (%v), want %q", i, got, lr.over, err, want[i])
			}
			if blank := len(bytes.TrimSpace(want[i])) == 0; blank != lr.blank {
				t.Fatalf("line %d %q: blank %v", i, want[i], lr.blank)
			}
		}
	})
}
