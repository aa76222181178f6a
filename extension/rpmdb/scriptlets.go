package rpmdb

import (
	"fmt"
	"strings"
)

// The tags of scriptlets, triggers and file triggers (rpm's
// include/rpm/rpmtag.h). Each plain scriptlet has its text (STRING), its
// interpreter with arguments (PROG: a STRING from rpm < 4.0.3 and for a
// bare interpreter, else a STRING_ARRAY) and its RPMSCRIPT_FLAG_* (INT32).
// Triggers keep parallel arrays: per script (SCRIPTS, SCRIPTPROG,
// SCRIPTFLAGS, and for file triggers PRIORITIES) and per condition (NAME,
// VERSION, FLAGS, and INDEX, the script the condition runs).
const (
	TagVerifyScript                = 1079
	TagTriggerName                 = 1066
	TagTriggerVersion              = 1067
	TagTriggerFlags                = 1068
	TagTriggerIndex                = 1069
	TagVerifyScriptProg            = 1091
	TagPreTrans                    = 1151
	TagPostTrans                   = 1152
	TagPreTransProg                = 1153
	TagPostTransProg               = 1154
	TagPreInFlags                  = 5020
	TagPostInFlags                 = 5021
	TagPreUnFlags                  = 5022
	TagPostUnFlags                 = 5023
	TagPreTransFlags               = 5024
	TagPostTransFlags              = 5025
	TagVerifyScriptFlags           = 5026
	TagTriggerScriptFlags          = 5027
	TagFileTriggerScripts          = 5066
	TagFileTriggerScriptProg       = 5067
	TagFileTriggerScriptFlags      = 5068
	TagFileTriggerName             = 5069
	TagFileTriggerIndex            = 5070
	TagFileTriggerVersion          = 5071
	TagFileTriggerFlags            = 5072
	TagTransFileTriggerScripts     = 5076
	TagTransFileTriggerScriptProg  = 5077
	TagTransFileTriggerScriptFlags = 5078
	TagTransFileTriggerName        = 5079
	TagTransFileTriggerIndex       = 5080
	TagTransFileTriggerVersion     = 5081
	TagTransFileTriggerFlags       = 5082
	TagFileTriggerPriorities       = 5084
	TagTransFileTriggerPriorities  = 5085
	TagPreUnTrans                  = 5103 // rpm ≥ 4.20
	TagPostUnTrans                 = 5104
	TagPreUnTransProg              = 5105
	TagPostUnTransProg             = 5106
	TagPreUnTransFlags             = 5107
	TagPostUnTransFlags            = 5108
)

// RPMSCRIPT_FLAG_* (lib/rpmscript.h): what rpm does to a body before it
// runs it, and whether its failure fails the transaction.
var scriptFlagNames = []struct {
	bit  uint32
	name string
}{{1 << 0, "expand"}, {1 << 1, "qformat"}, {1 << 2, "critical"}}

// RPMSENSE_* bits of a trigger condition's flags (include/rpm/rpmds.h).
const (
	senseLess    = 1 << 1
	senseGreater = 1 << 2
	senseEqual   = 1 << 3
	senseMask    = 15
	senseIn      = 1 << 16
	senseUn      = 1 << 17
	sensePostUn  = 1 << 18
	sensePreIn   = 1 << 25
)

// Flags that make the text rpm runs differ from the text it recorded.
const (
	ScriptExpand  = 1 << 0 // RPMSCRIPT_FLAG_EXPAND: rpm expands macros in the body before it runs it
	ScriptQFormat = 1 << 1 // RPMSCRIPT_FLAG_QFORMAT: and then query-format tags of the header
)

// plainScripts are the scriptlets rpm keeps one of each, in the order
// rpm -q --scripts prints them (rpmpopt's --scripts alias), with their
// interpreter and flags tags (lib/rpmscript.c's scriptInfo).
var plainScripts = []struct {
	kind                 string
	body, prog, flagsTag int32
}{
	{"pretrans", TagPreTrans, TagPreTransProg, TagPreTransFlags},
	{"pre", TagPreIn, TagPreInProg, TagPreInFlags},
	{"post", TagPostIn, TagPostInProg, TagPostInFlags},
	{"preun", TagPreUn, TagPreUnProg, TagPreUnFlags},
	{"postun", TagPostUn, TagPostUnProg, TagPostUnFlags},
	{"posttrans", TagPostTrans, TagPostTransProg, TagPostTransFlags},
	{"preuntrans", TagPreUnTrans, TagPreUnTransProg, TagPreUnTransFlags},
	{"postuntrans", TagPostUnTrans, TagPostUnTransProg, TagPostUnTransFlags},
	{"verifyscript", TagVerifyScript, TagVerifyScriptProg, TagVerifyScriptFlags},
}

// triggerSets are rpm's three kinds of trigger (lib/rpmscript.c's
// rpmScriptFromTriggerTag, lib/tagexts.c's triggercondsTagFor).
var triggerSets = []struct {
	prefix                            string // of the kind: trigger, filetrigger, transfiletrigger
	scripts, prog, flags, priorities  int32
	names, versions, senses, indexTag int32
}{
	{"trigger", TagTriggerScripts, TagTriggerScriptProg, TagTriggerScriptFlags, 0,
		TagTriggerName, TagTriggerVersion, TagTriggerFlags, TagTriggerIndex},
	{"filetrigger", TagFileTriggerScripts, TagFileTriggerScriptProg, TagFileTriggerScriptFlags, TagFileTriggerPriorities,
		TagFileTriggerName, TagFileTriggerVersion, TagFileTriggerFlags, TagFileTriggerIndex},
	{"transfiletrigger", TagTransFileTriggerScripts, TagTransFileTriggerScriptProg, TagTransFileTriggerScriptFlags, TagTransFileTriggerPriorities,
		TagTransFileTriggerName, TagTransFileTriggerVersion, TagTransFileTriggerFlags, TagTransFileTriggerIndex},
}

// Scriptlet is one script of a package's header that rpm runs by itself.
type Scriptlet struct {
	// Kind: pretrans, pre, post, preun, postun, posttrans, preuntrans,
	// postuntrans, verifyscript; trigger, filetrigger or transfiletrigger
	// followed by prein, in, un or postun (rpm's TRIGGERTYPE: the sense
	// of the first condition that names the script; no suffix when none
	// does).
	Kind string
	// Prog is the interpreter and its arguments as recorded; nil when
	// the header records none, and rpm runs the body with /bin/sh.
	Prog []string
	// Body is the text as recorded; HasBody is false when the header
	// has none (a `-p` program run without a script).
	Body    string
	HasBody bool
	// Flags are the RPMSCRIPT_FLAG_* recorded for it.
	Flags uint32
	// Conditions of a trigger, as rpm -q --triggers prints each: `name`,
	// or `name op version` for a package trigger with a version; a file
	// trigger's are path prefixes.
	Conditions []string
	// Priority of a file trigger; HasPriority is false for others, and
	// for a file trigger whose priority the header lacks (rpm then
	// sorts it as 0).
	Priority    uint32
	HasPriority bool
	// Index is a trigger's script number (its place in the SCRIPTS
	// array, which conditions name with INDEX).
	Index int
	// Damage says where the header's arrays disagree, and what rpm then
	// does with this script.
	Damage []string

	trigger bool
}

// Interpreter is the program and arguments rpm starts for the scriptlet
// (rpmScriptRun): the recorded one, /bin/sh for a plain scriptlet that
// records none, and nothing for a trigger script without one, which rpm
// does not run (rpmScriptFromTriggerTag). `<lua>` is rpm's embedded Lua.
func (s Scriptlet) Interpreter() []string {
	if s.Prog == nil && !s.trigger {
		return []string{"/bin/sh"}
	}
	return s.Prog
}

func (s *Scriptlet) damage(format string, args ...any) {
	s.Damage = append(s.Damage, fmt.Sprintf(format, args...))
}

// FlagNames are the scriptlet's flags by name (expand, qformat,
// critical), unknown bits in hex.
func (s Scriptlet) FlagNames() []string {
	var out []string
	rest := s.Flags
	for _, f := range scriptFlagNames {
		if rest&f.bit != 0 {
			out = append(out, f.name)
			rest &^= f.bit
		}
	}
	if rest != 0 {
		out = append(out, fmt.Sprintf("0x%x", rest))
	}
	return out
}

// Scriptlets lists every script the header holds, as rpm finds them: a
// plain scriptlet when its text or its interpreter tag is there
// (rpmScriptFromTag), then each trigger script with the conditions that
// name it. Arrays that disagree (a condition naming a script that is not
// there, fewer interpreters than scripts) do not stop the list: each
// script is returned with its damage, and a condition without its script
// is a Scriptlet of its own with no body.
func (h *Header) Scriptlets() []Scriptlet {
	var out []Scriptlet
	for _, p := range plainScripts {
		if !h.Has(p.body) && !h.Has(p.prog) {
			continue
		}
		s := Scriptlet{Kind: p.kind, Prog: h.Strings(p.prog)}
		s.Body, s.HasBody = h.text(p.body, &s)
		if e, ok := h.Get(p.prog); ok && !isString(e.Type) {
			s.damage("its interpreter tag %d has type %d, not a string: rpm runs it with /bin/sh", p.prog, e.Type)
		}
		s.Flags = at(h.flags(p.flagsTag, &s), 0)
		out = append(out, s)
	}
	for _, t := range triggerSets {
		out = append(out, h.triggers(t.prefix, t.scripts, t.prog, t.flags, t.priorities, t.names, t.versions, t.senses, t.indexTag)...)
	}
	return out
}

// text is a string tag's value as rpm's headerGetString reads it: none
// for a tag of another type.
func (h *Header) text(tag int32, s *Scriptlet) (string, bool) {
	e, ok := h.Get(tag)
	if !ok {
		return "", false
	}
	if e.Type != TypeString && e.Type != TypeI18NString {
		s.damage("its text tag %d has type %d, not STRING: rpm reads no text", tag, e.Type)
		return "", false
	}
	return h.String(tag), true
}

// flags are the values of an INT32 flags tag: none when there is none, as
// rpm's headerGetNumber and rpmtdGetNumber give (0 for each script).
func (h *Header) flags(tag int32, s *Scriptlet) []int32 {
	e, ok := h.Get(tag)
	if !ok {
		return nil
	}
	v := h.Int32s(tag)
	if v == nil && s != nil {
		s.damage("its flags tag %d has type %d, not INT32: rpm reads none", tag, e.Type)
	}
	return v
}

// at is value i of a flags array, 0 past its end.
func at(v []int32, i int) uint32 {
	if i < len(v) {
		return uint32(v[i])
	}
	return 0
}

// triggers lists one kind of trigger: a Scriptlet per script, with the
// conditions whose index names it, and one per condition whose index
// names no script.
func (h *Header) triggers(prefix string, scriptsTag, progTag, flagsTag, prioTag, namesTag, versionsTag, sensesTag, indexTag int32) []Scriptlet {
	scripts, progs := h.Strings(scriptsTag), h.Strings(progTag)
	names, versions := h.Strings(namesTag), h.Strings(versionsTag)
	senses, index := h.Int32s(sensesTag), h.Int32s(indexTag)
	prios, flags := h.Int32s(prioTag), h.flags(flagsTag, nil)
	if len(scripts) == 0 && len(names) == 0 {
		return nil
	}
	out := make([]Scriptlet, len(scripts))
	for i := range scripts {
		s := &out[i]
		s.Kind, s.Index, s.Body, s.HasBody, s.trigger = prefix, i, scripts[i], true, true
		if i < len(progs) {
			s.Prog = []string{progs[i]}
		} else {
			s.damage("the header records %d interpreters for %d scripts: rpm does not run script %d", len(progs), len(scripts), i)
		}
		s.Flags = at(flags, i)
		if e, ok := h.Get(flagsTag); ok && flags == nil {
			s.damage("its flags tag %d has type %d, not INT32: rpm reads none", flagsTag, e.Type)
		}
		if prioTag != 0 && i < len(prios) {
			s.Priority, s.HasPriority = uint32(prios[i]), true
		}
	}
	var orphans []Scriptlet
	for j, name := range names {
		// rpm assumes the arrays of the conditions match (tagexts.c:
		// "flag and version arrays match name array size always") and
		// reads past the end of a shorter one
		if j >= len(versions) || j >= len(senses) || j >= len(index) {
			o := Scriptlet{Kind: prefix, Index: -1, Conditions: []string{name}, trigger: true}
			o.damage("condition %d (%q) lacks its version, flags or script index (%d versions, %d flags, %d indexes for %d names): what rpm does with it is undefined",
				j, name, len(versions), len(senses), len(index), len(names))
			orphans = append(orphans, o)
			continue
		}
		ix := int64(uint32(index[j]))
		cond := condition(name, uint32(senses[j]), versions[j])
		kind := prefix + senseKind(uint32(senses[j]))
		if ix >= int64(len(scripts)) {
			o := Scriptlet{Kind: kind, Index: int(ix), Conditions: []string{cond}, trigger: true}
			o.damage("condition %q names script %d of %d: rpm runs nothing for it", cond, ix, len(scripts))
			orphans = append(orphans, o)
			continue
		}
		s := &out[ix]
		if len(s.Conditions) == 0 {
			s.Kind = kind
		} else if kind != s.Kind {
			s.damage("condition %q is a %s, the first a %s: rpm runs the script for each", cond, kind, s.Kind)
		}
		s.Conditions = append(s.Conditions, cond)
	}
	for i := range out {
		if len(out[i].Conditions) == 0 {
			out[i].damage("no condition names script %d: rpm never runs it", i)
		}
	}
	return append(out, orphans...)
}

// senseKind is the trigger type rpm's triggertypeTagFor gives a
// condition's flags.
func senseKind(f uint32) string {
	switch {
	case f&sensePreIn != 0:
		return "prein"
	case f&senseIn != 0:
		return "in"
	case f&senseUn != 0:
		return "un"
	case f&sensePostUn != 0:
		return "postun"
	}
	return ""
}

// condition is a trigger condition as rpm's triggercondsTagFor prints it:
// the name, with the comparison and version when the flags have one.
func condition(name string, flags uint32, version string) string {
	if flags&senseMask == 0 {
		return name
	}
	var op strings.Builder
	if flags&senseLess != 0 {
		op.WriteByte('<')
	}
	if flags&senseGreater != 0 {
		op.WriteByte('>')
	}
	if flags&senseEqual != 0 {
		op.WriteByte('=')
	}
	return name + " " + op.String() + " " + version
}
