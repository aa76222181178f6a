package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

var cases = []struct{ describe, want string }{
	{"v0.1.0", "0.1.0"},
	{"v0.1.0-dirty", "0.1.0+0.dirty"},
	{"v0.1.0-3-gabc1234", "0.1.0+3.gabc1234"},
	{"v0.1.0-3-gabc1234-dirty", "0.1.0+3.gabc1234.dirty"},
	{"v0.2.0-rc1", "0.2.0~rc1"},
	{"v0.2.0-rc1-2-gdeadbee", "0.2.0~rc1+2.gdeadbee"},
	{"v1.10.0-12-g0123456789ab", "1.10.0+12.g0123456789ab"},
	{"abc1234", "0.0.0+gabc1234"},
	{"abc1234-dirty", "0.0.0+gabc1234.dirty"},
	{"dev", "0.0.0+dev"},
}

func TestMap(t *testing.T) {
	for _, c := range cases {
		if got, err := Map(c.describe); err != nil || got != c.want {
			t.Errorf("Map(%q) = %q, %v; want %q", c.describe, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "release-1", "v1.0_beta", "vx"} {
		if got, err := Map(bad); err == nil {
			t.Errorf("Map(%q) = %q, want an error", bad, got)
		}
	}
}

// order is the versions in the order they were made, each built from
// the describe of a commit on the way to the next release.
var order = []string{"dev", "abc1234", "v0.1.0-rc1", "v0.1.0-rc1-1-gabc1234", "v0.1.0", "v0.1.0-dirty",
	"v0.1.0-3-gabc1234", "v0.1.0-3-gabc1234-dirty", "v0.1.0-10-gabc1234", "v0.1.1", "v0.2.0-rc1", "v0.2.0", "v0.10.0"}

// TestOrder: dpkg and rpm, asked themselves, put each version after the
// one made before it.
func TestOrder(t *testing.T) {
	dpkg := need.Program(t, "dpkg")
	rpm := need.Program(t, "rpm")
	for i := 1; i < len(order); i++ {
		a, errA := Map(order[i-1])
		b, errB := Map(order[i])
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if err := exec.Command(dpkg, "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg: %s is not before %s", a, b)
		}
		// rpm --eval's rpm.vercmp: -1 when a is older
		out, err := exec.Command(rpm, "--eval", "%{lua: print(rpm.vercmp('"+a+"', '"+b+"'))}").Output()
		if err != nil || strings.TrimSpace(string(out)) != "-1" {
			t.Errorf("rpm: vercmp(%s, %s) = %q %v", a, b, out, err)
		}
	}
}
