package alpmhook

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func parse(t testing.TB, s string) *Hook {
	t.Helper()
	h, err := Parse(strings.NewReader(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const good = `[Trigger]
Operation = Install
Operation = Upgrade
Type = Path
Target = usr/lib/modules/*/vmlinuz
Target = !usr/lib/modules/*/extramodules

[Action]
Description = Updating initramfs
When = PostTransaction
Exec = /usr/bin/sh -c 'mkinitcpio -P "all presets"'
Depends = mkinitcpio
Depends = sh
NeedsTargets
`

func TestParseGood(t *testing.T) {
	h := parse(t, good)
	if !h.Valid() || h.Masking() {
		t.Fatalf("not valid: %+v", h)
	}
	want := Trigger{Line: 1, Operations: []string{"Install", "Upgrade"}, Type: "Path",
		Targets: []string{"usr/lib/modules/*/vmlinuz", "!usr/lib/modules/*/extramodules"}, ops: 3}
	if !reflect.DeepEqual(h.Triggers, []Trigger{want}) {
		t.Fatalf("triggers %+v", h.Triggers)
	}
	if !reflect.DeepEqual(h.Exec, []string{"/usr/bin/sh", "-c", `mkinitcpio -P "all presets"`}) {
		t.Fatalf("exec %q", h.Exec)
	}
	if h.When != "PostTransaction" || !h.NeedsTargets || h.AbortOnFail || h.Description != "Updating initramfs" ||
		!reflect.DeepEqual(h.Depends, []string{"mkinitcpio", "sh"}) {
		t.Fatalf("action %+v", h)
	}
}

// TestParseRules: each case is a rule of lib/libalpm/hook.c
// (_alpm_hook_parse_cb, _alpm_hook_validate) or src/common/ini.c
// (parse_ini), pacman 6.0.2.
func TestParseRules(t *testing.T) {
	const trig = "[Trigger]\nOperation = Install\nType = Package\nTarget = *\n"
	const act = "[Action]\nWhen = PreTransaction\nExec = /bin/true\n"
	cases := []struct {
		name, in string
		valid    bool
		problem  string // substring of Problem()
		check    func(*Hook) bool
	}{
		// hook.c:119-123 a hook without triggers is valid: it masks
		{"empty file", "", true, "", func(h *Hook) bool { return h.Masking() }},
		{"action only", act, true, "", func(h *Hook) bool { return h.Masking() }},
		// ini.c:70 comments only at the start of a trimmed line
		{"comments", "  # c\n" + trig + act, true, "", nil},
		{"no inline comment", trig + "[Action]\nWhen = PreTransaction # x\nExec = /bin/true\n", false, "invalid value PreTransaction # x", nil},
		// hook.c:161-162 a key before any section
		{"key before section", "Exec = /bin/true\n" + trig + act, false, "line 1: invalid option Exec", nil},
		// hook.c:171-172
		{"unknown section", trig + act + "[Other]\n", false, "invalid section Other", nil},
		{"section spaces kept", "[ Trigger ]\n", false, "invalid section  Trigger ", nil},
		// hook.c:183-184, 198-199, 217-218: values are case-sensitive
		{"operation case", "[Trigger]\nOperation = install\n", false, "invalid value install", nil},
		{"type value", "[Trigger]\nType = Pkg\n", false, "invalid value Pkg", nil},
		{"when value", "[Action]\nWhen = Post\n", false, "invalid value Post", nil},
		// hook.c:192-195 File is Path
		{"File is Path", "[Trigger]\nOperation = Remove\nType = File\nTarget = etc/*\n" + act, true, "",
			func(h *Hook) bool { return h.Triggers[0].Type == "Path" }},
		// hook.c:205-206, 247-248 unknown keys stop parsing
		{"unknown trigger key", trig + "Targets = x\n" + act, false, "line 5: invalid option Targets", nil},
		{"unknown action key", trig + act + "Run = /bin/sh\n", false, "invalid option Run", nil},
		// NetworkAccess is newer than 6.0.2
		{"NetworkAccess", trig + act + "NetworkAccess = allowed\n", false, "invalid option NetworkAccess", nil},
		// hook.c:234-238 a second Exec overwrites the first, with a warning
		{"exec overwritten", trig + act + "Exec = /bin/evil\n", true, "",
			func(h *Hook) bool { return h.Exec[0] == "/bin/evil" && len(h.Warnings) == 1 }},
		// hook.c:239-241 unbalanced quote
		{"unbalanced quote", trig + "[Action]\nWhen = PreTransaction\nExec = /bin/sh -c 'x\n", false, "unbalanced quote", nil},
		// hook.c:230-233 flags take no value; any value is ignored
		{"flags", trig + act + "AbortOnFail = no\nNeedsTargets\n", true, "",
			func(h *Hook) bool { return h.AbortOnFail && h.NeedsTargets }},
		// hook.c:92-108, 131-140: what validation requires
		{"missing targets", "[Trigger]\nOperation = Install\nType = Package\n" + act, false, "missing trigger targets", nil},
		{"missing type", "[Trigger]\nOperation = Install\nTarget = *\n" + act, false, "missing trigger type", nil},
		{"missing operation", "[Trigger]\nType = Package\nTarget = *\n" + act, false, "missing trigger operation", nil},
		{"missing exec", trig + "[Action]\nWhen = PreTransaction\n", false, "missing Exec option", nil},
		{"missing when", trig + "[Action]\nExec = /bin/true\n", false, "missing When option", nil},
		{"empty trigger section", "[Trigger]\n" + trig + act, false, "missing trigger targets ([Trigger] of line 1)", nil},
		// repeated [Trigger] sections add triggers; [Action] may repeat
		{"two triggers", trig + act + trig + "[Action]\n", true, "", func(h *Hook) bool { return len(h.Triggers) == 2 }},
		// ini.c:95 split at the first '='
		{"value with =", trig + "[Action]\nWhen = PreTransaction\nExec = /usr/bin/env A=b /bin/true\n", true, "",
			func(h *Hook) bool { return reflect.DeepEqual(h.Exec, []string{"/usr/bin/env", "A=b", "/bin/true"}) }},
		{"no value", "[Trigger]\nOperation\n", false, "Operation has no value", nil},
		// hook.c:226-229 a Depends without '=' is kept as NULL: loaded,
		// never satisfied
		{"depends without value", trig + act + "Depends\n", true, "", func(h *Hook) bool { return h.NullDepends }},
		// wordsplit of an empty value is an empty command
		{"empty exec", trig + "[Action]\nWhen = PreTransaction\nExec =\n", true, "",
			func(h *Hook) bool { return h.ExecSet && len(h.Exec) == 0 }},
		// ini.c:62 a NUL ends what C sees of a line
		{"NUL", trig + act[:len(act)-1] + "\x00 junk\n", true, "", func(h *Hook) bool { return h.Exec[0] == "/bin/true" }},
		// CRLF: the \r is trimmed
		{"CRLF", strings.ReplaceAll(trig+act, "\n", "\r\n"), true, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := parse(t, c.in)
			if h.Valid() != c.valid || !strings.Contains(h.Problem(), c.problem) {
				t.Fatalf("valid=%v problem=%q, want valid=%v problem ~ %q", h.Valid(), h.Problem(), c.valid, c.problem)
			}
			if c.check != nil && !c.check(h) {
				t.Fatalf("check failed: %+v", h)
			}
		})
	}
}

// TestLongLine: parse_ini reads PATH_MAX-1 bytes at a time, so the rest
// of a longer line is a line of its own (here an invalid option).
func TestLongLine(t *testing.T) {
	long := "[Action]\nDescription = " + strings.Repeat("x", 5000) + "\n"
	h := parse(t, long)
	if h.Valid() || !strings.Contains(h.Problem(), "line 3: invalid option x") {
		t.Fatalf("problem %q", h.Problem())
	}
}

func TestWordSplit(t *testing.T) {
	cases := map[string][]string{
		"":                        {},
		"  a  b ":                 {"a", "b"},
		`a"b c"d`:                 {"ab cd"},
		`'it\'s'`:                 {"it's"},
		`\"x`:                     {`"x`},
		`a\b`:                     {`a\b`},
		"/bin/sh -c 'echo $HOME'": {"/bin/sh", "-c", "echo $HOME"},
	}
	for in, want := range cases {
		got, ok := WordSplit(in)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("WordSplit(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{`"`, `a 'b`, `"a\"`} {
		if _, ok := WordSplit(bad); ok {
			t.Errorf("WordSplit(%q) accepted an unbalanced quote", bad)
		}
	}
}

// FuzzParse: any input parses without panicking, twice alike, and what it
// reports is consistent with libalpm's rules.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("[Trigger]\nOperation\n"))
	f.Add([]byte("[Action]\nExec = 'a\\'b\" c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h1, err1 := Parse(bytes.NewReader(data), nil)
		h2, err2 := Parse(bytes.NewReader(data), nil)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(h1, h2) {
			t.Fatalf("not deterministic: %v %v", err1, err2)
		}
		if h1.Valid() && len(h1.Triggers) > 0 {
			if !h1.ExecSet || h1.When == "" {
				t.Fatalf("valid without Exec or When: %+v", h1)
			}
			for _, tr := range h1.Triggers {
				if len(tr.Targets) == 0 || tr.Type == "" || len(tr.Operations) == 0 {
					t.Fatalf("valid with an incomplete trigger: %+v", tr)
				}
			}
		}
		if h1.Valid() != (h1.Problem() == "") {
			t.Fatalf("Valid %v but Problem %q", h1.Valid(), h1.Problem())
		}
		for _, w := range h1.Exec {
			if strings.ContainsRune(w, 0) {
				t.Fatalf("a NUL in an Exec word: %q", w)
			}
		}
	})
}
