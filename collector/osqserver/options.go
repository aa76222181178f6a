package osqserver

import (
	"net/http"
	"time"
)

// Options are the server's limits and content.
type Options struct {
	// Secret is the enroll secret; SecretField the enroll request's key
	// that holds it (osqueryd's --tls_enroll_override, "enroll_secret"
	// unless changed there).
	Secret, SecretField string
	// Config is the osquery configuration served to every host.
	Config []byte
	// Version is what GET /version reports.
	Version string

	// MaxBody bounds the bodies of enroll, config and distributed read
	// requests as sent, MaxDecompressed the same once inflated.
	MaxBody, MaxDecompressed int64
	// MaxLog bounds a log request as sent and inflated: osqueryd sends up
	// to logger_tls_max_lines (1,024) lines of logger_tls_max_linesize
	// (1 MiB) and resends a refused batch forever.
	MaxLog int64
	// MaxLine bounds one log line, MaxLineRows the rows it may expand to;
	// a line over either is skipped (logged and counted), not the batch.
	MaxLine     int64
	MaxLineRows int
	// MaxWrite bounds a distributed write as sent and inflated, MaxAnswer
	// the rows of one query in it.
	MaxWrite, MaxAnswer int64

	// MaxConcurrent requests are read and handled at once; others wait up
	// to QueueWait, then get 503. MaxConns bounds open connections.
	MaxConcurrent int
	MaxConns      int
	QueueWait     time.Duration
	// A body is kept for a second read (osqueryd may send its node key
	// last): up to SpoolMemory bytes of it in memory while MemoryBudget
	// lasts for all of them together, the rest in a file in SpoolDir.
	SpoolMemory, MemoryBudget int64
	SpoolDir                  string

	// Rate and Burst bound requests per node key a second (and per host
	// identifier for enrollment); 0 disables the limit. The buckets are
	// in the store: the limit holds across every serve process on it.
	Rate  float64
	Burst int
	// NewHostRate and NewHostBurst bound enrollments of identifiers not
	// seen before, fleet-wide, a second.
	NewHostRate  float64
	NewHostBurst int
	// HeaderTimeout cuts off clients that send their headers too slowly,
	// IdleTimeout closes kept-alive connections left unused.
	HeaderTimeout, IdleTimeout time.Duration
	// KeyCache is how long a node key that checked out is trusted
	// without asking the database again; a key stopped by any process on
	// the database (a revocation, another replica enrolling the host
	// again) is refused within min(KeyCache, 1 s): the store's key
	// revision is read that often (nodecache.go).
	KeyCache time.Duration
	// MetricsToken, when set, is the bearer token GET /metrics needs on
	// the API's address; without it /metrics is served only where
	// MetricsHandler is mounted.
	MetricsToken string
	// UI is served at /ui/ to HTTP Basic auth with UIUser and
	// UIPassword alone; without both a UI and a password /ui/ is not
	// served (404). The caller keeps UIPassword apart from Secret and
	// MetricsToken.
	UI                 http.Handler
	UIUser, UIPassword string
}

// DefaultOptions fit a fleet of osqueryd hosts on a small collector; see
// MemoryBound for what they cost.
var DefaultOptions = Options{
	SecretField: "enroll_secret",
	MaxBody:     1 << 20, MaxDecompressed: 4 << 20,
	MaxLog:  1<<30 + 1<<20,
	MaxLine: 1<<20 + 64<<10, MaxLineRows: 1 << 16,
	MaxWrite: 64 << 20, MaxAnswer: 4 << 20,
	MaxConcurrent: 8, MaxConns: 1024, QueueWait: 10 * time.Second,
	SpoolMemory: 1 << 20, MemoryBudget: 32 << 20,
	Rate: 20, Burst: 40,
	NewHostRate: 10, NewHostBurst: 1000,
	HeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
	KeyCache: 5 * time.Second,
}

// Cost figures of the memory bound (measured on amd64, rounded up).
const (
	baseMemory = 64 << 20 // runtime, SQLite's page cache, the served config
	connMemory = 64 << 10 // an open TLS connection: buffers, goroutine
	// a request's fixed working set: TLS records, scanner and gzip buffers
	requestMemory = 512 << 10
	// a decoded line or answer holds its rows as Go strings and maps:
	// this many times its size as sent, at most
	decodeFactor = 8
)

// MemoryBound is the peak resident memory the options allow, whatever
// the requests hold:
//
//	2 × (64 MiB + MaxConns × 64 KiB + MemoryBudget
//	     + MaxConcurrent × (512 KiB + 8 × max(MaxLine, MaxAnswer)))
//
// The factor 2 is the garbage collector's headroom (GOGC=100); serve sets
// the runtime's soft memory limit to this bound.
func (o Options) MemoryBound() int64 {
	item := max(o.MaxLine, o.MaxAnswer)
	live := int64(baseMemory) + int64(o.MaxConns)*connMemory + o.MemoryBudget +
		int64(o.MaxConcurrent)*(requestMemory+decodeFactor*item)
	return 2 * live
}
