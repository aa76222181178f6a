package countreader

import (
	"io"
	"strings"
	"testing"
)

func TestCounts(t *testing.T) {
	c := &Reader{R: io.LimitReader(strings.NewReader("hello, world"), 7)}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "hello, " || c.N != 7 {
		t.Errorf("read %q (%v), counted %d", b, err, c.N)
	}
}
