package pyscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// FileScan is the scan of a module file of a root.
type FileScan struct {
	Module *Module // nil when the file could not be read or does not compile
	// Err is the syntax error that makes the import fail (an *Error).
	Err error
	// ReadErr is why the file could not be read (also recorded as a
	// problem of the root).
	ReadErr error
	// Digests are the checksums of the whole file, taken while it was
	// streamed (nil when it could not be read to the end).
	Digests *fsroot.Digests
	// Stopped: ctx ended before the file was read to the end (recorded
	// as a deadline problem); reading it again would not be in time.
	Stopped bool
}

// FS is what a module is read through: a root (fsroot.Root), or a
// dbcache.Reader.
type FS interface {
	OpenFile(name string) (*fsroot.File, error)
	Report(name string, err error) error
	ReportLimit(name, what string)
}

// ScanFile streams a module of fs through the scanner, whatever its size,
// hashing it on the way for the provenance columns. Bounds the scan
// reached are recorded as limit problems of the root; running out of
// ctx's time stops the scan and is recorded as a deadline problem.
func (o Options) ScanFile(ctx context.Context, fs FS, name string) FileScan {
	f, err := fs.OpenFile(name)
	if err != nil {
		return FileScan{ReadErr: err}
	}
	defer f.Close()
	var out FileScan
	m, err := o.Scan(ctxReader{ctx, f, f.Info.Size()})
	var se *Error
	switch {
	case errors.As(err, &se):
		out.Err = err
	case err != nil:
		if ctx.Err() != nil {
			fs.Report(name, ctx.Err())
			return FileScan{ReadErr: err, Stopped: true}
		}
		return FileScan{ReadErr: err}
	default:
		out.Module = m
		if len(m.Limits) > 0 {
			fs.ReportLimit(name, "python module: "+strings.Join(m.Limits, "; "))
		}
	}
	// the rest of the file after a syntax error, for its digests
	if err := f.DrainContext(ctx); err != nil {
		return FileScan{ReadErr: err, Stopped: ctx.Err() != nil}
	}
	if d, ok := f.Digests(); ok {
		out.Digests = &d
	}
	return out
}

// ScanFileOnce is ScanFile once for every query of the run when ctx has a
// cache (dbcache), while the file is unchanged: the package managers'
// plugins are read by most of the hunt's queries. The scan is shared: not
// to be changed.
func (o Options) ScanFileOnce(ctx context.Context, fs *fsroot.Root, name string) FileScan {
	kind := fmt.Sprintf("python module %+v %s", o, name)
	return dbcache.Get(ctx, fs, kind, func(r *dbcache.Reader) (FileScan, bool) {
		s := o.ScanFile(ctx, r, name)
		return s, !s.Stopped && ctx.Err() == nil
	})
}

// ctxReader stops reading when the context ends.
type ctxReader struct {
	ctx  context.Context
	r    io.Reader
	size int64 // of the file, for the lexer's buffer
}

// Len is what the lexer sizes its buffer by.
func (c ctxReader) Len() int { return int(min(c.size, 1<<30)) }

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// CallLines renders a module's calls one per line (Call.String).
func (m *Module) CallLines() string {
	if m == nil {
		return ""
	}
	return CallLines(m.Calls)
}

// CallLines renders calls one a line, as the calls column shows them.
func CallLines(calls []Call) string {
	lines := make([]string, len(calls))
	for i, c := range calls {
		lines[i] = c.String()
	}
	return strings.Join(lines, "\n")
}

// CallsDescription describes the calls column of the plugin tables.
const CallsDescription = "What the module runs or fetches, one call per line, anywhere in the module (at import and in the functions YUM or DNF calls): `<line> <where> <callee> <argument>`. " +
	"<where> is `import` (runs at import), `import?` (only on a condition), `never` (dead code) or `def:<function>` (when that function runs); " +
	"<callee> is what is called with import aliases resolved — `os.system`, `os.popen*`, `subprocess.*`, `commands.*`, `os.exec*`/`spawn*`, `pty.spawn` (command), `exec`/`eval`/`compile` (code, scanned in turn when literal), `__import__`/`importlib.import_module` (import), `socket.*`, `urllib*`, `requests.*`, `http.client` (network) — " +
	"written `exec(base64.b64decode)` when its argument went through decoders, which are decoded; <argument> is the command line (a list shell-quoted and joined), code, module or address, " +
	"with what is not literal as `{source}`, control characters and backslashes escaped as in a Python string, cut at 4 KiB with `…`. Empty when the module does not compile."
