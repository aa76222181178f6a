// Command pkgversion prints the package version (.deb and .rpm alike) of
// a git describe (--tags --match 'v[0-9]*' --always --dirty), the
// Makefile's VERSION:
//
//	v0.1.0                 0.1.0
//	v0.2.0-rc1             0.2.0~rc1            before 0.2.0
//	v0.1.0-3-gabc1234      0.1.0+3.gabc1234     after 0.1.0, before 0.1.1
//	v0.1.0-dirty           0.1.0+0.dirty        changed, not committed
//	v0.1.0-3-gabc1234-dirty  0.1.0+3.gabc1234.dirty
//	abc1234 (no tag)       0.0.0+gabc1234       before any release
//
// dpkg and rpm (4.10 and later) both order ~ before the end of a version
// and + after it; neither allows - in an upstream version.
package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pkgversion DESCRIBE")
		os.Exit(2)
	}
	v, err := Map(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkgversion:", err)
		os.Exit(1)
	}
	fmt.Println(v)
}

var (
	// describe's tail: N commits after the tag, at commit HASH
	after = regexp.MustCompile(`-([0-9]+)-g([0-9a-f]+)$`)
	// the tag: v, numbers, and a pre-release of letters and digits
	tag  = regexp.MustCompile(`^v([0-9]+(?:\.[0-9]+)*)(?:-([0-9A-Za-z.]+))?$`)
	hash = regexp.MustCompile(`^[0-9a-f]{4,}$`)
)

// Map is the package version of describe.
func Map(describe string) (string, error) {
	d, dirty := strings.CutSuffix(describe, "-dirty")
	var local []string
	if m := after.FindStringSubmatch(d); m != nil && strings.HasPrefix(d, "v") {
		d = strings.TrimSuffix(d, m[0])
		local = append(local, m[1], "g"+m[2])
	}
	var v string
	switch m := tag.FindStringSubmatch(d); {
	case m != nil:
		v = m[1]
		if m[2] != "" {
			v += "~" + m[2]
		}
	case hash.MatchString(d): // no tag: describe --always gives the commit
		v, local = "0.0.0", append(local, "g"+d)
	case d == "dev": // no git at all
		v, local = "0.0.0", append(local, "dev")
	default:
		return "", fmt.Errorf("%q is not a version tag (vX.Y.Z) as git describe gives it", describe)
	}
	if dirty {
		if len(local) == 0 && v != "0.0.0" {
			// a dirty tag comes before any commit after it
			local = append(local, "0")
		}
		local = append(local, "dirty")
	}
	if len(local) > 0 {
		v += "+" + strings.Join(local, ".")
	}
	return v, nil
}
