// Package countreader counts the bytes read through a reader: what bounds
// a decompressor's output by its input (the TLS server's request bodies,
// apk's gzip'ed scripts archive) has to know how much input it took.
package countreader

import "io"

// Reader reads from R and counts what it returned in N.
type Reader struct {
	R io.Reader
	N int64
}

func (c *Reader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
