package packageorigins

import (
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/rpmhistory"
)

// TestClassifyRPMOrder: what the oracle test cannot make with Debian's
// dnf. A package no history records is after the history's beginning
// when its record is newer than one DNF or YUM installed, with or without
// an install time; when its record is older than all of them but its
// install time later than DNF's first transaction (the packages of DNF's
// first transactions since upgraded to newer records), the time says so;
// with no history-recorded package left in rpm's database, the install
// time alone decides, as before record numbers were read.
func TestClassifyRPMOrder(t *testing.T) {
	h := &rpmhistory.History{Files: []string{rpmhistory.DNF4}, First: 1000}
	for _, c := range []struct {
		name    string
		num     uint32
		time    int64 // 0: rpm recorded none
		begins  start
		planted bool
	}{
		{"newer record, backdated", 9, 1, start{time: 1000, num: 5}, true},
		{"newer record, no install time", 9, 0, start{time: 1000, num: 5}, true},
		{"newer record, later time", 9, 2000, start{time: 1000, num: 5}, true},
		{"older record, earlier time", 3, 500, start{time: 1000, num: 5}, false},
		{"older record, the first transaction's second", 3, 1000, start{time: 1000, num: 5}, false},
		{"older record, no install time", 3, 0, start{time: 1000, num: 5}, false},
		{"older record, later time", 3, 2000, start{time: 1000, num: 5}, true},
		{"no recorded package installed, earlier time", 3, 500, start{time: 1000}, false},
		{"no recorded package installed, the same second", 3, 1000, start{time: 1000}, true},
		{"no recorded package installed, later time", 3, 2000, start{time: 1000}, true},
	} {
		p := rpmdb.Summary{Num: c.num, Name: "x", InstallTime: c.time, HasInstallTime: c.time != 0}
		source, reason := classifyRPM(p, rpmhistory.Record{}, false, h, c.begins)
		if source != FromUnknown || strings.HasPrefix(reason, NoHistory) != c.planted {
			t.Errorf("%s: %s: %s", c.name, source, reason)
		}
		if c.planted && c.num > c.begins.num && c.begins.num != 0 && !strings.Contains(reason, "record is newer") {
			t.Errorf("%s: the reason does not say why: %s", c.name, reason)
		}
	}
}
