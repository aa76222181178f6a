// Package lines reads a stream of any size line by line, as Python's file
// iteration and C++'s std::getline split it, holding one line at a time:
// the parsers of line-based package-manager files read through it, so that
// padding a file cannot make it too large to evaluate.
package lines

import (
	"bufio"
	"fmt"
	"io"
)

// MaxLine bounds the memory one line may take.
const MaxLine = 64 << 20

// Reader yields the lines of a stream.
type Reader struct {
	br   *bufio.Reader
	stop func() error
	n    int
	err  error
	done bool
}

// New reads r; stop is polled every few thousand lines (nil for never),
// and an error from it ends the reading like a read error.
func New(r io.Reader, stop func() error) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 4<<10), stop: stop}
}

// Next returns the next line without its newline, and false at the end of
// the stream or on an error (see Err). A last line without a newline is a
// line; a newline at the end adds no empty line.
func (r *Reader) Next() (string, bool) {
	if r.done {
		return "", false
	}
	if r.n%4096 == 4095 && r.stop != nil {
		if err := r.stop(); err != nil {
			return r.fail(fmt.Errorf("not read to the end: %w", err))
		}
	}
	var b []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(b)+len(chunk) > MaxLine {
			return r.fail(fmt.Errorf("not read to the end: line %d is longer than %d MiB", r.n+1, MaxLine>>20))
		}
		b = append(b, chunk...)
		switch err {
		case nil:
			r.n++
			return string(b[:len(b)-1]), true
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			r.done = true
			if len(b) == 0 {
				return "", false
			}
			r.n++
			return string(b), true
		default:
			return r.fail(err)
		}
	}
}

func (r *Reader) fail(err error) (string, bool) {
	r.err, r.done = err, true
	return "", false
}

// Line is the number of the line Next returned last (1-based).
func (r *Reader) Line() int { return r.n }

// Err is the error that ended the reading early, nil at the end of the
// stream.
func (r *Reader) Err() error { return r.err }
