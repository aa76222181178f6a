package pyscan

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Values: what an argument evaluates to without running the module —
// literals, names bound once to a literal, concatenation, %-formatting,
// str.format, join, and the decoders malware feeds into exec and
// os.system. What cannot be known shows as {source}.

type value struct {
	text  string
	exact bool // text is the whole value
	trunc bool // text is a prefix of the value
	str   bool // a str or bytes value
	seq   bool // a tuple or list display: items
	items []value
	via   []string // decoders applied, outermost first
}

const maxEvalDepth = 24

func unknownValue(n *node) value { return value{text: "{" + render(n) + "}"} }

// maxEvalSteps bounds the work of one evaluation (names bound to
// displays of names would otherwise multiply it: B = (B, B, B)).
const maxEvalSteps = 1024

// step counts one step of the evaluation under way; false when its work
// is used up. The first step of an evaluation starts its budget.
func (sc *scanner) step(enter bool) bool {
	if enter && sc.evalDepth == 0 {
		sc.steps = maxEvalSteps
	}
	sc.steps--
	return sc.steps >= 0
}

// eval evaluates n in ns.
func (sc *scanner) eval(n *node, ns *namespace, depth int) value {
	if n == nil || n == truncNode {
		return value{text: "{…}", trunc: true}
	}
	ok := sc.step(true)
	sc.evalDepth++
	defer func() { sc.evalDepth-- }()
	if depth > maxEvalDepth || !ok {
		return unknownValue(n)
	}
	max := sc.opts.MaxLiteral
	switch n.kind {
	case nStr:
		if n.str.fstr {
			return value{text: string(n.str.value), str: true, trunc: n.str.truncated}
		}
		return value{text: string(n.str.value), exact: true, str: true, trunc: n.str.truncated}
	case nNum:
		return value{text: strings.TrimRight(n.op, "lL"), exact: true}
	case nConst:
		return value{text: n.op, exact: true}
	case nName:
		if v, vns := sc.constValue(ns, n.op); v != nil {
			r := sc.eval(v, vns, depth+1)
			if r.exact || r.seq {
				return r
			}
		}
		return unknownValue(n)
	case nTuple, nList:
		v := value{seq: true, exact: true}
		for _, k := range n.kids {
			if k.kind == nStarred {
				return unknownValue(n)
			}
			it := sc.eval(k, ns, depth+1)
			v.items = append(v.items, it)
			v.exact = v.exact && it.exact
			v.trunc = v.trunc || it.trunc
		}
		v.text = render(n)
		return v
	case nBinOp:
		if len(n.kids) != 2 {
			break
		}
		l, r := sc.eval(n.kids[0], ns, depth+1), sc.eval(n.kids[1], ns, depth+1)
		switch {
		case n.op == "+" && l.seq && r.seq:
			out := value{seq: true, exact: l.exact && r.exact, items: append(append([]value{}, l.items...), r.items...), text: render(n)}
			return out
		case n.op == "+" && (l.str || r.str) && !l.seq && !r.seq:
			return concat(max, l, r)
		case n.op == "%" && l.str && l.exact:
			var args []value
			if r.seq {
				args = r.items
			} else {
				args = []value{r}
			}
			return percentFormat(max, l, args)
		}
	case nSubscript:
		if len(n.kids) == 2 {
			// [::-1] reverses a literal; [0] of an encoder's (text, n) result
			base := sc.eval(n.kids[0], ns, depth+1)
			if s := n.kids[1]; s.kind == nSlice && base.exact && base.str && !base.trunc && isReverse(s) {
				b := []byte(base.text)
				for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
					b[i], b[j] = b[j], b[i]
				}
				return value{text: string(b), exact: true, str: true, via: base.via}
			}
			if s := n.kids[1]; s.kind == nNum && s.op == "0" && n.kids[0].kind == nCall && sc.isEncoderCall(n.kids[0], ns) {
				return sc.eval(n.kids[0].kids[1], ns, depth+1)
			}
		}
	case nCall:
		return sc.evalCall(n, ns, depth)
	}
	return unknownValue(n)
}

func isReverse(s *node) bool {
	return len(s.kids) == 3 && s.kids[0].kind == nNone && s.kids[1].kind == nNone &&
		s.kids[2].kind == nUnary && s.kids[2].op == "-" && len(s.kids[2].kids) == 1 && s.kids[2].kids[0].op == "1"
}

// isEncoderCall: codecs.getencoder(enc)(x), whose [0] is x encoded.
func (sc *scanner) isEncoderCall(call *node, ns *namespace) bool {
	if len(call.kids) != 2 || call.kids[0].kind != nCall || len(call.kids[0].kids) < 1 {
		return false
	}
	return sc.calleeOf(call.kids[0].kids[0], ns) == "codecs.getencoder"
}

func concat(max int, vs ...value) value {
	out := value{exact: true, str: true}
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v.text)
		out.exact = out.exact && v.exact && !v.trunc
		out.trunc = out.trunc || v.trunc
	}
	out.text = b.String()
	if len(out.text) > max {
		out.text, out.trunc = out.text[:max], true
	}
	if out.trunc {
		out.exact = false
	}
	return out
}

// percentFormat applies printf-style formatting (%s, %r, %d, %i, %%).
func percentFormat(max int, f value, args []value) value {
	var b strings.Builder
	exact := true
	ai := 0
	s := f.text
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		for j < len(s) && strings.IndexByte("-+ #0123456789.", s[j]) >= 0 {
			j++
		}
		if j >= len(s) {
			b.WriteString(s[i:])
			break
		}
		switch s[j] {
		case '%':
			b.WriteByte('%')
		case 's', 'r', 'd', 'i', 'x', 'o', 'f', 'g', 'c', 'u':
			if ai >= len(args) {
				return value{text: f.text, str: true}
			}
			a := args[ai]
			ai++
			if s[j] == 'r' && a.exact && a.str {
				b.WriteString("'" + a.text + "'")
			} else {
				b.WriteString(a.text)
			}
			exact = exact && a.exact
		default:
			return value{text: f.text, str: true}
		}
		i = j
	}
	out := value{text: b.String(), exact: exact && !f.trunc, str: true, trunc: f.trunc}
	if len(out.text) > max {
		out.text, out.trunc, out.exact = out.text[:max], true, false
	}
	return out
}

// strFormat applies str.format with positional and keyword arguments.
func strFormat(max int, f value, args []value, kw map[string]value) value {
	var b strings.Builder
	exact := !f.trunc
	auto := 0
	s := f.text
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '{' && i+1 < len(s) && s[i+1] == '{' || c == '}' && i+1 < len(s) && s[i+1] == '}' {
			b.WriteByte(c)
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return value{text: f.text, str: true}
		}
		field := s[i+1 : i+end]
		if k := strings.IndexAny(field, ":!"); k >= 0 {
			field = field[:k]
		}
		var a value
		switch {
		case field == "":
			if auto >= len(args) {
				return value{text: f.text, str: true}
			}
			a = args[auto]
			auto++
		case field[0] >= '0' && field[0] <= '9':
			idx, err := strconv.Atoi(field)
			if err != nil || idx >= len(args) {
				return value{text: f.text, str: true}
			}
			a = args[idx]
		default:
			v, ok := kw[field]
			if !ok {
				return value{text: f.text, str: true}
			}
			a = v
		}
		b.WriteString(a.text)
		exact = exact && a.exact
		i += end
	}
	out := value{text: b.String(), exact: exact, str: true, trunc: f.trunc}
	if len(out.text) > max {
		out.text, out.trunc, out.exact = out.text[:max], true, false
	}
	return out
}

// evalCall evaluates the calls whose result is known from a literal
// argument: decoders, conversions, joins and formatting.
func (sc *scanner) evalCall(n *node, ns *namespace, depth int) value {
	if len(n.kids) == 0 {
		return unknownValue(n)
	}
	fn := n.kids[0]
	var pos []*node
	kw := map[string]*node{}
	for _, a := range n.kids[1:] {
		switch a.kind {
		case nKeyword:
			if len(a.kids) > 0 {
				kw[a.op] = a.kids[0]
			}
		case nStarred, nDStar:
			return unknownValue(n)
		default:
			pos = append(pos, a)
		}
	}
	ev := func(k *node) value { return sc.eval(k, ns, depth+1) }
	max := sc.opts.MaxLiteral
	// methods of a value: x.decode(...), sep.join(...), fmt.format(...)
	if fn.kind == nAttr && len(fn.kids) == 1 {
		recv := fn.kids[0]
		switch fn.op {
		case "decode", "encode":
			r := ev(recv)
			if !r.str {
				break
			}
			enc := "utf-8"
			if len(pos) > 0 {
				e := ev(pos[0])
				if !e.exact {
					return unknownValue(n)
				}
				enc = e.text
			}
			if fn.op == "encode" && !identityCodec(enc) && normCodec(enc) != "rot13" {
				return unknownValue(n)
			}
			return decodeWith(max, r, enc, "."+fn.op+"('"+enc+"')")
		case "join":
			sep := ev(recv)
			if !sep.str || len(pos) != 1 {
				break
			}
			seq := ev(pos[0])
			if !seq.seq {
				break
			}
			parts := []value{}
			for i, it := range seq.items {
				if i > 0 {
					parts = append(parts, sep)
				}
				parts = append(parts, it)
			}
			if len(parts) == 0 {
				return value{exact: sep.exact, str: true}
			}
			return concat(max, parts...)
		case "format":
			f := ev(recv)
			if !f.str {
				break
			}
			var args []value
			for _, a := range pos {
				args = append(args, ev(a))
			}
			kws := map[string]value{}
			for k, a := range kw {
				kws[k] = ev(a)
			}
			return strFormat(max, f, args, kws)
		case "strip", "lstrip", "rstrip":
			r := ev(recv)
			if r.exact && r.str && len(pos) == 0 {
				t := map[string]func(string) string{"strip": strings.TrimSpace,
					"lstrip": func(s string) string { return strings.TrimLeft(s, " \t\n\r\f\v") },
					"rstrip": func(s string) string { return strings.TrimRight(s, " \t\n\r\f\v") }}[fn.op](r.text)
				return value{text: t, exact: true, str: true, via: r.via}
			}
		case "replace":
			r := ev(recv)
			if r.exact && r.str && len(pos) == 2 {
				a, b := ev(pos[0]), ev(pos[1])
				if a.exact && b.exact {
					return concat(max, value{text: strings.ReplaceAll(r.text, a.text, b.text), exact: true, str: true, via: r.via})
				}
			}
		}
	}
	// a conversion picked from a display: {2: str, 3: lambda b: bytes(b, 'UTF-8')}[sys.version_info[0]](x)
	if fn.kind == nSubscript && len(fn.kids) > 0 && fn.kids[0].kind == nDict && len(pos) == 1 {
		return ev(pos[0])
	}
	callee := sc.calleeOf(fn, ns)
	switch callee {
	case "str", "bytes", "bytearray", "unicode":
		if len(pos) >= 1 {
			v := ev(pos[0])
			if v.str {
				return v
			}
		}
	case "codecs.decode", "codecs.encode":
		if len(pos) >= 2 || len(pos) == 1 && kw["encoding"] != nil {
			var encNode *node
			if len(pos) >= 2 {
				encNode = pos[1]
			} else {
				encNode = kw["encoding"]
			}
			e := ev(encNode)
			if !e.exact {
				return unknownValue(n)
			}
			if callee == "codecs.encode" && !identityCodec(e.text) && normCodec(e.text) != "rot13" {
				return unknownValue(n)
			}
			return decodeWith(max, ev(pos[0]), e.text, callee)
		}
	case "os.path.join", "posixpath.join":
		var out string
		exact := true
		for _, a := range pos {
			v := ev(a)
			exact = exact && v.exact
			if strings.HasPrefix(v.text, "/") || out == "" {
				out = v.text
			} else {
				out = strings.TrimSuffix(out, "/") + "/" + v.text
			}
		}
		if exact {
			return value{text: path.Clean(out), exact: true, str: true}
		}
		return value{text: out, str: true}
	case "chr", "unichr":
		if len(pos) == 1 {
			if v := ev(pos[0]); v.exact {
				if i, err := strconv.ParseInt(v.text, 0, 32); err == nil && i >= 0 && i <= 0x10FFFF {
					return value{text: string(rune(i)), exact: true, str: true}
				}
			}
		}
	}
	if dec, ok := decoders[callee]; ok && len(pos) >= 1 {
		return applyDecoder(max, ev(pos[0]), dec, callee)
	}
	return unknownValue(n)
}

type decoder func(in []byte, truncated bool, max int) ([]byte, bool, bool)

var decoders = map[string]decoder{
	"base64.b64decode":          b64Decode(base64.StdEncoding),
	"base64.standard_b64decode": b64Decode(base64.StdEncoding),
	"base64.decodestring":       b64Decode(base64.StdEncoding),
	"base64.decodebytes":        b64Decode(base64.StdEncoding),
	"binascii.a2b_base64":       b64Decode(base64.StdEncoding),
	"base64.urlsafe_b64decode":  b64Decode(base64.URLEncoding),
	"base64.b32decode":          b32Decode,
	"base64.b16decode":          hexDecode,
	"bytes.fromhex":             hexDecode,
	"bytearray.fromhex":         hexDecode,
	"binascii.unhexlify":        hexDecode,
	"binascii.a2b_hex":          hexDecode,
	"zlib.decompress":           inflate(func(r io.Reader) (io.Reader, error) { return zlib.NewReader(r) }),
	"gzip.decompress":           inflate(func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }),
	"bz2.decompress":            inflate(func(r io.Reader) (io.Reader, error) { return bzip2.NewReader(r), nil }),
}

func applyDecoder(max int, in value, dec decoder, name string) value {
	if !in.exact && !(in.trunc && in.str) {
		return value{text: "{" + name + "(" + in.text + ")}"}
	}
	out, trunc, ok := dec([]byte(in.text), in.trunc, max)
	if !ok {
		return value{text: "{" + name + "(" + in.text + ")}"}
	}
	return value{text: string(out), exact: !trunc, trunc: trunc, str: true, via: append([]string{name}, in.via...)}
}

// b64Decode decodes as Python's b64decode does by default: characters
// outside the alphabet are discarded.
func b64Decode(enc *base64.Encoding) decoder {
	return func(in []byte, truncated bool, max int) ([]byte, bool, bool) {
		alpha := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		if enc == base64.URLEncoding {
			alpha = alpha[:62] + "-_"
		}
		var clean []byte
		for _, c := range in {
			if c == '=' {
				break
			}
			if strings.IndexByte(alpha, c) >= 0 {
				clean = append(clean, c)
			}
		}
		if truncated {
			clean = clean[:len(clean)/4*4]
		}
		if len(clean)%4 == 1 {
			return nil, false, false
		}
		out, err := enc.WithPadding(base64.NoPadding).DecodeString(string(clean))
		if err != nil {
			return nil, false, false
		}
		if len(out) > max {
			return out[:max], true, true
		}
		return out, truncated, true
	}
}

func b32Decode(in []byte, truncated bool, max int) ([]byte, bool, bool) {
	s := strings.TrimRight(string(in), "=")
	if truncated {
		s = s[:len(s)/8*8]
	}
	out, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return nil, false, false
	}
	if len(out) > max {
		return out[:max], true, true
	}
	return out, truncated, true
}

func hexDecode(in []byte, truncated bool, max int) ([]byte, bool, bool) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, string(in))
	if truncated {
		s = s[:len(s)/2*2]
	}
	out, err := hex.DecodeString(s)
	if err != nil {
		return nil, false, false
	}
	if len(out) > max {
		return out[:max], true, true
	}
	return out, truncated, true
}

func inflate(open func(io.Reader) (io.Reader, error)) decoder {
	return func(in []byte, truncated bool, max int) ([]byte, bool, bool) {
		r, err := open(bytes.NewReader(in))
		if err != nil {
			return nil, false, false
		}
		out, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
		if err != nil && len(out) == 0 {
			return nil, false, false
		}
		if len(out) > max {
			return out[:max], true, true
		}
		// a truncated input inflates to a prefix
		return out, truncated || err != nil, true
	}
}

func normCodec(enc string) string {
	e := strings.ToLower(strings.ReplaceAll(enc, "-", "_"))
	switch e {
	case "base64", "base_64", "base64_codec":
		return "base64"
	case "hex", "hex_codec":
		return "hex"
	case "rot13", "rot_13":
		return "rot13"
	case "zlib", "zip", "zlib_codec":
		return "zlib"
	case "bz2", "bz2_codec":
		return "bz2"
	}
	return e
}

func identityCodec(enc string) bool {
	switch normCodec(enc) {
	case "utf_8", "utf8", "ascii", "latin_1", "latin1", "iso8859_1", "iso_8859_1", "us_ascii", "unicode_escape_no":
		return true
	}
	return false
}

// decodeWith applies a codec by name (codecs.decode, str.decode).
func decodeWith(max int, in value, enc, name string) value {
	if identityCodec(enc) {
		return in
	}
	switch normCodec(enc) {
	case "base64":
		return applyDecoder(max, in, b64Decode(base64.StdEncoding), name)
	case "hex":
		return applyDecoder(max, in, hexDecode, name)
	case "zlib":
		return applyDecoder(max, in, decoders["zlib.decompress"], name)
	case "bz2":
		return applyDecoder(max, in, decoders["bz2.decompress"], name)
	case "rot13":
		if !in.exact && !in.trunc {
			break
		}
		b := []byte(in.text)
		for i, c := range b {
			switch {
			case c >= 'a' && c <= 'z':
				b[i] = 'a' + (c-'a'+13)%26
			case c >= 'A' && c <= 'Z':
				b[i] = 'A' + (c-'A'+13)%26
			}
		}
		return value{text: string(b), exact: in.exact, trunc: in.trunc, str: true, via: append([]string{name}, in.via...)}
	}
	return value{text: "{" + name + "(" + in.text + ")}"}
}

func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }
