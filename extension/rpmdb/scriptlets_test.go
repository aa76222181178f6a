package rpmdb

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

func strs(tag int32, v ...string) value { return value{tag: tag, typ: TypeStringArray, strs: v} }
func ints(tag int32, v ...int32) value  { return value{tag: tag, typ: TypeInt32, ints: v} }

func parse(t *testing.T, vals ...value) *Header {
	t.Helper()
	h, err := ParseHeader(buildHeader(vals...))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestScriptletsOfAHeader: plain scriptlets in rpm's order with their
// interpreter (recorded or /bin/sh), flags and a program without text;
// triggers with their conditions and kind.
func TestScriptletsOfAHeader(t *testing.T) {
	h := parse(t,
		value{tag: TagPreIn, typ: TypeString, strs: []string{"echo pre"}},
		value{tag: TagPostInProg, typ: TypeString, strs: []string{"/sbin/ldconfig"}},
		value{tag: TagPreTrans, typ: TypeString, strs: []string{"print(1)"}},
		strs(TagPreTransProg, "<lua>"),
		ints(TagPreTransFlags, 1|4|16),
		strs(TagTriggerScripts, "echo a", "echo b"),
		strs(TagTriggerScriptProg, "/bin/sh", "/usr/bin/perl"),
		strs(TagTriggerName, "bash", "sed", "tar"),
		strs(TagTriggerVersion, "", "4.0", "1"),
		ints(TagTriggerFlags, senseIn, senseUn|senseGreater|senseEqual, senseUn|senseLess),
		ints(TagTriggerIndex, 0, 1, 1),
	)
	got := h.Scriptlets()
	want := []Scriptlet{
		{Kind: "pretrans", Prog: []string{"<lua>"}, Body: "print(1)", HasBody: true, Flags: 21},
		{Kind: "pre", Body: "echo pre", HasBody: true},
		{Kind: "post", Prog: []string{"/sbin/ldconfig"}},
		{Kind: "triggerin", Prog: []string{"/bin/sh"}, Body: "echo a", HasBody: true, Conditions: []string{"bash"}, trigger: true},
		{Kind: "triggerun", Prog: []string{"/usr/bin/perl"}, Body: "echo b", HasBody: true, Conditions: []string{"sed >= 4.0", "tar < 1"}, Index: 1, trigger: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if f := got[0].FlagNames(); strings.Join(f, ",") != "expand,critical,0x10" {
		t.Errorf("flags %v", f)
	}
	if i := got[1].Interpreter(); !reflect.DeepEqual(i, []string{"/bin/sh"}) {
		t.Errorf("pre runs with %v", i)
	}
}

// TestDamagedScriptletArrays: arrays that disagree still list every
// script and every condition, each with what rpm does with it.
func TestDamagedScriptletArrays(t *testing.T) {
	h := parse(t,
		value{tag: TagPreIn, typ: TypeInt32, ints: []int32{7}},
		strs(TagFileTriggerScripts, "a", "b", "c"),
		strs(TagFileTriggerScriptProg, "/bin/sh"),
		strs(TagFileTriggerName, "/x", "/y", "/z", "/w"),
		strs(TagFileTriggerVersion, "", "", "", ""),
		ints(TagFileTriggerFlags, senseIn, senseUn, senseIn),
		ints(TagFileTriggerIndex, 0, 0, 9),
		ints(TagFileTriggerPriorities, 5),
	)
	got := h.Scriptlets()
	damage := func(i int) string { return strings.Join(got[i].Damage, "; ") }
	if len(got) != 6 {
		t.Fatalf("%d scriptlets: %+v", len(got), got)
	}
	checks := []struct {
		i          int
		kind, want string
	}{
		{0, "pre", "has type 4, not STRING"},
		{1, "filetriggerin", "rpm runs the script for each"},
		{2, "filetrigger", "the header records 1 interpreters for 3 scripts"},
		{2, "filetrigger", "no condition names script 1"},
		{3, "filetrigger", "no condition names script 2"},
		{4, "filetriggerin", `condition "/z" names script 9 of 3`},
		{5, "filetrigger", "lacks its version, flags or script index"},
	}
	for _, c := range checks {
		if got[c.i].Kind != c.kind || !strings.Contains(damage(c.i), c.want) {
			t.Errorf("%d: %s %q, want %s %q", c.i, got[c.i].Kind, damage(c.i), c.kind, c.want)
		}
	}
	if !got[1].HasPriority || got[1].Priority != 5 || got[2].HasPriority || got[2].Interpreter() != nil {
		t.Errorf("priorities %+v %+v", got[1], got[2])
	}
}

// fuzzTags are the tags a fuzzed header sets: each trigger set's arrays
// in their order, then a plain scriptlet's text and interpreter.
var fuzzTags = [3][8]int32{
	{TagTriggerScripts, TagTriggerScriptProg, TagTriggerName, TagTriggerVersion, TagTriggerFlags, TagTriggerIndex, TagTriggerScriptFlags, 0},
	{TagFileTriggerScripts, TagFileTriggerScriptProg, TagFileTriggerName, TagFileTriggerVersion, TagFileTriggerFlags, TagFileTriggerIndex, TagFileTriggerScriptFlags, TagFileTriggerPriorities},
	{TagTransFileTriggerScripts, TagTransFileTriggerScriptProg, TagTransFileTriggerName, TagTransFileTriggerVersion, TagTransFileTriggerFlags, TagTransFileTriggerIndex, TagTransFileTriggerScriptFlags, TagTransFileTriggerPriorities},
}

// fuzzHeader builds a header from fuzzed arrays: the four string arrays
// (values split at NUL), the four int32 arrays (4 bytes a value), each
// left out when empty and given the wrong type when its bit of wrong is
// set; and a plain scriptlet's text and interpreter.
func fuzzHeader(set uint8, str [4]string, num [4][]byte, wrong uint16, plain, prog string) (*Header, [8]int) {
	tags := fuzzTags[set%3]
	var vals []value
	var lens [8]int
	for i, s := range str {
		if s == "" {
			continue
		}
		v := strs(tags[i], strings.Split(s, "\x00")...)
		if wrong&(1<<i) != 0 {
			v = ints(tags[i], int32(len(s)))
		} else {
			lens[i] = len(v.strs)
		}
		vals = append(vals, v)
	}
	for i, b := range num {
		tag := tags[4+i]
		if len(b) < 4 || tag == 0 {
			continue
		}
		var v value
		for ; len(b) >= 4; b = b[4:] {
			v.ints = append(v.ints, int32(binary.BigEndian.Uint32(b)))
		}
		if wrong&(1<<(4+i)) != 0 {
			v = strs(tag, "x")
		} else {
			v = ints(tag, v.ints...)
			lens[4+i] = len(v.ints)
		}
		vals = append(vals, v)
	}
	p := plainScripts[int(set/3)%len(plainScripts)]
	if plain != "" {
		vals = append(vals, value{tag: p.body, typ: TypeString, strs: []string{strings.ReplaceAll(plain, "\x00", "")}})
	}
	if prog != "" {
		vals = append(vals, strs(p.prog, strings.Split(prog, "\x00")...))
	}
	h, err := ParseHeader(buildHeader(vals...))
	if err != nil {
		return nil, lens
	}
	return h, lens
}

// FuzzScriptlets: whatever the trigger arrays hold (lengths that differ,
// indexes out of range, tags of the wrong type), the list has each
// script once and each condition once, and never panics.
func FuzzScriptlets(f *testing.F) {
	be := func(v ...int32) []byte {
		var b []byte
		for _, x := range v {
			b = binary.BigEndian.AppendUint32(b, uint32(x))
		}
		return b
	}
	f.Add(uint8(0), "echo a\x00echo b", "/bin/sh\x00<lua>", "bash\x00sed", "\x004.0", be(senseIn, senseUn|senseEqual), be(0, 1), be(0, 4), []byte(nil), uint16(0), "echo post", "/bin/sh")
	f.Add(uint8(1), "cat", "/usr/bin/perl", "/usr/lib\x00/etc", "\x00", be(senseIn, senseIn), be(0, 0), be(1), be(1000000), uint16(0), "", "<lua>")
	f.Add(uint8(2), "a\x00b\x00c", "/bin/sh", "/x\x00/y\x00/z", "", be(senseUn, senseIn), be(7, -1, 2), []byte{1, 2}, be(10000, 5), uint16(0x22), "x", "")
	f.Add(uint8(5), "", "", "n", "v", be(senseMask), be(0), []byte(nil), []byte(nil), uint16(0xff), "%post", "/bin/bash\x00-e")
	f.Fuzz(func(t *testing.T, set uint8, scripts, progs, names, versions string, senses, index, flags, prios []byte, wrong uint16, plain, prog string) {
		h, lens := fuzzHeader(set, [4]string{scripts, progs, names, versions}, [4][]byte{senses, index, flags, prios}, wrong, plain, prog)
		if h == nil {
			return
		}
		prefix := triggerSets[set%3].prefix
		nScripts, nConds := 0, 0
		seen := map[int]bool{}
		for _, s := range h.Scriptlets() {
			s.FlagNames()
			s.Interpreter()
			if !s.trigger {
				continue
			}
			if !strings.HasPrefix(s.Kind, prefix) {
				t.Fatalf("kind %q in the %s set", s.Kind, prefix)
			}
			nConds += len(s.Conditions)
			if s.HasBody {
				if seen[s.Index] {
					t.Fatalf("script %d listed twice", s.Index)
				}
				seen[s.Index] = true
				nScripts++
			} else if len(s.Damage) == 0 {
				t.Fatalf("a condition without its script and without a word why: %+v", s)
			}
		}
		if nScripts != lens[0] || nConds != lens[2] {
			t.Fatalf("%d scripts and %d conditions listed, the header has %d and %d", nScripts, nConds, lens[0], lens[2])
		}
	})
}
