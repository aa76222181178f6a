// Package ingest reads osqueryd's filesystem results logs (one JSON result
// line each, in event, batch or snapshot format, gzip or plain) into the
// store, so hosts that log to files instead of enrolling are hunted over
// too. Reading a file twice stores nothing twice.
//
// Memory is bounded by the limits, not by the input: each line is decoded
// as it streams, a line longer than Limits.LineBytes or with more rows than
// Limits.LineRows is skipped (and reported by file and line), and a file
// that ends early (a truncated .gz) keeps every line read before the end.
package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pkgpersist/pkgpersist/collector/osqwire"
	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Limits bound one line; the zero value of a field means its default.
type Limits struct {
	// LineBytes is the longest line read; osqueryd's own lines are far
	// shorter, except for snapshots of very large queries.
	LineBytes int64
	// LineRows is the most rows one line may expand to: a snapshot line
	// of tiny rows otherwise costs a hundred times its size in memory.
	LineRows int
}

// Defaults: what one line may take is about LineBytes of strings plus
// LineRows times a row's overhead (a few hundred bytes), under 300 MB.
const (
	DefaultLineBytes = 64 << 20
	DefaultLineRows  = 1 << 17
)

func (l Limits) withDefaults() Limits {
	if l.LineBytes <= 0 {
		l.LineBytes = DefaultLineBytes
	}
	if l.LineRows <= 0 {
		l.LineRows = DefaultLineRows
	}
	return l
}

// batchRows is how many rows go in one transaction.
const batchRows = 20000

// maxReports is how many bad or skipped lines are listed; all are counted.
const maxReports = 20

// Stats is what one reader held.
type Stats struct {
	Lines, Rows, New int
	// Bad counts lines that are not result lines; the first few are in
	// Errors.
	Bad    int
	Errors []string
	// Skipped counts lines over a limit, not read; the first few are in
	// SkippedLines, each with its file and line.
	Skipped      int
	SkippedLines []string
	// Truncated says where the input ended early (a .gz cut short, a read
	// error); the lines before it were read and stored.
	Truncated string
}

// Partial is true when the input was not read in full: lines were skipped
// or it ended early.
func (s Stats) Partial() bool { return s.Skipped > 0 || s.Truncated != "" }

// Read stores every result line of r (gzip is recognised by its magic)
// with the default limits.
func Read(ctx context.Context, st *store.DB, r io.Reader, name string) (Stats, error) {
	return ReadLimited(ctx, st, r, name, Limits{})
}

// ReadLimited stores every result line of r within lim. The error is for
// what stops the whole file (an unreadable gzip header, the store); lines
// that are skipped and an early end are in the stats.
func ReadLimited(ctx context.Context, st *store.DB, r io.Reader, name string, lim Limits) (Stats, error) {
	lim = lim.withDefaults()
	var stats Stats
	br := bufio.NewReaderSize(r, 1<<20)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return stats, fmt.Errorf("%s: %w", name, err)
		}
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	pending := map[string][]store.Logged{}
	n := 0
	ids := map[string]int64{}
	flush := func() error {
		added, err := st.SaveLogsByHost(ctx, pending, ids)
		if err != nil {
			return fmt.Errorf("%s: storing: %w", name, err)
		}
		stats.New += added
		clear(pending)
		n = 0
		return nil
	}
	report := func(list *[]string, lineNo int, format string, args ...any) {
		if len(*list) < maxReports {
			*list = append(*list, fmt.Sprintf("%s:%d: ", name, lineNo)+fmt.Sprintf(format, args...))
		}
	}
	for lineNo := 1; ; lineNo++ {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		if _, err := br.Peek(1); err != nil {
			if err != io.EOF {
				stats.Truncated = fmt.Sprintf("%s:%d: %v: the input ends there; the lines before it are stored", name, lineNo, err)
			}
			break
		}
		lr := &lineReader{br: br, max: lim.LineBytes}
		res, err := osqwire.ReadResultLine(lr, lim.LineRows)
		if derr := lr.drain(); derr != nil && lr.readErr == nil {
			lr.readErr = derr
		}
		var tooMany *osqwire.RowLimitError
		switch {
		case lr.readErr != nil:
			stats.Truncated = fmt.Sprintf("%s:%d: %v: the input ends there; the lines before it are stored", name, lineNo, lr.readErr)
		case lr.blank:
			continue
		case lr.over:
			stats.Lines++
			stats.Skipped++
			report(&stats.SkippedLines, lineNo, "line longer than %d bytes: skipped (--max-line-bytes)", lim.LineBytes)
			continue
		case errors.As(err, &tooMany):
			stats.Lines++
			stats.Skipped++
			report(&stats.SkippedLines, lineNo, "more than %d rows in one line: skipped (--max-line-rows)", lim.LineRows)
			continue
		case err != nil:
			stats.Lines++
			stats.Bad++
			if len(stats.Errors) < 5 {
				report(&stats.Errors, lineNo, "%v", err)
			}
			continue
		}
		if stats.Truncated != "" {
			break
		}
		stats.Lines++
		for _, r := range res {
			host := r.HostIdentifier
			if host == "" {
				host = name
			}
			pending[host] = append(pending[host], r.Logged())
			stats.Rows++
			n++
		}
		if n >= batchRows {
			if err := flush(); err != nil {
				return stats, err
			}
		}
	}
	return stats, flush()
}

// lineReader yields one line of br, without its newline, as a stream: a
// line is never held whole. Past max bytes it stops with errLineTooLong.
type lineReader struct {
	br       *bufio.Reader
	max, n   int64
	eol      bool
	over     bool
	blank    bool // only white space so far
	readErr  error
	nonSpace bool
}

var errLineTooLong = errors.New("line too long")

func (l *lineReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, errLineTooLong
	}
	if l.eol || len(p) == 0 {
		return 0, io.EOF
	}
	if _, err := l.br.Peek(1); err != nil {
		l.eol = true
		if err != io.EOF {
			l.readErr = err
		}
		return 0, err
	}
	buf, _ := l.br.Peek(min(l.br.Buffered(), len(p)))
	i := bytes.IndexByte(buf, '\n')
	if i >= 0 {
		buf = buf[:i]
	}
	if l.n += int64(len(buf)); l.n > l.max {
		l.over = true // drain reads the rest
		return 0, errLineTooLong
	}
	n := copy(p, buf)
	if i >= 0 {
		l.eol = true
		n++ // the newline
	}
	l.br.Discard(n)
	if !l.nonSpace && len(bytes.TrimSpace(buf)) > 0 {
		l.nonSpace = true
	}
	return len(buf), nil
}

// drain reads the rest of the line, keeping none of it, and notes whether
// the line held anything but white space.
func (l *lineReader) drain() error {
	for !l.eol {
		chunk, err := l.br.ReadSlice('\n')
		if !l.nonSpace && len(bytes.TrimSpace(chunk)) > 0 {
			l.nonSpace = true
		}
		switch {
		case err == nil:
			l.eol = true
		case errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			l.eol = true
		default:
			l.eol = true
			return err
		}
	}
	l.blank = !l.nonSpace
	return nil
}
