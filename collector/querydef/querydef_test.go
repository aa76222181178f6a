package querydef

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

const good = `-- id: q1
-- title: A query
-- description: What it finds,
--   on two lines.
-- attack: T1546.016, T1105
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: none
-- severity: high
-- next: pkgpersist explain q1
SELECT 1
`

func TestParse(t *testing.T) {
	q, err := Parse("q1.sql", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if q.Description != "What it finds, on two lines." || len(q.Attack) != 2 || q.Severity != "high" || q.Next != "pkgpersist explain q1" || q.Interval != 3600 || q.SQL != "SELECT 1" {
		t.Fatalf("%+v", q)
	}
	v, err := Parse("q1.sql", []byte("-- volatile: atime,  size_bytes ,\n"+good))
	if err != nil || strings.Join(v.Volatile, "|") != "atime|size_bytes" {
		t.Fatalf("volatile: %q %v", v.Volatile, err)
	}
	for name, bad := range map[string]string{
		"wrong id":           strings.Replace(good, "id: q1", "id: other", 1),
		"kind":               strings.Replace(good, "kind: detection", "kind: alert", 1),
		"mode":               strings.Replace(good, "mode: differential", "mode: sometimes", 1),
		"interval":           strings.Replace(good, "interval: 3600", "interval: 604801", 1),
		"interval text":      strings.Replace(good, "interval: 3600", "interval: hourly", 1),
		"unknown key":        "-- colour: red\n" + good,
		"volatile":           "-- volatile: atime, a b\n" + good,
		"not key value":      "-- just words\n" + good,
		"no sql":             strings.TrimSuffix(good, "SELECT 1\n"),
		"missing attack":     strings.Replace(good, "-- attack: T1546.016, T1105\n", "", 1),
		"severity":           strings.Replace(good, "severity: high", "severity: dire", 1),
		"inventory severity": strings.Replace(good, "kind: detection", "kind: inventory", 1),
	} {
		if _, err := Parse("q1.sql", []byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadDuplicates(t *testing.T) {
	fsys := fstest.MapFS{"q1.sql": {Data: []byte(good)}}
	if qs, err := Load(fsys); err != nil || len(qs) != 1 {
		t.Fatalf("%v %v", qs, err)
	}
	if _, err := Load(fstest.MapFS{}); err == nil {
		t.Fatal("empty directory accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	if data, err := os.ReadFile("../../queries/elastic-pm-files.sql"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := Parse("q1.sql", data)
		if err == nil && (q.ID != "q1" || q.SQL == "") {
			t.Fatalf("accepted an invalid query: %+v", q)
		}
	})
}
