package rpmdb

import (
	"encoding/binary"
	"reflect"
	"testing"
)

// value is one entry of a header built for a test: strings or int32s.
type value struct {
	tag, typ int32
	strs     []string
	ints     []int32
}

// buildHeader lays entries out as rpm does (rpm < 4.0.1's layout, without
// a region): in tag order, each value aligned to its size, the data packed.
func buildHeader(vals ...value) []byte {
	var index, data []byte
	for _, v := range vals {
		if v.typ == TypeInt32 {
			for len(data)%4 != 0 {
				data = append(data, 0)
			}
		}
		count := len(v.strs)
		if v.typ == TypeInt32 {
			count = len(v.ints)
		}
		for _, x := range []int32{v.tag, v.typ, int32(len(data)), int32(count)} {
			index = binary.BigEndian.AppendUint32(index, uint32(x))
		}
		for _, s := range v.strs {
			data = append(append(data, s...), 0)
		}
		for _, i := range v.ints {
			data = binary.BigEndian.AppendUint32(data, uint32(i))
		}
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(len(vals)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	return append(append(out, index...), data...)
}

// TestOldFileNames: a header from before rpm 4's compressed file list
// names its files in full (OLDFILENAMES), with MD5 digests and no
// FILEDIGESTALGO.
func TestOldFileNames(t *testing.T) {
	h, err := ParseHeader(buildHeader(
		value{tag: TagName, typ: TypeString, strs: []string{"yum"}},
		value{tag: TagOldFileNames, typ: TypeStringArray, strs: []string{"/etc/yum.conf", "/usr/lib/yum-plugins"}},
		value{tag: TagFileDigests, typ: TypeStringArray, strs: []string{"d41d8cd98f00b204e9800998ecf8427e", ""}},
	))
	if err != nil {
		t.Fatal(err)
	}
	files, err := h.Files()
	want := []File{{"/etc/yum.conf", "d41d8cd98f00b204e9800998ecf8427e", AlgoMD5}, {"/usr/lib/yum-plugins", "", AlgoMD5}}
	if err != nil || !reflect.DeepEqual(files, want) {
		t.Errorf("files %+v, %v", files, err)
	}
}

// TestAccessors: every type a scriptlet reader needs, read generically.
func TestAccessors(t *testing.T) {
	h, err := ParseHeader(buildHeader(
		value{tag: TagI18NTable, typ: TypeStringArray, strs: []string{"C", "de"}},
		value{tag: TagName, typ: TypeString, strs: []string{"pkg"}},
		value{tag: 1004, typ: TypeI18NString, strs: []string{"summary", "Zusammenfassung"}},
		value{tag: TagInstallTime, typ: TypeInt32, ints: []int32{-1}},
		value{tag: TagPostIn, typ: TypeString, strs: []string{"curl x | sh"}},
		value{tag: TagTriggerScripts, typ: TypeStringArray, strs: []string{"a", "", "b"}},
		value{tag: TagPostInProg, typ: TypeStringArray, strs: []string{"/bin/sh", "-e"}},
	))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Strings(1004); !reflect.DeepEqual(got, []string{"summary", "Zusammenfassung"}) || h.String(1004) != "summary" {
		t.Errorf("I18NSTRING %q", got)
	}
	if got := h.Strings(TagTriggerScripts); !reflect.DeepEqual(got, []string{"a", "", "b"}) {
		t.Errorf("STRING_ARRAY %q", got)
	}
	if h.String(TagPostIn) != "curl x | sh" || h.Strings(TagPostInProg)[1] != "-e" {
		t.Errorf("scripts %q %q", h.String(TagPostIn), h.Strings(TagPostInProg))
	}
	if it, ok := (Package{Header: h}).InstallTime(); !ok || it != 1<<32-1 {
		t.Errorf("install time %d %v", it, ok)
	}
	if e, ok := h.Get(TagName); !ok || e.Type != TypeString || e.Count != 1 || h.Int32s(TagName) != nil {
		t.Errorf("NAME entry %+v", e)
	}
	if _, ok := (Package{Header: h}).Epoch(); ok {
		t.Error("an epoch the header does not have")
	}
}

// TestDamagedHeaders: what rpm's header reader refuses (lib/header.c),
// refused with a reason, whether or not rpm is here to ask (the oracle
// test TestHeaderChecksAgainstRPM asks it).
func TestDamagedHeaders(t *testing.T) {
	good := buildHeader(
		value{tag: TagName, typ: TypeString, strs: []string{"pkg"}},
		value{tag: TagEpoch, typ: TypeInt32, ints: []int32{1}},
		value{tag: TagBaseNames, typ: TypeStringArray, strs: []string{"a", "b"}},
		value{tag: TagDirIndexes, typ: TypeInt32, ints: []int32{0, 0}},
	)
	if _, err := ParseHeader(good); err != nil {
		t.Fatal(err)
	}
	set := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
	entry := func(i, field int) int { return 8 + 16*i + 4*field }
	for name, b := range map[string][]byte{
		"short":             good[:7],
		"size":              good[:len(good)-1],
		"entries past data": set(0, 0xffff),
		"tag below 100":     set(entry(0, 0), 99),
		"misaligned":        set(entry(1, 2), 5),
		"overlapping":       set(entry(2, 2), 0),
		"count 0":           set(entry(2, 3), 0),
		"string count 2":    set(entry(0, 3), 2),
		"no NUL":            set(entry(2, 3), 300),
		"unpacked":          append(set(4, binary.BigEndian.Uint32(good[4:])+4), 0, 0, 0, 0),
		"type 10":           set(entry(3, 1), 10),
		"too many files":    set(entry(3, 3), 0x100000),
	} {
		if _, err := ParseHeader(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
