package deb822

import (
	"reflect"
	"strings"
	"testing"
)

func collect(t *testing.T, in string, want ...string) []Stanza {
	t.Helper()
	var out []Stanza
	if err := Each(strings.NewReader(in), want, nil, func(s Stanza) { out = append(out, s) }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEach(t *testing.T) {
	in := "Package: a\r\nversion:  1.0 \nDescription: x\n long\nConffiles:\n /etc/a 123\n\t/etc/b 456\n\n\n" +
		"Package: b\nStatus: install ok installed\nNoColon\nPackage : dup\n"
	got := collect(t, in, "Package", "Version", "Conffiles", "Status")
	want := []Stanza{
		{Line: 1, Fields: map[string]string{"Package": "a", "Version": "1.0", "Conffiles": "\n/etc/a 123\n/etc/b 456"}},
		{Line: 10, Fields: map[string]string{"Package": "dup", "Status": "install ok installed"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestCut(t *testing.T) {
	in := "Package: a\nBig: " + strings.Repeat("x", MaxValue) + "\n more\n"
	got := collect(t, in, "Package", "Big")
	if len(got) != 1 || got[0].Cut != "Big" || len(got[0].Fields["Big"]) != MaxValue || got[0].Fields["Package"] != "a" {
		t.Errorf("got cut %q len %d", got[0].Cut, len(got[0].Fields["Big"]))
	}
}
