package report

import (
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// TestHostStates: a line per reason of each host that is not ok; what
// a host sent is shown escaped.
func TestHostStates(t *testing.T) {
	var b strings.Builder
	HostStates(&b, []store.HostOutcome{
		{Host: "good", State: store.StateOK},
		{Host: "web1", State: store.StateIncomplete, Reasons: []string{"could not read /etc/apt/apt.conf.d/99x (permission: denied): run as root", "query hooks failed: \x1b[2Kall fine"}},
		{Host: "db\x1b]0;x\x07", State: store.StateFailed},
	})
	want := `pkgpersist: web1: incomplete: could not read /etc/apt/apt.conf.d/99x (permission: denied): run as root
pkgpersist: web1: incomplete: query hooks failed: \x1b[2Kall fine
pkgpersist: db\x1b]0;x\x07: failed: no reason recorded
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
