package pyscan

import "strings"

// Code in a function body runs at import when the import calls the
// function: a plugin class or a requires_api_version can be made by a
// module-level function that the module calls. The scanner notes what each
// function body defines (classes, global names), which module-level
// functions each body calls by name, and which ones module-level code
// calls; at the end, what the functions reachable from the import define
// counts, possibly, at import.

type deferred struct {
	fn    string // the module-level function whose body does it
	class *Class // a class statement
	name  string // or a global name bound
	bind  Binding
}

type importCall struct {
	when When
	line int
}

// topFunc is the module-level function of a qualified function name
// (f.<locals>.g is inside f).
func topFunc(qual string) string {
	if i := strings.Index(qual, ".<locals>."); i >= 0 {
		return qual[:i]
	}
	return qual
}

// noteCallName records a call of a bare name: from import-time code, or
// from a function's body.
func (sc *scanner) noteCallName(name string, c wctx, line int) {
	if name == "" || strings.ContainsAny(name, ".()") {
		return
	}
	if c.fn == "" {
		if c.when.Run == Never {
			return
		}
		if sc.calledAtImport == nil {
			sc.calledAtImport = map[string]importCall{}
		}
		if _, ok := sc.calledAtImport[name]; !ok && len(sc.calledAtImport) < maxEdges {
			sc.calledAtImport[name] = importCall{when: c.when, line: sc.line(line)}
		}
		return
	}
	from := topFunc(c.fn)
	if sc.edges >= maxEdges || from == name {
		return
	}
	if sc.callEdges == nil {
		sc.callEdges = map[string]map[string]bool{}
	}
	if sc.callEdges[from] == nil {
		sc.callEdges[from] = map[string]bool{}
	}
	if !sc.callEdges[from][name] {
		sc.callEdges[from][name] = true
		sc.edges++
	}
}

// isModuleFunc reports a module-level def of that name.
func (sc *scanner) isModuleFunc(name string) bool {
	for _, b := range sc.mod.Globals[name] {
		if b.Kind == BindDef {
			return true
		}
	}
	return false
}

// addReachable adds what the functions the import calls define.
func (sc *scanner) addReachable() {
	if len(sc.deferred) == 0 {
		return
	}
	reach := map[string]importCall{}
	var queue []string
	for name, ic := range sc.calledAtImport {
		if sc.isModuleFunc(name) {
			reach[name] = ic
			queue = append(queue, name)
		}
	}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for g := range sc.callEdges[f] {
			if _, ok := reach[g]; !ok && sc.isModuleFunc(g) {
				reach[g] = reach[f]
				queue = append(queue, g)
			}
		}
	}
	for _, d := range sc.deferred {
		ic, ok := reach[d.fn]
		if !ok {
			continue
		}
		w := combine(ic.when, Possible, "when "+d.fn+"() runs (reached from the import's call on line "+itoa(ic.line)+")")
		if d.class != nil {
			c := *d.class
			if c.When.Run != Certain {
				w = combine(w, c.When.Run, c.When.Cond)
			}
			c.When = w
			sc.mod.Classes = append(sc.mod.Classes, c)
			continue
		}
		b := d.bind
		if b.When.Run != Certain {
			w = combine(w, b.When.Run, b.When.Cond)
		}
		b.When = w
		if bs := sc.mod.Globals[d.name]; len(bs) < maxBindings && (bs != nil || len(sc.mod.Globals) < maxGlobalNames) {
			sc.mod.Globals[d.name] = append(bs, b)
		}
	}
}
