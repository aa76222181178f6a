package rpmmacros

import (
	"errors"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/rpmmacro"
)

func TestExpand(t *testing.T) {
	def := func(name, body string) Macro {
		return Macro{Def: rpmmacro.Def{Name: name, Body: body}, Loaded: true, Effective: true}
	}
	m := Defined([]Macro{
		def("a", "A"), def("ab", "%{a}B"), def("nil", "%{!?nil}"), def("loop", "%{loop}"),
		def("sh", "%(id)"), {Def: rpmmacro.Def{Name: "p", Body: "x", Parametric: true}, Loaded: true, Effective: true},
		{Def: rpmmacro.Def{Name: "other", Body: "o"}, Loaded: true, Effective: true, Other: true},
	}, "x86_64-linux")
	for in, want := range map[string]string{
		"%a/%ab":         "A/AB",
		"100%%":          "100%",
		"%{undef}/%u":    "%{undef}/%u",
		"%{?undef}x":     "x",
		"%{?a:yes}":      "yes",
		"%{!?a:no}":      "",
		"%{!?undef:no}":  "no",
		"x%{nil}y":       "xy",
		"%{_target_cpu}": "x86_64",
		"%{other}":       "%{other}",
	} {
		got, err := m.Expand(in)
		if err != nil || got != want {
			t.Errorf("Expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"%{sh}", "%(id)", "%{lua:x}", "%[1+1]", "%{p}", "%{expand:x}", "%{unclosed"} {
		if _, err := m.Expand(in); !errors.Is(err, ErrRunTime) {
			t.Errorf("Expand(%q): %v, want ErrRunTime", in, err)
		}
	}
	if _, err := m.Expand("%{loop}"); err == nil {
		t.Error("a macro that expands to itself expanded")
	}
}

// TestShellCommands: the texts rpm hands to popen, ends found as rpm's
// matchchar finds them.
func TestShellCommands(t *testing.T) {
	cases := map[string][]string{
		"%(id)":                        {"id"},
		"%%(id)":                       nil,
		"a %(echo %(date)) b":          {"echo %(date)", "date"},
		"%{?x:%(true)}":                {"true"},
		`%(echo \) x)`:                 {`echo \) x`},
		"%(unterminated":               nil,
		"%(a) %(b (c))":                {"a", "b (c)"},
		"%{_probe_dir}/rpm-probe %(x)": {"x"},
		// expanded twice: the escaped %%( runs too
		"%{expand:%%(touch x)}":             {"touch x"},
		"%{expand:%{expand:%%%%(touch y)}}": {"touch y"},
		"%{define _y %%(touch z)}%{_y}":     nil,
	}
	for body, want := range cases {
		if got := ShellCommands(body); strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
			t.Errorf("%q: got %q, want %q", body, got, want)
		}
	}
}

// TestShellCommandsThroughReferences: the command a re-expanded macro
// holds escaped is a command of the macro that re-expands it.
func TestShellCommandsThroughReferences(t *testing.T) {
	m := &Macros{defs: map[string]Macro{
		"A": {Def: rpmmacro.Def{Name: "A", Body: "%%(touch x)"}},
	}}
	for body, want := range map[string][]string{
		"%{expand:%A}": {"touch x"},
		"%A":           nil,
		"%(id) %A":     {"id"},
	} {
		if got := ShellCommandsWith(body, m); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("ShellCommandsWith(%q) = %q, want %q", body, got, want)
		}
	}
}
