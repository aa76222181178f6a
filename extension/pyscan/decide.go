package pyscan

import (
	"math"
	"strconv"
	"strings"
)

// Deciding a condition at import without running the module: literals,
// not/and/or, comparisons of constants, __name__ (never '__main__' for an
// imported module), __debug__, typing.TYPE_CHECKING (false at run time),
// sys.version_info and six.PY2/PY3 when the Python major version is known,
// and names bound once to such a value.

type tri int8

const (
	unknown tri = iota
	yes
	no
)

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

func truth(b bool) tri {
	if b {
		return yes
	}
	return no
}

type ckind uint8

const (
	cUnknown ckind = iota
	cNone
	cNum
	cStr
	cTuple
	cModName // the module's __name__: not '__main__' at import
)

type cval struct {
	kind  ckind
	num   float64
	str   string
	trunc bool
	items []cval
}

func (sc *scanner) decide(n *node, ns *namespace) tri {
	return sc.decideDepth(n, ns, 0)
}

func (sc *scanner) decideDepth(n *node, ns *namespace, depth int) tri {
	ok := sc.step(true)
	sc.evalDepth++
	defer func() { sc.evalDepth-- }()
	if n == nil || n == truncNode || depth > maxEvalDepth || !ok {
		return unknown
	}
	switch n.kind {
	case nUnary:
		if n.op == "not" && len(n.kids) == 1 {
			return sc.decideDepth(n.kids[0], ns, depth+1).not()
		}
	case nBool:
		result := yes
		if n.op == "or" {
			result = no
		}
		for _, k := range n.kids {
			t := sc.decideDepth(k, ns, depth+1)
			switch {
			case n.op == "and" && t == no:
				return no
			case n.op == "or" && t == yes:
				return yes
			case t == unknown:
				result = unknown
			}
		}
		return result
	case nNamed:
		if len(n.kids) == 2 {
			return sc.decideDepth(n.kids[1], ns, depth+1)
		}
	case nTuple, nList, nSet, nDict:
		if literalLen(n) >= 0 {
			return truth(len(n.kids) > 0)
		}
		if len(n.kids) > 0 {
			return yes
		}
	case nLambda:
		return yes
	}
	c := sc.constOf(n, ns, depth)
	return c.truth()
}

func (c cval) truth() tri {
	switch c.kind {
	case cNone:
		return no
	case cNum:
		return truth(c.num != 0)
	case cStr:
		return truth(c.str != "" || c.trunc)
	case cTuple:
		return truth(len(c.items) > 0)
	case cModName:
		return yes
	}
	return unknown
}

// constOf evaluates a constant expression.
func (sc *scanner) constOf(n *node, ns *namespace, depth int) cval {
	ok := sc.step(true)
	sc.evalDepth++
	defer func() { sc.evalDepth-- }()
	if n == nil || n == truncNode || depth > maxEvalDepth || !ok {
		return cval{}
	}
	switch n.kind {
	case nConst:
		switch n.op {
		case "None":
			return cval{kind: cNone}
		case "True":
			return cval{kind: cNum, num: 1}
		case "False":
			return cval{kind: cNum, num: 0}
		}
	case nNum:
		if f, ok := parseNum(n.op); ok {
			return cval{kind: cNum, num: f}
		}
	case nStr:
		if !n.str.fstr {
			return cval{kind: cStr, str: string(n.str.value), trunc: n.str.truncated}
		}
	case nTuple:
		c := cval{kind: cTuple}
		for _, k := range n.kids {
			if k.kind == nStarred {
				return cval{}
			}
			c.items = append(c.items, sc.constOf(k, ns, depth+1))
		}
		return c
	case nUnary:
		if len(n.kids) != 1 {
			break
		}
		switch n.op {
		case "not":
			switch sc.decideDepth(n.kids[0], ns, depth+1) {
			case yes:
				return cval{kind: cNum, num: 0}
			case no:
				return cval{kind: cNum, num: 1}
			}
		case "-", "+":
			if c := sc.constOf(n.kids[0], ns, depth+1); c.kind == cNum {
				if n.op == "-" {
					c.num = -c.num
				}
				return c
			}
		}
	case nCompare:
		return sc.compare(n, ns, depth)
	case nName:
		switch n.op {
		case "__debug__":
			return cval{kind: cNum, num: 1}
		case "__name__":
			if _, bound := sc.modNS.names["__name__"]; !bound {
				return cval{kind: cModName}
			}
		}
		if d, ok := sc.lookupAlias(ns, n.op); ok {
			return sc.constOfDotted(d)
		}
		if v, vns := sc.constValue(ns, n.op); v != nil {
			return sc.constOf(v, vns, depth+1)
		}
	case nAttr:
		if d := sc.calleeOf(n, ns); d != "" {
			return sc.constOfDotted(d)
		}
	case nSubscript:
		if len(n.kids) != 2 {
			break
		}
		base := sc.constOf(n.kids[0], ns, depth+1)
		idx := n.kids[1]
		switch {
		case base.kind == cTuple && idx.kind == nNum:
			if i, err := strconv.Atoi(idx.op); err == nil && i < len(base.items) {
				return base.items[i]
			}
		case base.kind == cTuple && idx.kind == nSlice && len(idx.kids) >= 2 && idx.kids[0].kind == nNone && idx.kids[1].kind == nNum && (len(idx.kids) == 2 || idx.kids[2].kind == nNone):
			if i, err := strconv.Atoi(idx.kids[1].op); err == nil {
				return cval{kind: cTuple, items: base.items[:min(i, len(base.items))]}
			}
		case base.kind == cStr && idx.kind == nNum && !base.trunc:
			if i, err := strconv.Atoi(idx.op); err == nil && i < len(base.str) {
				return cval{kind: cStr, str: base.str[i : i+1]}
			}
		}
	}
	return cval{}
}

// constOfDotted knows the run-time constants of a few modules.
func (sc *scanner) constOfDotted(d string) cval {
	major := sc.opts.Major
	switch d {
	case "typing.TYPE_CHECKING":
		return cval{kind: cNum, num: 0}
	case "sys.version_info":
		if major != 0 {
			// (major, minor, micro, releaselevel, serial), the rest unknown
			return cval{kind: cTuple, items: []cval{{kind: cNum, num: float64(major)}, {}, {}, {}, {}}}
		}
	case "sys.version_info.major":
		if major != 0 {
			return cval{kind: cNum, num: float64(major)}
		}
	case "sys.version":
		if major != 0 {
			return cval{kind: cStr, str: strconv.Itoa(major), trunc: true}
		}
	case "six.PY2":
		if major != 0 {
			return cval{kind: cNum, num: b2f(major == 2)}
		}
	case "six.PY3":
		if major != 0 {
			return cval{kind: cNum, num: b2f(major == 3)}
		}
	}
	return cval{}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func parseNum(s string) (float64, bool) {
	s = strings.ReplaceAll(strings.TrimRight(s, "lL"), "_", "")
	if strings.HasSuffix(s, "j") || strings.HasSuffix(s, "J") {
		return 0, false
	}
	if i, err := strconv.ParseInt(s, 0, 64); err == nil {
		return float64(i), true
	}
	if len(s) > 1 && s[0] == '0' && !strings.ContainsAny(s, ".eExXoObB") {
		// Python 2's octal
		if i, err := strconv.ParseInt(s[1:], 8, 64); err == nil {
			return float64(i), true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
		return f, true
	}
	return 0, false
}

// compare evaluates a comparison chain.
func (sc *scanner) compare(n *node, ns *namespace, depth int) cval {
	if len(n.kids) != len(n.ops)+1 {
		return cval{}
	}
	result := yes
	left := sc.constOf(n.kids[0], ns, depth+1)
	for i, op := range n.ops {
		right := sc.constOf(n.kids[i+1], ns, depth+1)
		t := compareOp(op, left, right)
		if t == no {
			return cval{kind: cNum, num: 0}
		}
		if t == unknown {
			result = unknown
		}
		left = right
	}
	if result == yes {
		return cval{kind: cNum, num: 1}
	}
	return cval{}
}

func compareOp(op string, a, b cval) tri {
	switch op {
	case "==", "!=", "<>":
		if op != "==" {
			return equal(a, b).not()
		}
		return equal(a, b)
	case "is", "is not":
		if a.kind == cNone && b.kind == cNone {
			return truth(op == "is")
		}
		if a.kind == cNone && b.kind != cUnknown && b.kind != cModName || b.kind == cNone && a.kind != cUnknown && a.kind != cModName {
			return truth(op == "is not")
		}
	case "<", "<=", ">", ">=":
		c, ok := order(a, b)
		if !ok {
			return unknown
		}
		switch op {
		case "<":
			return truth(c < 0)
		case "<=":
			return truth(c <= 0)
		case ">":
			return truth(c > 0)
		}
		return truth(c >= 0)
	case "in", "not in":
		var t tri = unknown
		switch {
		case a.kind == cStr && b.kind == cStr && !a.trunc && !b.trunc:
			t = truth(strings.Contains(b.str, a.str))
		case b.kind == cTuple:
			t = no
			for _, it := range b.items {
				switch equal(a, it) {
				case yes:
					t = yes
				case unknown:
					if t == no {
						t = unknown
					}
				}
				if t == yes {
					break
				}
			}
		}
		if op == "not in" {
			return t.not()
		}
		return t
	}
	return unknown
}

func equal(a, b cval) tri {
	if a.kind == cModName || b.kind == cModName {
		other := b
		if b.kind == cModName {
			other = a
		}
		if other.kind == cStr && other.str == "__main__" && !other.trunc {
			return no // an imported module is never __main__
		}
		return unknown
	}
	if a.kind == cUnknown || b.kind == cUnknown {
		return unknown
	}
	if a.kind != b.kind {
		return no
	}
	switch a.kind {
	case cNone:
		return yes
	case cNum:
		return truth(a.num == b.num)
	case cStr:
		if a.trunc || b.trunc {
			if !strings.HasPrefix(a.str, b.str) && !strings.HasPrefix(b.str, a.str) {
				return no
			}
			return unknown
		}
		return truth(a.str == b.str)
	case cTuple:
		if len(a.items) != len(b.items) {
			return no
		}
		result := yes
		for i := range a.items {
			switch equal(a.items[i], b.items[i]) {
			case no:
				return no
			case unknown:
				result = unknown
			}
		}
		return result
	}
	return unknown
}

// order compares two constants of one kind (tuples lexicographically,
// deciding as soon as an element decides).
func order(a, b cval) (int, bool) {
	switch {
	case a.kind == cNum && b.kind == cNum:
		switch {
		case a.num < b.num:
			return -1, true
		case a.num > b.num:
			return 1, true
		}
		return 0, true
	case a.kind == cStr && b.kind == cStr && !a.trunc && !b.trunc:
		return strings.Compare(a.str, b.str), true
	case a.kind == cTuple && b.kind == cTuple:
		for i := 0; i < len(a.items) && i < len(b.items); i++ {
			c, ok := order(a.items[i], b.items[i])
			if !ok {
				return 0, false
			}
			if c != 0 {
				return c, true
			}
		}
		switch {
		case len(a.items) < len(b.items):
			return -1, true
		case len(a.items) > len(b.items):
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
